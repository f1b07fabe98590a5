"""The fault suite (issue 12): a build killed with SIGKILL at the worst moment, then run again.

The run kills itself at a fault point (blueprint_pipeline/faults.py): in ingestion, with a file's
rows written and not committed; in a SQL model, with its new table built and not swapped in; in
journey delivery, with a message handed over and not marked sent. The next run, with the same
as-of, must leave every table exactly as one uninterrupted build does, and the mailbox must hold
each message once: none lost, none doubled. On PostgreSQL every point; on DuckDB (whose file is
recovered from its write-ahead log) the SQL model point.

Concurrent runs: two builds of the same sample started at once take turns (on PostgreSQL under
Warehouse.run_lock, on DuckDB because a run holds the file); both succeed, and the tables and
messages are those of one build.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from blueprint_pipeline.faults import FAULT_ENV
from blueprint_pipeline.paths import PROJECT_DIR
from blueprint_pipeline.warehouse import DuckDBWarehouse
from blueprint_pipeline_tests.snapshots import differences, mailbox, snapshot

AS_OF = "2026-11-25T00:00:00"
CONFIG = str(PROJECT_DIR / "examples" / "config")


def _env(folder: Path, warehouse) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BLUEPRINT_", "DAGSTER_"))}
    env |= {
        "DAGSTER_HOME": str(PROJECT_DIR),
        "BLUEPRINT_DAGSTER_STORAGE": str(folder / "dagster"),
        "BLUEPRINT_ACTIVATION_DIR": str(folder / "activation"),
        "BLUEPRINT_MAILBOX_DIR": str(folder / "mailbox"),
        "BLUEPRINT_REPORTS_DIR": str(folder / "reports"),
        "BLUEPRINT_MODELS_DIR": str(folder / "models"),
        "BLUEPRINT_TRACKING_SECRET": "fault-suite",
        "BLUEPRINT_WAREHOUSE_URL": getattr(warehouse, "url", None) or f"duckdb:///{warehouse.path}",
    }
    if hasattr(warehouse, "schema_name"):
        env["BLUEPRINT_WAREHOUSE_SCHEMA"] = warehouse.schema_name
    return env


def _run(landing: Path, env: dict) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "blueprint_pipeline.cli", "run", "--landing", str(landing), "--config", CONFIG,
         "--as-of", AS_OF],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def _build(landing: Path, env: dict) -> str:
    process = _run(landing, env)
    out, err = process.communicate(timeout=600)
    assert process.returncode == 0, out[-2000:] + err[-3000:]
    return out


@pytest.fixture(scope="module")
def landing(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("faults")
    env = {k: v for k, v in os.environ.items() if not k.startswith("BLUEPRINT_")}
    subprocess.run(
        [sys.executable, "-m", "blueprint_pipeline.cli", "generate", "--scale", "tiny", "--seed", "3",
         "--out", str(root / "landing")],
        env=env, check=True, capture_output=True,
    )  # fmt: skip
    return root / "landing"


@pytest.fixture(scope="module")
def uninterrupted(landing, tmp_path_factory):
    """The tables and mailbox of one uninterrupted build, per engine."""
    built = {}

    def of(warehouse) -> tuple[dict, list[str]]:
        kind = warehouse.dialect
        if kind not in built:
            folder = tmp_path_factory.mktemp(f"uninterrupted-{kind}")
            target = DuckDBWarehouse(path=str(folder / "w.duckdb")) if kind == "duckdb" else warehouse
            _build(landing, _env(folder, target))
            built[kind] = (snapshot(target), mailbox(folder / "mailbox"))
            if kind == "postgres":  # the reference lived in the test's schema: start the test afresh
                with warehouse.session() as session:
                    for table in session.list_tables():
                        session.execute(f'drop table "{table}"')
        return built[kind]

    return of


@pytest.mark.parametrize(
    ("point", "engine"),
    [("ingest", "postgres"), ("model", "postgres"), ("deliver", "postgres"), ("model", "duckdb")],
)
def test_a_killed_build_leaves_nothing_half_done(point, engine, landing, uninterrupted, tmp_path, request):
    warehouse = request.getfixturevalue(f"{engine}_warehouse")
    tables, mails = uninterrupted(warehouse)
    env = _env(tmp_path, warehouse)
    killed = _run(landing, env | {FAULT_ENV: point})
    out, err = killed.communicate(timeout=600)
    assert killed.returncode == -signal.SIGKILL, (
        f"the run did not reach the {point} point: {out[-1500:]}{err[-1500:]}"
    )

    again = _build(landing, env)
    assert "build OK" in again
    built = snapshot(warehouse)
    if point == "deliver":
        # The message in hand when the run died was handed over again, with its Message-ID (the
        # mailbox file is replaced; a mail system drops the copy): one more attempt, recorded.
        attempts = built["journey_outbox"][0].index("attempts")
        assert sum(int(row[attempts]) for row in built["journey_outbox"][1:]) == len(mails) + 1
        built, tables = (  # copies: `tables` is shared by the module's tests
            t | {"journey_outbox": [row[:attempts] + row[attempts + 1 :] for row in t["journey_outbox"]]}
            for t in (built, tables)
        )
    different = differences(built, tables)
    assert different == {}, f"after a kill at {point}, tables differ from an uninterrupted build: {different}"
    assert mailbox(tmp_path / "mailbox") == mails and mails, "each message once: none lost, none doubled"


@pytest.mark.parametrize("engine", ["postgres", "duckdb"])
def test_concurrent_builds_take_turns(engine, landing, uninterrupted, tmp_path, request):
    """PostgreSQL: the run lock; DuckDB: its single writing process (a run holds the file)."""
    warehouse = request.getfixturevalue(f"{engine}_warehouse")
    tables, mails = uninterrupted(warehouse)
    env = _env(tmp_path, warehouse)
    first, second = _run(landing, env), _run(landing, env)
    outcomes = [p.communicate(timeout=600) for p in (first, second)]
    assert [first.returncode, second.returncode] == [0, 0], [e[-1500:] for _, e in outcomes]
    assert any("waiting for" in err for _, err in outcomes), "one run waited for the other"
    different = differences(snapshot(warehouse), tables)
    assert different == {}, f"after two concurrent builds, tables differ from one build: {different}"
    assert mailbox(tmp_path / "mailbox") == mails, "each message once: none lost, none doubled"
