"""Layer `governance`: retention and deletion requests."""
