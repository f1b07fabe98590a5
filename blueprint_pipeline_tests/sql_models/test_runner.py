"""The SQL-model runner on a hand-written project (fixtures/sql_project), on three engines: DuckDB,
PostgreSQL and Spark (local mode, over its warehouse folder's catalog).

Hand-worked answers:
  batch 1 orders: 1 alice 10.0 @01-01, 2 bob 5.5 @01-02, 3 alice 2.5 @01-03
    customer_totals: alice 2 orders 12.5; bob 1 order 5.5
    order_history: 3 rows; order_events: 3 rows
  batch 2 (order 2 updated to 7.5 @01-06, order 4 bob 1.0 @01-05 added):
    order_history merges on order_id: 4 rows, order 2 now 7.5; 2 rows inserted, 1 replaced
    order_events appends the 2 new versions: 5 rows
    customer_totals: alice 2 / 12.5; bob 2 / 8.5
  batch 2 again: nothing changes anywhere.
  customer_totals as a view (DuckDB, Spark): batch 2 staged, the view not rebuilt, reads bob 2 / 8.5.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

import pytest

from blueprint_pipeline.core.errors import SqlModelError
from blueprint_pipeline.sql_models.project import load_project
from blueprint_pipeline.sql_models.runner import build_model, run_tests
from blueprint_pipeline.sql_models.tests import ModelTest
from blueprint_pipeline.warehouse import Warehouse
from blueprint_pipeline_tests.conftest import FIXTURES

AS_OF = datetime(2026, 11, 25, 9, 30)
BATCH_1 = [
    ("1", " Alice ", "10.0", "2026-01-01"),
    ("2", "BOB", "5.5", "2026-01-02"),
    ("3", "alice", "2.5", "2026-01-03"),
]
BATCH_2 = [
    ("1", " Alice ", "10.0", "2026-01-01"),
    ("2", "BOB", "7.5", "2026-01-06"),
    ("3", "alice", "2.5", "2026-01-03"),
    ("4", "bob", "1.0", "2026-01-05"),
]
CUSTOMERS = [("alice", "Alice A.", "smb"), ("bob", "Bob B.", "enterprise")]


def load_raw(warehouse: Warehouse, orders: list[tuple], customers: list[tuple] = CUSTOMERS) -> None:
    with warehouse.transaction() as s:
        s.execute("drop table if exists raw_shop__orders")
        s.execute(
            "create table raw_shop__orders (id varchar, customer varchar, amount varchar, updated_at varchar)"
        )
        for row in orders:
            s.execute(
                "insert into raw_shop__orders values ($a, $b, $c, $d)", dict(zip("abcd", row, strict=True))
            )
        s.execute("drop table if exists raw_shop__customers")
        s.execute("create table raw_shop__customers (id varchar, name varchar, segment varchar)")
        for row in customers:
            s.execute(
                "insert into raw_shop__customers values ($a, $b, $c)", dict(zip("abc", row, strict=True))
            )


def build_all(warehouse: Warehouse, project) -> dict:
    return {
        m.name: build_model(warehouse, project, m, as_of=AS_OF, config_version="v1")
        for m in project.in_order()
    }


def rows(warehouse: Warehouse, table: str, order_by: str) -> list[tuple]:
    return warehouse.fetchall(f"select * from {table} order by {order_by}")


@pytest.fixture(
    params=[
        "duckdb",
        pytest.param("postgres", marks=pytest.mark.postgres),
        pytest.param("spark", marks=pytest.mark.spark),
    ]
)
def warehouse(request: pytest.FixtureRequest) -> Warehouse:
    """The SQL models' own tests run on the third engine too (the rest of the suite on two)."""
    return request.getfixturevalue(f"{request.param}_warehouse")


@pytest.fixture
def project():
    return load_project(FIXTURES / "sql_project")


def test_models_run_in_dependency_order(project):
    order = [m.name for m in project.in_order()]
    assert order.index("stg_shop__orders") < order.index("customer_totals")
    assert order.index("stg_shop__customers") < order.index("customer_totals")
    assert order.index("stg_shop__orders") < order.index("order_history")
    assert project.models["customer_totals"].refs == ("stg_shop__orders", "stg_shop__customers")
    assert project.models["stg_shop__orders"].sources == (("shop", "orders"),)


def test_table_and_incremental_builds(warehouse, project):
    load_raw(warehouse, BATCH_1)
    first = build_all(warehouse, project)
    assert first["order_history"].mode == "incremental (full build)"
    assert rows(warehouse, "customer_totals", "customer_id") == [
        ("alice", 2, 12.5, AS_OF, "v1"),
        ("bob", 1, 5.5, AS_OF, "v1"),
    ]
    assert len(rows(warehouse, "order_history", "order_id")) == 3
    assert len(rows(warehouse, "order_events", "order_id")) == 3

    load_raw(warehouse, BATCH_2)
    second = build_all(warehouse, project)
    assert (second["order_history"].rows_inserted, second["order_history"].rows_replaced) == (2, 1)
    history = rows(warehouse, "order_history", "order_id")
    assert [(r[0], r[2]) for r in history] == [(1, 10.0), (2, 7.5), (3, 2.5), (4, 1.0)]
    assert second["order_events"].rows_inserted == 2
    assert len(rows(warehouse, "order_events", "order_id, updated_at")) == 5
    assert [r[:3] for r in rows(warehouse, "customer_totals", "customer_id")] == [
        ("alice", 2, 12.5),
        ("bob", 2, 8.5),
    ]

    snapshot = {t: rows(warehouse, t, "1, 2") for t in ("order_history", "order_events", "customer_totals")}
    third = build_all(warehouse, project)
    assert third["order_history"].rows_inserted == 0 and third["order_events"].rows_inserted == 0
    assert {t: rows(warehouse, t, "1, 2") for t in snapshot} == snapshot


def test_full_refresh_rebuilds_incremental(warehouse, project):
    load_raw(warehouse, BATCH_1)
    build_all(warehouse, project)
    model = project.models["order_events"]
    result = build_model(warehouse, project, model, as_of=AS_OF, config_version="v1", full_refresh=True)
    assert result.mode == "incremental (full build)" and result.row_count == 3


def test_a_history_kept_from_full_refresh_keeps_its_rows(warehouse, project):
    """dbt's `full_refresh=false`: order_events, declared so, keeps the versions batch 1 gave
    through a `--full-refresh` build after batch 2 (the raw table no longer holds order 2's first
    version): 5 rows, not the 4 a rebuild from batch 2 gives."""
    load_raw(warehouse, BATCH_1)
    build_all(warehouse, project)
    load_raw(warehouse, BATCH_2)
    build_model(warehouse, project, project.models["stg_shop__orders"], as_of=AS_OF, config_version="v1")
    kept = replace(project.models["order_events"], full_refresh=False)
    result = build_model(warehouse, project, kept, as_of=AS_OF, config_version="v1", full_refresh=True)
    assert result.mode != "incremental (full build)" and result.rows_inserted == 2
    assert len(rows(warehouse, "order_events", "order_id, updated_at")) == 5
    rebuilt = build_model(
        warehouse,
        project,
        project.models["order_events"],
        as_of=AS_OF,
        config_version="v1",
        full_refresh=True,
    )
    assert rebuilt.row_count == 4


def test_a_changed_history_says_how_to_keep_its_past(warehouse, project):
    """An incremental model whose columns changed: `--full-refresh` is the way out, unless it is a
    history kept from it, whose past only a migration step (or dropping it) deals with."""
    load_raw(warehouse, BATCH_1)
    build_all(warehouse, project)
    model = project.models["order_events"]
    wider = replace(model, sql=model.sql.replace("as seen_at", "as seen_at, 1 as extra"))
    with pytest.raises(SqlModelError, match="rebuild it with `blueprint run --full-refresh`"):
        build_model(warehouse, project, wider, as_of=AS_OF, config_version="v1")
    with pytest.raises(SqlModelError, match=r"full_refresh=false\): add the columns with a migration step"):
        build_model(warehouse, project, replace(wider, full_refresh=False), as_of=AS_OF, config_version="v1")


def test_yaml_tests_count_failing_rows(warehouse, project):
    # bob is duplicated (odd casing), carol has an unknown segment, order 5 points to a missing customer.
    customers = [*CUSTOMERS, ("BOB ", "Bob again", "smb"), ("carol", "Carol", "mid-market")]
    load_raw(warehouse, [*BATCH_1, ("5", "dave", "1.0", "2026-01-04")], customers)
    build_all(warehouse, project)
    found = {}
    for name in ("stg_shop__customers", "stg_shop__orders", "customer_totals"):
        model = project.models[name]
        found |= {(name, r.test.name): r.failing_rows for r in run_tests(warehouse, model, list(model.tests))}
    assert found[("stg_shop__customers", "unique__customer_id")] == 2  # both bob rows
    assert found[("stg_shop__customers", "not_null__customer_id")] == 0
    assert found[("stg_shop__customers", "accepted_values__segment")] == 1
    assert found[("stg_shop__orders", "relationships__customer_id__stg_shop__customers")] == 1
    assert found[("customer_totals", "expression__totals_not_negative")] == 0


@pytest.mark.parametrize(
    "other",
    [pytest.param("postgres", marks=pytest.mark.postgres), pytest.param("spark", marks=pytest.mark.spark)],
)
def test_same_rows_on_every_engine(duckdb_warehouse, other, project, request):
    results = []
    for warehouse in (duckdb_warehouse, request.getfixturevalue(f"{other}_warehouse")):
        load_raw(warehouse, BATCH_1)
        build_all(warehouse, project)
        load_raw(warehouse, BATCH_2)
        build_all(warehouse, project)
        results.append(
            {
                name: [tuple(str(v) for v in row) for row in rows(warehouse, name, "1, 2")]
                for name in project.models
            }
        )
    assert results[0] == results[1]


def test_an_incremental_build_tests_uniqueness_on_the_keys_it_wrote(warehouse, project):
    """A blocking uniqueness test after a merge reads the keys the merge wrote, not the whole
    table (which passed the test when it was built). order_events appends order versions: tested
    unique on order_id, batch 2's new version of order 2 collides with batch 1's (2 failing rows)
    and the build is rolled back; three copies of order 3 planted outside the build are not read
    (the whole table's test counts their 4 rows)."""
    load_raw(warehouse, BATCH_1)
    build_all(warehouse, project)
    with warehouse.transaction() as s:
        for _ in range(3):
            s.execute("insert into order_events select * from order_events where order_id = 3 limit 1")
    load_raw(warehouse, BATCH_2)
    build_model(warehouse, project, project.models["stg_shop__orders"], as_of=AS_OF, config_version="v1")
    unique = ModelTest(name="unique__order_id", kind="unique", columns=("order_id",), blocking=True)
    model = project.models["order_events"]
    result = build_model(
        warehouse, project, model, as_of=AS_OF, config_version="v1", blocking_tests=(unique,)
    )
    assert not result.published and [t.failing_rows for t in result.tests] == [2]
    assert len(rows(warehouse, "order_events", "order_id, updated_at")) == 6  # batch 1 and the copies
    assert not warehouse.fetchall(
        "select table_name from information_schema.tables where table_name like '%incoming%'"
    )
    assert [t.failing_rows for t in run_tests(warehouse, model, [unique])] == [4]


def test_a_view_model_is_computed_when_read(warehouse, project):
    """customer_totals declared a view: on DuckDB and Spark the warehouse keeps its query, with the
    run's as-of and config version written in, and answers from the tables as they are when read;
    on PostgreSQL it is a table (views there pin the tables they read, which builds replace). The
    table the model was before is replaced by the view, and the view by a table again."""
    on_duckdb = warehouse.dialect != "postgres"  # the engines whose views are read live
    load_raw(warehouse, BATCH_1)
    build_all(warehouse, project)  # customer_totals a table
    view = replace(project.models["customer_totals"], materialized="view")
    built = build_model(warehouse, project, view, as_of=AS_OF, config_version="v1")
    assert built.mode == ("view" if on_duckdb else "table (PostgreSQL: views pin what they read)")
    assert built.row_count == (None if on_duckdb else 2) and built.published
    with warehouse.session() as s:
        assert s.is_view("customer_totals") == on_duckdb
        assert ("customer_totals" in s.list_tables()) != on_duckdb
        assert "customer_totals" in s.list_tables(views=True)
    assert rows(warehouse, "customer_totals", "customer_id") == [
        ("alice", 2, 12.5, AS_OF, "v1"),
        ("bob", 1, 5.5, AS_OF, "v1"),
    ]

    load_raw(warehouse, BATCH_2)
    build_model(warehouse, project, project.models["stg_shop__orders"], as_of=AS_OF, config_version="v1")
    bob = rows(warehouse, "customer_totals", "customer_id")[1]
    assert bob == (("bob", 2, 8.5, AS_OF, "v1") if on_duckdb else ("bob", 1, 5.5, AS_OF, "v1"))

    again = build_model(
        warehouse, project, project.models["customer_totals"], as_of=AS_OF, config_version="v2"
    )
    assert again.mode == "table" and again.row_count == 2
    with warehouse.session() as s:
        assert not s.is_view("customer_totals")
    assert rows(warehouse, "customer_totals", "customer_id")[1] == ("bob", 2, 8.5, AS_OF, "v2")


def test_a_view_model_runs_its_tests_on_its_rows(warehouse, project):
    """A blocking test on a view reads what the view answers: a failing one rolls the view back."""
    load_raw(warehouse, BATCH_1)
    build_all(warehouse, project)
    view = replace(project.models["customer_totals"], materialized="view")
    never = ModelTest(name="never", kind="expression", condition="false", blocking=True)
    built = build_model(warehouse, project, view, as_of=AS_OF, config_version="v1", blocking_tests=(never,))
    assert not built.published and built.tests[0].failing_rows == 2
    with warehouse.session() as s:
        assert not s.is_view("customer_totals")  # the table before stays
