"""Probabilistic person matching with Splink (docs/identity.md#probabilistic-person-matching)."""
