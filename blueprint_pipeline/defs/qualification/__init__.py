"""Layer `qualification`: the readiness model (issue 11)."""
