"""Scoring helpers shared by the scoring assets and the config simulation."""
