"""Open, click and unsubscribe tracking for journey emails (docs/journeys.md#tracking)."""
