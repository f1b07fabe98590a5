"""The readiness model: training set, model, readiness scores (docs/qualification.md)."""
