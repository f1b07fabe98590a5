"""Layer `identity`: identity graph, unified persons and accounts, person-to-account links."""
