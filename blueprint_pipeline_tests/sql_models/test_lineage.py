"""Column lineage derived from the models' SQL (sql_models/lineage.py), on the hand-written
project (fixtures/sql_project), built on DuckDB.

Worked by hand from the SQL:
  stg_shop__orders: order_id <- raw_shop__orders.id, customer_id <- .customer, amount <- .amount,
    updated_at <- .updated_at
  customer_totals: customer_id <- stg_shop__customers.customer_id, order_count <- stg_shop__orders
    .order_id, total_amount <- stg_shop__orders.amount; as_of and config_version are the run's
    parameters, from no column.
"""

from __future__ import annotations

import dagster as dg

from blueprint_pipeline.sql_models import lineage
from blueprint_pipeline.sql_models.lineage import column_lineage, derive, upstream_columns
from blueprint_pipeline.sql_models.project import load_project
from blueprint_pipeline_tests.conftest import FIXTURES
from blueprint_pipeline_tests.sql_models.test_runner import BATCH_1, build_all, load_raw


def _derived(warehouse, project, name: str) -> dict:
    model = project.models[name]
    with warehouse.session() as session:
        upstream = upstream_columns(session, project, model)
    return derive(project.render(model), upstream)


def test_lineage_is_derived_from_the_sql(duckdb_warehouse, tmp_path, monkeypatch):
    project = load_project(FIXTURES / "sql_project")
    monkeypatch.setattr(lineage, "CACHE_DIR", tmp_path / "cache")
    load_raw(duckdb_warehouse, BATCH_1)
    build_all(duckdb_warehouse, project)
    assert _derived(duckdb_warehouse, project, "stg_shop__orders") == {
        "order_id": [("raw_shop__orders", "id")],
        "customer_id": [("raw_shop__orders", "customer")],
        "amount": [("raw_shop__orders", "amount")],
        "updated_at": [("raw_shop__orders", "updated_at")],
    }
    totals = _derived(duckdb_warehouse, project, "customer_totals")
    assert totals == {
        "customer_id": [("stg_shop__customers", "customer_id")],
        "order_count": [("stg_shop__orders", "order_id")],
        "total_amount": [("stg_shop__orders", "amount")],
        "as_of": [],
        "config_version": [],
    }
    # Kept on disk under its inputs: the second derivation reads the file.
    assert len(list((tmp_path / "cache").glob("*.json"))) == 2
    assert _derived(duckdb_warehouse, project, "customer_totals") == totals
    shown = column_lineage(project, totals).deps_by_column["total_amount"]
    assert shown == [dg.TableColumnDep(asset_key=dg.AssetKey("stg_shop__orders"), column_name="amount")]
