"""Every SQL model of the project, built on Spark, gives the rows it gives on DuckDB (issue 27 a).

The tiny sample's uninterrupted DuckDB build gives the inputs: every table no SQL model makes (the
sources, the seeds, the Python assets' tables) is copied to a Spark warehouse as Parquet. Then
every SQL model is built there in dependency order, each from the Spark tables the models before
it made, and compared with DuckDB's table: the same rows, doubles to 1e-9 (a sum's last bit
depends on its order), numbers compared as numbers (a DuckDB DECIMAL can be a Spark BIGINT).
Columns of 64-bit hashes are left out: each engine has its own hash function (as PostgreSQL), and
they are only compared with themselves (change detection).
"""

from __future__ import annotations

from datetime import date, datetime

import duckdb
import numpy as np
import pandas as pd
import pytest

from blueprint_pipeline.core.paths import SQL_PROJECT_DIR
from blueprint_pipeline.sql_models.project import load_project
from blueprint_pipeline.sql_models.runner import build_model
from blueprint_pipeline_tests.tiny_sample import AS_OF

pytestmark = pytest.mark.spark


def _numbers(column: pd.Series) -> np.ndarray | None:
    """The column as doubles, when every value is a number or null (DuckDB hands decimals over as
    Python Decimals, Spark as numpy numbers)."""
    if column.dtype.kind in "biuf":
        return column.to_numpy(float)
    values = column.dropna()
    if len(values) and all(hasattr(v, "as_tuple") or isinstance(v, int | float) for v in values):
        return pd.to_numeric(column, errors="coerce").to_numpy(float)
    return None


def _text(column: pd.Series) -> pd.Series:
    """Values as text; a date and a timestamp as one ISO text (DuckDB hands a DATE to pandas as a
    timestamp, Spark as a date)."""

    def shown(value) -> str:
        if value is None or value is pd.NaT or (isinstance(value, float) and np.isnan(value)):
            return "<null>"
        if isinstance(value, date | pd.Timestamp):
            return pd.Timestamp(value).isoformat()
        return str(value)

    return column.astype(object).map(shown)


def _sorted(frame: pd.DataFrame) -> pd.DataFrame:
    """One row order whatever the engine wrote: by every column's text, doubles rounded to 8
    significant digits so that a last-bit difference moves no row."""
    keys = pd.DataFrame(
        {
            c: (
                pd.Series(numbers).map(lambda v: "" if np.isnan(v) else f"{v:.8e}")
                if (numbers := _numbers(frame[c])) is not None
                else _text(frame[c])
            )
            for c in frame.columns
        }
    )
    return frame.loc[keys.sort_values(list(keys.columns)).index].reset_index(drop=True)


def _differences(name: str, spark: pd.DataFrame, duck: pd.DataFrame) -> list[str]:
    columns = [c for c in duck.columns if not c.endswith("hash")]
    if sorted(spark.columns) != sorted(duck.columns):
        return [f"{name}: columns {sorted(spark.columns)} on Spark, {sorted(duck.columns)} on DuckDB"]
    if len(spark) != len(duck):
        return [f"{name}: {len(spark)} rows on Spark, {len(duck)} on DuckDB"]
    spark, duck = _sorted(spark[columns]), _sorted(duck[columns])
    found = []
    for c in columns:
        left, right = _numbers(spark[c]), _numbers(duck[c])
        if left is not None and right is not None:
            same = np.isclose(left, right, rtol=1e-9, atol=1e-9, equal_nan=True)
        else:
            same = (_text(spark[c]) == _text(duck[c])).to_numpy()
        if not same.all():
            at = int(np.argmin(same))
            found.append(f"{name}.{c}: {int((~same).sum())} rows differ, e.g. {spark[c].iloc[at]!r} on Spark, "
                         f"{duck[c].iloc[at]!r} on DuckDB")  # fmt: skip
    return found


def test_every_sql_model_on_spark_gives_duckdbs_rows(uninterrupted_copy, spark_warehouse, tmp_path):
    duck_path = uninterrupted_copy(tmp_path / "duckdb").path
    project = load_project(SQL_PROJECT_DIR)
    con = duckdb.connect(duck_path, read_only=True)
    try:
        tables = [r[0] for r in con.execute("select table_name from information_schema.tables").fetchall()]
        (config_version,) = con.execute("select max(config_version) from buying_group_snapshots").fetchone()
        with spark_warehouse.transaction() as session:
            for table in [t for t in tables if t not in project.models]:
                exported = tmp_path / f"{table}.parquet"
                con.execute(f"copy (select * from \"{table}\") to '{exported}' (format parquet)")
                session.adopt_parquet(table, [exported])

        found, modes = [], {}
        for model in project.in_order():
            built = build_model(
                spark_warehouse,
                project,
                model,
                as_of=datetime.fromisoformat(AS_OF),
                config_version=config_version,
            )
            modes[built.mode] = modes.get(built.mode, 0) + 1
            with spark_warehouse.session() as session:
                spark_rows = session.fetch_df(f'select * from "{model.name}"')
            found += _differences(model.name, spark_rows, con.execute(f'select * from "{model.name}"').df())
    finally:
        con.close()
    assert not found, "\n".join(found)
    # Every kind of build ran: tables, views and incremental models' first builds.
    assert set(modes) == {"table", "view", "incremental (full build)"}, modes
    assert sum(modes.values()) == len(project.models) > 50
