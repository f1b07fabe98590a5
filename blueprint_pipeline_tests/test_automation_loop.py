"""With `dagster dev` (and its daemon) up and BLUEPRINT_AUTOMATION=on, the loop runs by itself:
files land -> the landing sensor starts a build -> the journeys run -> delivery puts their emails
in the mailbox folder. Nothing here starts a run by hand.

Twice: embedded (DuckDB, the SQLite instance, steps in the run's process) and in production mode
(the warehouse and the Dagster instance in PostgreSQL, the sensor's run with the
multiprocess executor, a process per step)."""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

from blueprint_pipeline.core.paths import PROJECT_DIR
from blueprint_pipeline.generator.generate import generate
from blueprint_pipeline.generator.scales import scale_named
from blueprint_pipeline.runtime.postgres_setup import create_databases
from blueprint_pipeline_tests.builds import postgres_instance_env
from blueprint_pipeline_tests.conftest import PG_URL
from blueprint_pipeline_tests.test_ui import dagster_dev, free_port


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["embedded", pytest.param("production", marks=pytest.mark.postgres)])
def test_files_to_mailbox_without_a_hand_on_it(mode: str, tmp_path: Path, request: pytest.FixtureRequest):
    landing, mailbox = tmp_path / "landing", tmp_path / "mailbox"
    generate(landing, scale_named("tiny"), 7, force=True, report=lambda line: None)
    env = {
        **os.environ,
        "DAGSTER_HOME": str(PROJECT_DIR),
        "BLUEPRINT_DAGSTER_STORAGE": str(tmp_path / "dagster"),
        "BLUEPRINT_LANDING_DIR": str(landing),
        "BLUEPRINT_WAREHOUSE_URL": f"duckdb:///{tmp_path / 'warehouse.duckdb'}",
        "BLUEPRINT_CONFIG_DIR": str(PROJECT_DIR / "examples" / "bench-config"),  # every account enters
        "BLUEPRINT_MAILBOX_DIR": str(mailbox),
        "BLUEPRINT_AUTOMATION": "on",
    }
    if mode == "production":
        warehouse = request.getfixturevalue("postgres_warehouse")
        instance_db = f"blueprint_loop_{uuid.uuid4().hex[:8]}"  # no sensor cursor of an earlier run
        create_databases(PG_URL, [instance_db])
        request.addfinalizer(lambda: _drop_database(instance_db))
        env |= postgres_instance_env(PG_URL, instance_db) | {
            "BLUEPRINT_WAREHOUSE_URL": PG_URL,
            "BLUEPRINT_WAREHOUSE_SCHEMA": warehouse.schema_name,
            "BLUEPRINT_EXECUTOR": "multiprocess",
        }
    with dagster_dev(env, free_port()):
        # A liveness bound, not a speed test: about 2 min here alone, over 7 min on a loaded
        # two-core CI machine (three test workers, a process per step); a failed run ends the wait.
        deadline = time.monotonic() + 1200
        while time.monotonic() < deadline and not _journey_mail(mailbox) and not _failures(mailbox):
            time.sleep(2)
    emails = _journey_mail(mailbox)
    failures = _failures(mailbox)  # the run-failure sensor's
    assert failures == [], failures
    assert emails, "no email reached the mailbox within 20 minutes of dagster dev starting"
    assert "List-Unsubscribe:" in emails[0].read_text()
    if mode == "production":  # the sensor's run was stored in PostgreSQL and ran a process per step
        engine = sa.create_engine(sa.make_url(PG_URL).set(database=instance_db))
        with engine.connect() as conn:
            workers = conn.exec_driver_sql(
                "select count(*) from event_logs where dagster_event_type = 'STEP_WORKER_STARTED'"
            ).scalar()
        engine.dispose()
        assert workers > 10, f"{workers} step processes: the multiprocess executor did not run the build"


def _journey_mail(mailbox: Path) -> list[Path]:
    return [p for p in mailbox.glob("*.eml") if not p.name.startswith("run-failure-")]


def _failures(mailbox: Path) -> list[str]:
    return [p.read_text() for p in mailbox.glob("run-failure-*.eml")]


def _drop_database(name: str) -> None:
    engine = sa.create_engine(sa.make_url(PG_URL).set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql(f'drop database if exists "{name}" with (force)')
    finally:
        engine.dispose()
