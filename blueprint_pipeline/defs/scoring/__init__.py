"""Layer `scoring`: activity kinds, engagement scores, stage models."""
