"""Issue 26's harness on DuckDB (incremental_harness.py says what it checks)."""

from __future__ import annotations

from blueprint_pipeline.warehouse.duckdb import DuckDBWarehouse
from blueprint_pipeline_tests.incremental_harness import check_incremental_equals_full


def test_incremental_runs_give_the_tables_of_full_refreshes_on_duckdb(tmp_path):
    check_incremental_equals_full(
        [DuckDBWarehouse(path=str(tmp_path / f"{n}.duckdb")) for n in ("incr", "full", "once")], tmp_path
    )
