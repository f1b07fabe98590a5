"""Dagster's instance storage in PostgreSQL (deploy/postgres/dagster.yaml), against the local server."""

from __future__ import annotations

import dagster as dg
import pytest

from blueprint_pipeline.core.paths import PROJECT_DIR
from blueprint_pipeline.runtime.postgres_setup import create_databases
from blueprint_pipeline_tests.builds import postgres_instance_env
from blueprint_pipeline_tests.conftest import PG_URL, require_postgres

DB = "blueprint_dagster_test"


@dg.asset
def tiny_asset() -> int:
    return 1


@pytest.mark.postgres
def test_runs_are_stored_in_postgres(tmp_path, monkeypatch):
    require_postgres()
    create_databases(PG_URL, [DB])
    settings = postgres_instance_env(PG_URL, DB) | {"BLUEPRINT_DAGSTER_STORAGE": str(tmp_path)}
    for name, value in settings.items():
        monkeypatch.setenv(name, value)
    instance = dg.DagsterInstance.from_config(str(PROJECT_DIR / "deploy" / "postgres"))
    try:
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"
        result = dg.materialize([tiny_asset], instance=instance)
        assert result.success
        stored = instance.get_run_by_id(result.run_id)
        assert stored is not None and stored.is_success
        assert instance.get_latest_materialization_event(dg.AssetKey("tiny_asset")) is not None
    finally:
        instance.dispose()
