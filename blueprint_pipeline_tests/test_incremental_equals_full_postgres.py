"""Issue 26's harness on PostgreSQL (incremental_harness.py says what it checks), in a file of its
own so that it runs beside the DuckDB one."""

from __future__ import annotations

from blueprint_pipeline_tests.conftest import postgres_schema
from blueprint_pipeline_tests.incremental_harness import check_incremental_equals_full


def test_incremental_runs_give_the_tables_of_full_refreshes_on_postgres(tmp_path):
    with postgres_schema() as a, postgres_schema() as b, postgres_schema() as c:
        check_incremental_equals_full([a, b, c], tmp_path)
