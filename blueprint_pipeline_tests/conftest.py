"""Shared fixtures: a real DuckDB on tmp_path and a real PostgreSQL schema per test.

PostgreSQL tests skip when the server does not answer, unless BLUEPRINT_REQUIRE_POSTGRES=1 (set by
.ci/run), which turns the skip into a failure.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

from blueprint_pipeline.warehouse import DuckDBWarehouse, PostgresWarehouse, Warehouse

FIXTURES = Path(__file__).parent / "fixtures"
PG_URL = os.environ.get("BLUEPRINT_TEST_PG_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/test")
REQUIRE_PG = os.environ.get("BLUEPRINT_REQUIRE_POSTGRES") == "1"


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


@pytest.fixture
def duckdb_warehouse(tmp_path: Path) -> DuckDBWarehouse:
    return DuckDBWarehouse(path=str(tmp_path / "warehouse.duckdb"))


@pytest.fixture
def postgres_warehouse() -> Warehouse:
    require_postgres()
    schema = f"t_{uuid.uuid4().hex[:12]}"
    warehouse = PostgresWarehouse(url=PG_URL, schema_name=schema)
    yield warehouse
    engine = sa.create_engine(PG_URL)
    with engine.begin() as conn:
        conn.exec_driver_sql(f'drop schema if exists "{schema}" cascade')
    engine.dispose()


@pytest.fixture(params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def warehouse(request: pytest.FixtureRequest) -> Warehouse:
    """Each test using this runs twice: on DuckDB and on PostgreSQL."""
    return request.getfixturevalue(f"{request.param}_warehouse")


# The files that take a minute or more (measured with --durations): collected first, so xdist
# hands them out first and the run does not end with one worker on a long tail.
LONG_FILES = (
    "test_faults.py",
    "test_concurrency.py",
    "test_production.py",
    "test_forget.py",
    "test_bench.py",
    "test_fast_path.py",
    "test_cli.py",
    "test_automation_loop.py",
    "test_two_drops.py",
    "test_audiences.py",
    "test_buying_groups.py",
    "test_identity_graph.py",
    "test_browser.py",
    "test_ui.py",
    "test_bad_input.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=lambda item: item.path.name not in LONG_FILES)  # stable: the rest keep their order
