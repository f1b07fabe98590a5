"""Where a loaded config came from, in the words a command's error message needs."""

from __future__ import annotations

from blueprint_pipeline.config.loader import LoadedConfig


def config_origin(loaded: LoadedConfig) -> str:
    """'the config directory <dir>' or 'the shipped defaults only (no --config given)'."""
    if loaded.directory is None:
        return "the shipped defaults only (no --config given)"
    return f"the config directory {loaded.directory}"
