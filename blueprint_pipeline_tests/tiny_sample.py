"""The tiny sample and one uninterrupted build of it per engine, made once per test session and
shared by the suites that compare with it (reliability's fault and concurrency files, the
figures-agree test) or start from it (a copy of the DuckDB build's folder: the CLI's rerun, the
forget suite): xdist runs them in different workers, so the first worker to need one makes it
under a file lock, the others read what it left. The root conftest registers the fixtures."""

from __future__ import annotations

import fcntl
import json
import os
import pickle
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from blueprint_pipeline.alerts.send import fill, prepare
from blueprint_pipeline.core.paths import PROJECT_DIR
from blueprint_pipeline.resources import load_config
from blueprint_pipeline.warehouse import DuckDBWarehouse, PostgresWarehouse, SparkWarehouse
from blueprint_pipeline.warehouse.writes import WRITE_LOG_ENV
from blueprint_pipeline_tests.builds import build_env
from blueprint_pipeline_tests.snapshots import files, mailbox, snapshot

AS_OF = "2026-11-25T00:00:00"
CONFIG = str(PROJECT_DIR / "examples" / "config")


def start_build(landing: Path, env: dict) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "blueprint_pipeline.runtime.cli", "run", "--landing", str(landing), "--config", CONFIG,
         "--as-of", AS_OF],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def build(landing: Path, env: dict) -> str:
    return _build_with_progress(landing, env)[0]


def _build_with_progress(landing: Path, env: dict) -> tuple[str, str]:
    """The build's summary (stdout) and its progress lines (stderr)."""
    process = start_build(landing, env)
    # A Spark build of the tiny sample takes ~3.5 min alone and three times that under the whole
    # suite's load on two cores.
    out, err = process.communicate(timeout=2400)
    assert process.returncode == 0, out[-2000:] + err[-3000:]
    return out, err


@pytest.fixture(scope="session")
def shared(tmp_path_factory) -> Path:
    """A folder every worker of this test session sees (xdist gives each worker a base folder of
    its own, inside the session's)."""
    base = tmp_path_factory.getbasetemp()
    folder = (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "reliability-shared"
    folder.mkdir(exist_ok=True)
    return folder


@contextmanager
def _one_at_a_time(lock: Path) -> Iterator[None]:
    with lock.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)  # released when the file closes
        yield


@pytest.fixture(scope="session")
def landing(shared) -> Path:
    folder = shared / "landing"
    with _one_at_a_time(shared / "landing.lock"):
        if not (shared / "landing.done").exists():
            env = {k: v for k, v in os.environ.items() if not k.startswith("BLUEPRINT_")}
            subprocess.run(
                [sys.executable, "-m", "blueprint_pipeline.runtime.cli", "generate", "--scale", "tiny", "--seed", "3",
                 "--end", "2026-11-20", "--out", str(folder), "--force"],
                env=env, check=True, capture_output=True,
            )  # fmt: skip
            (shared / "landing.done").touch()
    return folder


def _alerts(warehouse) -> dict[str, str]:
    """The sales alert each buying group would get (text body), made as every alert is made
    (alerts/send.py): a first build fires none, its rules starting quiet."""
    config = load_config(CONFIG).config
    with warehouse.transaction() as session:
        ids = [g for (g,) in session.fetchall("select buying_group_id from buying_groups")]
        facts, territory = prepare(session, config, ids, datetime.fromisoformat(AS_OF))
    return {
        group: fill({}, fact, territory.get(fact["account"]["id"]), config, "figures", "none")["body_text"]
        for group, fact in facts.items()
    }


def _built(shared: Path, landing: Path, kind: str) -> dict:
    """One uninterrupted build on `kind` (duckdb, postgres, spark): its tables, mailbox, activation files,
    summary, progress lines, reports and the alert each group would get. The DuckDB and Spark
    builds' folders stay, for `uninterrupted_copy` and the comparison of the two engines."""
    from blueprint_pipeline_tests.conftest import PG_URL  # the conftest registers this module's fixtures

    kept = shared / f"uninterrupted-{kind}.pickle"
    with _one_at_a_time(shared / f"uninterrupted-{kind}.lock"):
        if not kept.exists():
            folder = shared / f"uninterrupted-{kind}"
            target = {
                "duckdb": lambda: DuckDBWarehouse(path=str(folder / "w.duckdb")),
                "spark": lambda: spark_warehouse_in(folder),
                "postgres": lambda: PostgresWarehouse(url=PG_URL, schema_name=f"t_{uuid.uuid4().hex[:12]}"),
            }[kind]()
            try:
                log = folder / "writes.jsonl"
                env = {**build_env(folder, target), WRITE_LOG_ENV: str(log)}
                summary, progress = _build_with_progress(landing, env)
                outputs = {
                    "tables": snapshot(target),
                    "mails": mailbox(folder / "mailbox"),
                    "activation": files(folder / "activation"),
                    "summary": summary,
                    "progress": progress,
                    "reports": files(folder / "reports"),
                    "alerts": _alerts(target),
                    "writes": [json.loads(line) for line in log.read_text().splitlines()],
                }
                kept.write_bytes(pickle.dumps(outputs))
            finally:
                if kind == "postgres":
                    engine = sa.create_engine(PG_URL)
                    with engine.begin() as conn:
                        conn.exec_driver_sql(f'drop schema if exists "{target.schema_name}" cascade')
                    engine.dispose()
    return pickle.loads(kept.read_bytes())


def spark_warehouse_in(folder: Path) -> SparkWarehouse:
    """The Spark warehouse (local mode, 2 cores) of a build whose files are under `folder`."""
    return SparkWarehouse(master="local[2]", path=str(folder / "spark-warehouse"))


@pytest.fixture(scope="session")
def uninterrupted(landing, shared):
    """The tables, mailbox and activation files of one uninterrupted build, per engine:
    `uninterrupted(warehouse)`."""

    def of(warehouse) -> tuple[dict, list[str], dict[str, bytes]]:
        outputs = _built(shared, landing, warehouse.dialect)
        return outputs["tables"], outputs["mails"], outputs["activation"]

    return of


@pytest.fixture(scope="session")
def uninterrupted_outputs(landing, shared):
    """Everything one uninterrupted build showed, per engine: `uninterrupted_outputs(warehouse)`,
    a dict of tables, mails, activation (files by path), summary (the build's output), progress
    (its progress lines), reports (dashboard.html, sales_handoff.csv), alerts (buying_group_id
    -> the alert's text) and writes (every table write, by step: warehouse/writes.py)."""

    def of(warehouse) -> dict:
        return _built(shared, landing, warehouse.dialect)

    return of


@pytest.fixture(scope="session")
def uninterrupted_copy(landing, shared):
    """The uninterrupted DuckDB build, for a test to build on or change: `uninterrupted_copy(folder)`
    copies its folder into `folder` (the warehouse, w.duckdb, and the Dagster storage, activation,
    mailbox, reports and models folders, laid out as `build_env(folder, ...)` expects) and returns
    the warehouse. Copying a finished build takes a fraction of a second; making one, about 25."""

    def into(folder: Path) -> DuckDBWarehouse:
        _built(shared, landing, "duckdb")
        shutil.copytree(shared / "uninterrupted-duckdb", folder, dirs_exist_ok=True)
        return DuckDBWarehouse(path=str(folder / "w.duckdb"))

    return into
