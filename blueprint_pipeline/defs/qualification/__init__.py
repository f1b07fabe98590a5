"""Layer `qualification`: the readiness model."""
