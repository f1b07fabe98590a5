"""One package per layer of the asset graph; an asset's group is its package, set by
blueprint_pipeline/catalog.py (see docs/architecture.md)."""
