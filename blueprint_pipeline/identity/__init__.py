"""Identity resolution: pure functions over source records (no Dagster here)."""
