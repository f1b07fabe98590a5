"""Where the project lives on disk: the one place that knows the directory layout."""

from __future__ import annotations

from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[2]
SQL_PROJECT_DIR = PROJECT_DIR / "dbt_like_sql"
DATA_DIR = PROJECT_DIR / "data"
DEFAULT_WAREHOUSE_PATH = DATA_DIR / "warehouse.duckdb"
DEFAULT_LANDING_DIR = DATA_DIR / "landing"
DAGSTER_STORAGE_DIR = DATA_DIR / "dagster"
DEFAULT_CONFIG_DIR = PROJECT_DIR / "blueprint_pipeline" / "config" / "defaults"
