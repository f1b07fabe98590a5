"""Production mode, on the local PostgreSQL server: warehouse and Dagster storage in
PostgreSQL, the full build of the tiny sample with the multiprocess executor and with the Celery
executor (RabbitMQ broker, two `blueprint worker` processes). Each gives exactly the tables of the
in-process build, row for row, and the same messages in its mailbox.

The sample carries hostile values (quotes, semicolons, comment markers, percent signs, Jinja and
psycopg2 placeholders) in account and person fields and in audience filters: they land verbatim,
select exactly what they say, and drop nothing."""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

from blueprint_pipeline.core.paths import PROJECT_DIR
from blueprint_pipeline.runtime.postgres_setup import create_databases
from blueprint_pipeline.warehouse import PostgresWarehouse
from blueprint_pipeline_tests.builds import build_env, cli, postgres_instance_env, stop_process_groups
from blueprint_pipeline_tests.conftest import PG_URL, require_postgres
from blueprint_pipeline_tests.snapshots import differences, mailbox, snapshot

pytestmark = pytest.mark.postgres
DAGSTER_DB = "blueprint_dagster_test"
AS_OF = "2026-11-25T00:00:00"
BROKER = os.environ.get("BLUEPRINT_TEST_BROKER", "pyamqp://guest:guest@127.0.0.1:5672//")


# Security: values that would change a statement built by pasting text. They travel as
# bound parameters, so they land verbatim, select exactly what they say, and every table survives.
HOSTILE_NAME = 'Robert\'); DROP TABLE unified_accounts;-- 50% \\ "q"'
HOSTILE_LAST = "O'Brien'; DELETE FROM unified_persons; --"
HOSTILE_TITLE = "VP %(x)s {{ 7*7 }} $1 /* c */"
HOSTILE_AUDIENCES = f"""
audiences:
  hostile_exact:
    filter: {{field: account_name, op: eq, value: {json.dumps(HOSTILE_NAME)}}}
  hostile_or:
    filter: {{field: account_name, op: eq, value: "x' or '1'='1"}}
"""


def _add_hostile_rows(landing: Path) -> None:
    for name, row in (
        ("Account.csv", {"Id": "001HOSTILE00001Y5A", "Name": HOSTILE_NAME, "Industry": "Software", "IsDeleted": "false"}),
        (
            "Contact.csv",
            {"Id": "003HOSTILE00001Y5A", "AccountId": "001HOSTILE00001Y5A", "FirstName": "Bobby", "LastName": HOSTILE_LAST,
             "Email": "o'brien+bobby@hostile-example.com", "Title": HOSTILE_TITLE, "IsDeleted": "false"},
        ),
    ):  # fmt: skip
        path = landing / "salesforce" / name
        with path.open(newline="") as handle:
            header = next(csv.reader(handle))
        with path.open("a", newline="") as handle:
            csv.writer(handle).writerow([row.get(column, "") for column in header])


def _env(folder: Path, schema: str, instance: str) -> dict[str, str]:
    """A clean environment for one build: its own schema, files and Dagster instance."""
    env = build_env(folder, PostgresWarehouse(url=PG_URL, schema_name=schema))
    return env | postgres_instance_env(PG_URL, DAGSTER_DB) if instance == "postgres" else env


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    require_postgres()
    create_databases(PG_URL, [DAGSTER_DB])
    root = tmp_path_factory.mktemp("production")
    landing = root / "landing"
    cli(
        "generate",
        "--scale",
        "tiny",
        "--seed",
        "3",
        "--end",
        "2026-11-20",  # before the runs' as-of
        "--out",
        str(landing),
        env=_env(root, "unused", "sqlite"),
    )
    _add_hostile_rows(landing)
    shutil.copytree(PROJECT_DIR / "examples" / "config", root / "config")
    (root / "config" / "audiences.yaml").write_text(HOSTILE_AUDIENCES)
    schemas = []

    def build(name: str, executor: str, instance: str, **extra: str) -> tuple[Path, str, dict, tuple]:
        folder, schema = root / name, f"t_{uuid.uuid4().hex[:12]}"
        schemas.append(schema)
        env = _env(folder, schema, instance) | extra
        config = str(root / "config")
        args = (
            "run",
            "--landing",
            str(landing),
            "--config",
            config,
            "--as-of",
            AS_OF,
            "--executor",
            executor,
        )
        return folder, schema, env, args

    yield landing, build
    engine = sa.create_engine(PG_URL)
    with engine.begin() as conn:
        for schema in schemas:
            conn.exec_driver_sql(f'drop schema if exists "{schema}" cascade')
    engine.dispose()


@pytest.fixture(scope="module")
def reference(setup):
    _, build = setup
    folder, schema, env, args = build("in_process", "in_process", "sqlite")
    cli(*args, env=env)
    tables = _snapshot(schema)
    _assert_hostile_values_are_only_values(tables)
    return tables, mailbox(folder / "mailbox")


def _assert_hostile_values_are_only_values(tables: dict) -> None:
    def rows(table: str, *columns: str) -> list[tuple]:
        header = tables[table][0]
        return [tuple(row[header.index(c)] for c in columns) for row in tables[table][1:]]

    assert ("001HOSTILE00001Y5A", HOSTILE_NAME) in rows("unified_accounts", "account_id", "account_name")
    assert (HOSTILE_LAST, HOSTILE_TITLE) in rows("unified_persons", "last_name", "title")
    members = rows("account_audience_members", "audience_id", "account_id")
    assert [a for aud, a in members if aud == "hostile_exact"] == ["001HOSTILE00001Y5A"]
    assert [a for aud, a in members if aud == "hostile_or"] == []
    assert len(rows("unified_accounts", "account_id")) == 41  # 40 generated and the hostile one


def _snapshot(schema: str) -> dict[str, list[tuple]]:
    return snapshot(PostgresWarehouse(url=PG_URL, schema_name=schema))


def _assert_same(reference, schema: str, folder: Path) -> None:
    tables, mails = reference
    different = differences(_snapshot(schema), tables)
    assert different == {}, (
        f"tables that differ from the in-process build (columns, rows in one only): {different}"
    )
    assert mailbox(folder / "mailbox") == mails and mails, "the same messages, none lost or doubled"


def test_multiprocess_build_on_postgres_equals_in_process(setup, reference):
    _, build = setup
    folder, schema, env, args = build("multiprocess", "multiprocess", "postgres")
    out = cli(*args, env=env).stdout
    assert "build OK" in out
    _assert_same(reference, schema, folder)


def test_celery_build_with_two_workers_equals_in_process(setup, reference):
    landing, build = setup
    queue = (
        f"blueprint-test-{uuid.uuid4().hex[:8]}"  # tasks of this test only: other runs may share the broker
    )
    folder, schema, env, args = build(
        "celery", "celery", "postgres", BLUEPRINT_CELERY_BROKER=BROKER, BLUEPRINT_CELERY_QUEUE=queue
    )
    # Workers read what `blueprint run` would set from its options.
    worker_env = env | {
        "BLUEPRINT_LANDING_DIR": str(landing),
        "BLUEPRINT_CONFIG_DIR": str(landing.parent / "config"),
        "BLUEPRINT_EXECUTOR": "celery",
    }
    logs = [folder / f"worker{i}.log" for i in (1, 2)]
    folder.mkdir(parents=True, exist_ok=True)
    workers = [
        subprocess.Popen(
            [sys.executable, "-m", "blueprint_pipeline.runtime.cli", "worker", "--name", f"w{i}-{queue}@%h"],
            env=worker_env,
            stdout=log.open("w"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        for i, log in enumerate(logs, start=1)
    ]
    try:
        out = cli(*args, env=worker_env).stdout
        assert all(w.poll() is None for w in workers), "a worker died: " + logs[0].read_text()[-2000:]
    finally:
        stop_process_groups(workers)
    assert "build OK" in out
    ran = [log.read_text().count(": started") for log in logs]
    assert all(ran), f"steps per worker {ran}: both workers took steps"
    _assert_same(reference, schema, folder)
