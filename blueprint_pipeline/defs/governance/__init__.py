"""Layer `governance`: retention (issue 9)."""
