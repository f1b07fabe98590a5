"""Layer `reporting`: the implementation guide's KPIs and the stakeholder dashboard."""
