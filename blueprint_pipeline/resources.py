"""The resources every asset gets. Environment variables are read here and nowhere else.

`blueprint run --warehouse/--config/--landing` set these variables, so runs launched later by the
Dagster daemon or the UI (which load the definitions in a new process) see the same choices.
"""

from __future__ import annotations

import os
from functools import cached_property
from pathlib import Path

import dagster as dg

from blueprint_pipeline.config import LoadedConfig, load_config
from blueprint_pipeline.paths import DEFAULT_LANDING_DIR
from blueprint_pipeline.warehouse import Warehouse, warehouse_from_url

WAREHOUSE_URL_ENV = "BLUEPRINT_WAREHOUSE_URL"
WAREHOUSE_SCHEMA_ENV = "BLUEPRINT_WAREHOUSE_SCHEMA"
CONFIG_DIR_ENV = "BLUEPRINT_CONFIG_DIR"
LANDING_DIR_ENV = "BLUEPRINT_LANDING_DIR"


def warehouse_from_env() -> Warehouse:
    """The warehouse named by BLUEPRINT_WAREHOUSE_URL (default: the project's DuckDB file)."""
    return warehouse_from_url(os.environ.get(WAREHOUSE_URL_ENV), os.environ.get(WAREHOUSE_SCHEMA_ENV))


class BlueprintConfigResource(dg.ConfigurableResource):
    """The validated config: the shipped defaults overridden by `config_dir` (or BLUEPRINT_CONFIG_DIR)."""

    config_dir: str | None = None

    @cached_property
    def loaded(self) -> LoadedConfig:
        return load_config(self.config_dir or os.environ.get(CONFIG_DIR_ENV) or None)


class LandingResource(dg.ConfigurableResource):
    """The landing directory with one folder per source system (or BLUEPRINT_LANDING_DIR)."""

    path: str | None = None

    @property
    def root(self) -> Path:
        return Path(self.path or os.environ.get(LANDING_DIR_ENV) or DEFAULT_LANDING_DIR)
