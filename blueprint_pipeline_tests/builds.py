"""Builds through the command line, in a subprocess, for the end-to-end suites."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import dagster as dg
import sqlalchemy as sa

from blueprint_pipeline.core.paths import PROJECT_DIR, SQL_PROJECT_DIR
from blueprint_pipeline.core.run_facts import AS_OF_TAG
from blueprint_pipeline.resources import BlueprintConfigResource, load_config
from blueprint_pipeline.scoring import tables
from blueprint_pipeline.sql_models.project import load_project
from blueprint_pipeline.sql_models.runner import build_model


def cli(*args: str, env: dict) -> subprocess.CompletedProcess:
    """`blueprint <args>`, which must succeed (its output's tail is the failure message)."""
    done = subprocess.run(
        [sys.executable, "-m", "blueprint_pipeline.runtime.cli", *args],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done


def stop_process_groups(processes: list[subprocess.Popen]) -> None:
    """SIGTERM each process's group (started with start_new_session), then SIGKILL any still there
    after 30 s."""
    for process in processes:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


def build_env(folder: Path, warehouse) -> dict[str, str]:
    """A clean environment for one build: its warehouse, its own files under `folder`, and the
    project's SQLite instance there (none of the caller's BLUEPRINT_, DAGSTER_ or CELERY_ settings)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BLUEPRINT_", "DAGSTER_", "CELERY_"))}
    env |= {
        "DAGSTER_HOME": str(PROJECT_DIR),
        "BLUEPRINT_DAGSTER_STORAGE": str(folder / "dagster"),
        "BLUEPRINT_ACTIVATION_DIR": str(folder / "activation"),
        "BLUEPRINT_MAILBOX_DIR": str(folder / "mailbox"),
        "BLUEPRINT_REPORTS_DIR": str(folder / "reports"),
        "BLUEPRINT_MODELS_DIR": str(folder / "models"),
        "BLUEPRINT_TRACKING_SECRET": "end-to-end-tests",
        "BLUEPRINT_WAREHOUSE_URL": getattr(warehouse, "url", None) or f"duckdb:///{warehouse.path}",
    }
    if hasattr(warehouse, "schema_name"):
        env["BLUEPRINT_WAREHOUSE_SCHEMA"] = warehouse.schema_name
    return env


def postgres_instance_env(server_url: str, database: str) -> dict[str, str]:
    """The settings of the project's PostgreSQL Dagster instance (deploy/postgres) in `database`."""
    url = sa.make_url(server_url)
    return {
        "DAGSTER_HOME": str(PROJECT_DIR / "deploy" / "postgres"),
        "DAGSTER_PG_USERNAME": url.username or "postgres",
        "DAGSTER_PG_PASSWORD": url.password or "",
        "DAGSTER_PG_HOST": url.host or "127.0.0.1",
        "DAGSTER_PG_DB": database,
    }


def materialized(
    assets: list, warehouse, config_dir: Path, as_of: str, instance=None
) -> dg.ExecuteInProcessResult:
    """Assets built in process on `warehouse` with the config in `config_dir`, at `as_of`; the
    run must succeed."""
    result = dg.materialize(
        assets,
        resources={
            "warehouse": warehouse,
            "blueprint_config": BlueprintConfigResource(config_dir=str(config_dir)),
        },
        tags={AS_OF_TAG: as_of},
        instance=instance,
    )
    assert result.success
    return result


def day_sums(warehouse, config_dir: Path | None = None) -> None:
    """person_activity_days built from the int_person_activities a test wrote, with the scoring
    rules of the config in `config_dir` (the shipped defaults without one), as a build makes them."""
    scoring = load_config(config_dir).config.scoring
    with warehouse.transaction() as session:
        session.replace_table("scoring_points", tables.points(scoring))
        session.replace_table("scoring_settings", tables.settings(scoring))
    project = load_project(SQL_PROJECT_DIR)
    built = build_model(
        warehouse, project, project.models["person_activity_days"], as_of=datetime(2026, 1, 1),
        config_version="test", full_refresh=True,
    )  # fmt: skip
    assert built.published
