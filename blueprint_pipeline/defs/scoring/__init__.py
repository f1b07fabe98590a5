"""Layer `scoring`: activity kinds, engagement scores, stage models (issue 6)."""
