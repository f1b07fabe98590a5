"""One package per layer of the asset graph; `group_name` is the layer (see docs/architecture.md)."""
