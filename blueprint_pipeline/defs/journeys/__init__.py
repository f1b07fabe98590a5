"""Layer `journeys`: enrolments, the append-only step log, the outbox; driven by sensors."""
