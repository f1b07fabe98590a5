"""Layer `governance`: retention and deletion requests (issue 9)."""
