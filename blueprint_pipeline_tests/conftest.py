"""Shared fixtures: a real DuckDB on tmp_path, a real PostgreSQL schema per test, and a real Spark
(local mode) over a warehouse folder on tmp_path.

PostgreSQL tests skip when the server does not answer, unless BLUEPRINT_REQUIRE_POSTGRES=1 (set by
.ci/run), which turns the skip into a failure; Spark tests skip without pyspark or Java, unless
BLUEPRINT_REQUIRE_SPARK=1 (also set by .ci/run).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa

from blueprint_pipeline.warehouse import DuckDBWarehouse, PostgresWarehouse, SparkWarehouse, Warehouse

FIXTURES = Path(__file__).parent / "fixtures"
PG_URL = os.environ.get("BLUEPRINT_TEST_PG_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/test")
REQUIRE_PG = os.environ.get("BLUEPRINT_REQUIRE_POSTGRES") == "1"
REQUIRE_SPARK = os.environ.get("BLUEPRINT_REQUIRE_SPARK") == "1"


def _pg_available() -> str | None:
    try:
        engine = sa.create_engine(PG_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.exec_driver_sql("select 1")
        engine.dispose()
        return None
    except Exception as exc:  # any failure to connect means "no server here"
        return str(exc).splitlines()[0]


def require_postgres() -> None:
    reason = _pg_available()
    if reason is None:
        return
    if REQUIRE_PG:
        pytest.fail(f"PostgreSQL required (BLUEPRINT_REQUIRE_POSTGRES=1) but unreachable: {reason}")
    pytest.skip(f"PostgreSQL unreachable at {PG_URL}: {reason}")


# The tiny sample and its uninterrupted build, shared across suites and xdist workers.
from blueprint_pipeline_tests.tiny_sample import (  # noqa: E402
    landing,
    shared,
    uninterrupted,
    uninterrupted_copy,
    uninterrupted_outputs,
)

__all__ = ["landing", "shared", "uninterrupted", "uninterrupted_copy", "uninterrupted_outputs"]


@pytest.fixture(scope="session", autouse=True)
def outputs_outside_the_checkout(tmp_path_factory) -> None:
    """Builds in a test process that name no output folders write their activation files, mail,
    reports and models under this worker's own test folder, not the checkout's data/: workers
    building at the same as-of raced over one LinkedIn list folder (a FileExistsError in CI). A
    test's own setting (monkeypatch, build_env) still wins."""
    base = tmp_path_factory.mktemp("outputs")
    for variable, folder in (
        ("BLUEPRINT_ACTIVATION_DIR", "activation"),
        ("BLUEPRINT_MAILBOX_DIR", "mailbox"),
        ("BLUEPRINT_REPORTS_DIR", "reports"),
        ("BLUEPRINT_MODELS_DIR", "models"),
    ):
        os.environ.setdefault(variable, str(base / folder))


@pytest.fixture
def duckdb_warehouse(tmp_path: Path) -> DuckDBWarehouse:
    return DuckDBWarehouse(path=str(tmp_path / "warehouse.duckdb"))


def require_spark() -> None:
    """Spark needs pyspark (the `spark` extra) and a Java runtime on the PATH or in JAVA_HOME."""
    missing = None
    if importlib.util.find_spec("pyspark") is None:
        missing = "pyspark is not installed (pip install -e '.[spark]')"
    elif not (shutil.which("java") or os.environ.get("JAVA_HOME")):
        missing = "no Java runtime (java on the PATH or JAVA_HOME)"
    if missing is None:
        return
    if REQUIRE_SPARK:
        pytest.fail(f"Spark required (BLUEPRINT_REQUIRE_SPARK=1) but {missing}")
    pytest.skip(f"Spark unavailable: {missing}")


@pytest.fixture
def spark_warehouse(tmp_path: Path) -> Warehouse:
    """A Spark warehouse in local mode (one JVM per test process, started once) on tmp_path."""
    require_spark()
    return SparkWarehouse(master="local[2]", path=str(tmp_path / "spark-warehouse"))


@contextmanager
def postgres_schema() -> Iterator[PostgresWarehouse]:
    """A PostgreSQL warehouse in a schema of its own, dropped when the block ends."""
    require_postgres()
    schema = f"t_{uuid.uuid4().hex[:12]}"
    try:
        yield PostgresWarehouse(url=PG_URL, schema_name=schema)
    finally:
        engine = sa.create_engine(PG_URL)
        with engine.begin() as conn:
            conn.exec_driver_sql(f'drop schema if exists "{schema}" cascade')
        engine.dispose()


@pytest.fixture
def postgres_warehouse() -> Iterator[Warehouse]:
    with postgres_schema() as warehouse:
        yield warehouse


@contextmanager
def shared_warehouse(engine: str, folder: Path) -> Iterator[Warehouse]:
    """A warehouse that outlives one test, for a module-scoped build its tests only read: DuckDB
    in `folder`, or a PostgreSQL schema dropped when the block ends."""
    if engine == "duckdb":
        yield DuckDBWarehouse(path=str(folder / "warehouse.duckdb"))
    else:
        with postgres_schema() as warehouse:
            yield warehouse


def copy_of(warehouse: DuckDBWarehouse, folder: Path) -> DuckDBWarehouse:
    """A copy of a built DuckDB warehouse in `folder`, for a test that builds on it or changes it
    (a file copy: a fraction of a second where the build took several)."""
    copied = folder / "copied.duckdb"
    shutil.copyfile(warehouse.path, copied)
    if Path(warehouse.path + ".wal").exists():  # a write-ahead log the last writer left
        shutil.copyfile(warehouse.path + ".wal", f"{copied}.wal")
    return DuckDBWarehouse(path=str(copied))


@pytest.fixture(params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def warehouse(request: pytest.FixtureRequest) -> Warehouse:
    """Each test using this runs twice: on DuckDB and on PostgreSQL."""
    return request.getfixturevalue(f"{request.param}_warehouse")


# The files that take longest, longest first (seconds measured with --durations on 2 cores, under
# the suite's own load): collected first and handed out in this order (the Makefile turns off
# xdist's reordering by test count, which put files of few long tests last: a 4-minute tail), so
# no worker is left alone with a long file at the end.
LONG_FILES = (
    # CI at af07471 (3 workers): 1195, 588, 474, 500 (the file), under the suite's load.
    "test_spark_faults.py",  # Spark builds on a cluster killed, then one to the end
    "test_incremental_equals_full.py",  # three builds and four rescoring runs
    "test_incremental_equals_full_postgres.py",  # the same on PostgreSQL
    "test_faults.py",
    # Each test worker starts with two files (xdist's loadfile hands out two each, in this order),
    # so the four after the four longest are short: the Spark chain's worker is not left with a
    # second long file behind it (CI at faa45c5: two-drops on Spark ran last, alone, for minutes).
    "test_bad_input.py",  # 35
    "test_browser.py",  # 40
    "test_ui.py",  # 45
    "test_readiness.py",  # 45
    "test_two_drops_spark.py",  # 145 alone: four Spark builds of hand-made drops, sources and staging
    "test_demo_as_of.py",  # 250: three builds of the tiny sample
    "test_concurrency.py",  # 165
    "test_production.py",  # 160
    "test_automation_loop.py",  # 155
    "test_cli.py",  # 115, estimated from the builds it now shares (so are the next two and unified)
    "test_forget.py",  # 110
    "test_spark_models.py",  # 60: compare-engines on one model (a JVM's start)
    "test_person_matching_spark.py",  # 85 alone: Splink trains three times on Spark
    "test_spark_connect.py",  # 45 alone: a Connect server's JVM and a client process
    "test_identity_graph.py",  # 105
    "test_two_drops.py",  # 95
    "test_unified.py",  # 75
    "test_audiences.py",  # 75
    "test_fast_path.py",  # 70
    "test_explainable.py",  # 65
    "test_buying_groups.py",  # 65
    "test_activity_kinds.py",  # 50
    "test_bench.py",  # 50
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    rank = {name: i for i, name in enumerate(LONG_FILES)}
    for item in items:
        if item.path.name in LONG_FILES:  # `make test-fast` leaves these out (-m "not slow")
            item.add_marker(pytest.mark.slow)
    # Stable: the other files keep their collection order.
    items.sort(key=lambda item: rank.get(item.path.name, len(LONG_FILES)))
