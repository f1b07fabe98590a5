"""Data-quality suites (great-expectations 1.x) run as asset checks."""
