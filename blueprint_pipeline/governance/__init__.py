"""Governance: which data may go where, and forgetting a person (docs/governance.md)."""
