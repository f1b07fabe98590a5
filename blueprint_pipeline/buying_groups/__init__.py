"""Buying groups: job titles, personas and roles, members, completeness."""
