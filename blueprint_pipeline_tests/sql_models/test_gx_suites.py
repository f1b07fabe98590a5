"""The great-expectations suite reads only the columns its expectations name, and on a sample
the same rows it would read with every column (so the figures do not move with the change)."""

from __future__ import annotations

import duckdb

from blueprint_pipeline.quality.gx_suites import SAMPLE_ROWS, read_columns, run_suite
from blueprint_pipeline.warehouse import DuckDBWarehouse


def test_the_columns_named_by_the_expectations():
    assert read_columns(
        (
            ("expect_column_values_to_not_be_null", {"column": "email", "mostly": 0.9}),
            ("expect_column_pair_values_a_to_be_greater_than_b", {"column_A": "b", "column_B": "a"}),
            ("expect_compound_columns_to_be_unique", {"column_list": ["a", "c"]}),
            ("expect_column_values_to_not_be_null", {"column": "email"}),
        )
    ) == ["email", "b", "a", "c"]
    # a table-level expectation reads the whole table
    assert (
        read_columns(
            (
                ("expect_column_values_to_not_be_null", {"column": "x"}),
                ("expect_table_row_count_to_be_between", {"min_value": 1}),
            )
        )
        is None
    )


def test_a_sampled_suite_on_its_columns(tmp_path):
    # Worked by hand: 3 rows in 10 have no email (30%), every name is present; the wide `notes`
    # column is never read. Above SAMPLE_ROWS the suite samples, and the sample's share is the same.
    warehouse = DuckDBWarehouse(path=str(tmp_path / "w.duckdb"))
    with warehouse.transaction() as session:
        session.execute(
            "create table people as select i as id, case when i % 10 < 3 then null else 'a@b.co' end as email, "
            f"'n' as name, repeat('x', 200) as notes from range({SAMPLE_ROWS * 2}) as t(i)"
        )
    outcome = run_suite(
        warehouse,
        "people",
        (
            ("expect_column_values_to_not_be_null", {"column": "email", "mostly": 0.5}),
            ("expect_column_values_to_not_be_null", {"column": "name"}),
        ),
    )
    assert outcome.sampled and outcome.rows_evaluated == SAMPLE_ROWS and outcome.success
    email = next(o for o in outcome.outcomes if o.column == "email")
    assert 28.0 < email.unexpected_percent < 32.0
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        sample = "using sample reservoir(100000 rows) repeatable (42)"
        picked = con.execute(f"select id, email from people {sample}").fetchall()
        whole = con.execute(f"select id, email, name, notes from people {sample}").fetchall()
    assert sorted(picked) == sorted((i, e) for i, e, _, _ in whole)


def test_a_sampled_suite_on_spark(spark_warehouse, monkeypatch):
    """On Spark a sampled suite could not run (DuckDB's reservoir clause reached Spark as
    `TABLESAMPLE (n ROWS) SEED (42)`, which it does not parse: the check warned at the small
    scale and up). It reads a Bernoulli sample of about SAMPLE_ROWS rows with a seed: the same
    rows each time, and the share of missing emails (30%, as above) holds in it."""
    import pandas as pd

    from blueprint_pipeline.quality import gx_suites

    monkeypatch.setattr(gx_suites, "SAMPLE_ROWS", 400)
    ids = list(range(2000))
    frame = pd.DataFrame({"id": ids, "email": [None if i % 10 < 3 else "a@b.co" for i in ids]})
    with spark_warehouse.session() as session:
        session.replace_table("people", frame)
    suite = (("expect_column_values_to_not_be_null", {"column": "email", "mostly": 0.5}),)
    first, again = (gx_suites.run_suite(spark_warehouse, "people", suite) for _ in range(2))
    assert first.sampled and first.success and 250 < first.rows_evaluated < 550
    assert again.rows_evaluated == first.rows_evaluated
    assert again.outcomes[0].unexpected_percent == first.outcomes[0].unexpected_percent
    assert 20.0 < first.outcomes[0].unexpected_percent < 40.0
