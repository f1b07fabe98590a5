"""Pydantic-validated YAML config: one file per section, defaults shipped beside the models."""

from blueprint_pipeline.config.loader import LoadedConfig, read_config
from blueprint_pipeline.config.models import BlueprintConfig

__all__ = ["BlueprintConfig", "LoadedConfig", "read_config"]
