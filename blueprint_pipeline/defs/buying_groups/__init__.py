"""Layer `buying_groups`: role assignments, buying groups, completeness and engagement."""
