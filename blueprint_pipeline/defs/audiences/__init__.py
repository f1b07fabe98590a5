"""Layer `audiences`: account audiences compiled from YAML definitions."""
