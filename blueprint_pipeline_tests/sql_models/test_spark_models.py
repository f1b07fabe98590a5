"""`blueprint compare-engines`: SQL models built on Spark beside DuckDB, each table compared (issue
27 a). That every model gives DuckDB's rows on Spark is shown by the whole tiny build on Spark
(reliability/test_spark_faults.py); here the command, on one model.

The tiny sample's uninterrupted DuckDB build gives the inputs: every table no SQL model makes (the
sources, the seeds, the Python assets' tables) is copied to a Spark warehouse as Parquet; every
SQL model is built there in dependency order, each from the Spark tables the models before it
made, and compared with DuckDB's table (`runtime/engines.py`: the same rows, numbers to 1e-9,
hash columns left out).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest

from blueprint_pipeline.core.errors import WarehouseError
from blueprint_pipeline.core.paths import SQL_PROJECT_DIR
from blueprint_pipeline.runtime.cli import main
from blueprint_pipeline.runtime.engines import differences, side_by_side
from blueprint_pipeline.sql_models.project import load_project
from blueprint_pipeline.warehouse import DuckDBWarehouse
from blueprint_pipeline_tests.tiny_sample import AS_OF

pytestmark = pytest.mark.spark


def test_the_command_compares_some_models_and_says_what_differs(uninterrupted_copy, tmp_path, capsys):
    duck = uninterrupted_copy(tmp_path / "duckdb")
    spark = f"spark+local://1?warehouse={tmp_path / 'spark'}"
    argv = ["compare-engines", duck.path, "--warehouse", spark, "--models", "stg_salesforce__accounts"]
    assert main([*argv, "--as-of", AS_OF]) == 0
    shown = capsys.readouterr().out
    assert "1 SQL models" in shown and "1 the same, 0 differ" in shown
    assert main(["compare-engines", duck.path, "--warehouse", spark, "--models", "no_such_model"]) == 2
    assert "no SQL model named no_such_model" in capsys.readouterr().err
    assert main(["compare-engines", duck.path, "--warehouse", f"duckdb:///{tmp_path}/x.duckdb"]) == 2
    assert "only a Spark warehouse" in capsys.readouterr().err
    assert main([*argv, "--as-of", "yesterday"]) == 2
    assert "--as-of 'yesterday': expected a date and time" in capsys.readouterr().err
    not_duckdb = tmp_path / "notes.duckdb"
    not_duckdb.write_text("not a database")
    assert main(["compare-engines", str(not_duckdb), "--warehouse", spark]) == 2
    assert f"{not_duckdb}: not a DuckDB warehouse" in capsys.readouterr().err
    # Again into the same folder: every model built from scratch again, the same answer.
    assert main([*argv, "--as-of", AS_OF]) == 0
    assert "1 the same, 0 differ" in capsys.readouterr().out


def test_the_comparison_finds_what_differs():
    duck = pd.DataFrame({"id": [1, 2], "amount": [1.5, 2.0], "day": pd.to_datetime(["2026-01-01"] * 2)})
    same = pd.DataFrame(
        {"id": [2, 1], "amount": [2.0 + 1e-12, 1.5], "day": [datetime(2026, 1, 1).date()] * 2}
    )
    assert differences("t", same, duck) == []  # order, last bits, a date against a timestamp
    changed = same.assign(amount=[2.0, 1.6])
    assert differences("t", changed, duck) == ["t.amount: 1 rows differ, e.g. 1.6 against DuckDB's 1.5"]
    assert differences("t", same.iloc[:1], duck) == ["t: 1 rows against DuckDB's 2"]
    with pytest.raises(WarehouseError, match="only a Spark warehouse"):
        side_by_side(Path("x.duckdb"), DuckDBWarehouse(path="y.duckdb"), load_project(SQL_PROJECT_DIR))
