"""Sales alerts: standing rules, routing and the alert's content (docs/alerts.md)."""
