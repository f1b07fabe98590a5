"""The SQL models on another engine, side by side with a built DuckDB warehouse (issue 27):
`blueprint compare-engines`.

Every table no SQL model makes (the sources, the seeds, the Python assets' tables) is copied from
the DuckDB file to the other engine as Parquet; every SQL model is then built there in dependency
order, each from the tables the models before it made on that engine, and compared with DuckDB's
table: the same rows, numbers compared as numbers to 1e-9 (a DuckDB DECIMAL may be a Spark BIGINT,
and a sum's last bit depends on its order). Columns of 64-bit hashes are left out: each engine has
its own hash function, and they are only ever compared with themselves. Each model is also built
again on a copy of the DuckDB file, for its time beside the other engine's.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from blueprint_pipeline.core.errors import WarehouseError
from blueprint_pipeline.sql_models.project import SqlProject
from blueprint_pipeline.sql_models.runner import build_model
from blueprint_pipeline.warehouse import DuckDBWarehouse, SparkWarehouse, Warehouse, quote


@dataclass(frozen=True)
class ModelSideBySide:
    name: str
    mode: str  # how the other engine built it: table, view, incremental (full build)
    rows: int  # DuckDB's
    seconds: float  # on the other engine
    duckdb_seconds: float
    differences: tuple[str, ...]


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
    """One row order whatever the engine wrote: by every column's text, numbers rounded to 8
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


def engine_hash(column: str) -> bool:
    """A column of 64-bit hashes made by the engine's own hash function (a record's fingerprint,
    a cleaned hash): different on each engine, and only ever compared with itself."""
    return column.endswith(("hash", "fingerprint"))


def _plain(value):
    """A numpy scalar as the Python value it holds (for messages)."""
    return value.item() if isinstance(value, np.generic) else value


def differences(name: str, other: pd.DataFrame, duck: pd.DataFrame, against: str = "DuckDB's") -> list[str]:
    """What differs between a table's rows on the other engine and on DuckDB (empty: the same);
    `against` names the second side in the messages."""
    if sorted(other.columns) != sorted(duck.columns):
        return [f"{name}: columns {sorted(other.columns)} against {against} {sorted(duck.columns)}"]
    if len(other) != len(duck):
        return [f"{name}: {len(other)} rows against {against} {len(duck)}"]
    columns = [c for c in duck.columns if not engine_hash(c)]
    other, duck = _sorted(other[columns]), _sorted(duck[columns])
    found = []
    for c in columns:
        left, right = _numbers(other[c]), _numbers(duck[c])
        if left is not None and right is not None:
            same = np.isclose(left, right, rtol=1e-9, atol=1e-9, equal_nan=True)
        else:
            same = (_text(other[c]) == _text(duck[c])).to_numpy()
        if not same.all():
            at = int(np.argmin(same))
            mine, theirs = (_plain(frame[c].iloc[at]) for frame in (other, duck))
            found.append(
                f"{name}.{c}: {int((~same).sum())} rows differ, e.g. {mine!r} against {against} {theirs!r}"
            )
    return found


def build_facts(con: duckdb.DuckDBPyConnection) -> tuple[datetime, str]:
    """The as-of and config version of the build that made the DuckDB file (its snapshots')."""
    try:
        as_of, version = con.execute(
            "select max(snapshot_at), max(config_version) from buying_group_snapshots"
        ).fetchone()
    except duckdb.CatalogException as exc:
        raise WarehouseError("the DuckDB file has no buying_group_snapshots: is it a whole build?") from exc
    if as_of is None:
        raise WarehouseError("the DuckDB file's buying_group_snapshots is empty: give --as-of")
    return as_of, version


def side_by_side(
    duckdb_path: Path,
    other: Warehouse,
    project: SqlProject,
    *,
    as_of: datetime | None = None,
    models: set[str] | None = None,
    progress: Callable[[str], None] = lambda _: None,
) -> tuple[float, list[ModelSideBySide]]:
    """Copy the inputs, build the models on `other` and on a copy of the DuckDB file, compare.
    Returns the copy's seconds and each model's figures."""
    if not isinstance(other, SparkWarehouse):
        raise WarehouseError(f"{other.display_url}: only a Spark warehouse takes a DuckDB build's inputs")
    unknown = sorted((models or set()) - set(project.models))
    if unknown:
        raise WarehouseError(f"no SQL model named {', '.join(unknown)}")
    selected = models or set(project.models)
    other.check_reachable()  # Spark started (or its master found) before any copy
    with other.run_lock(), tempfile.TemporaryDirectory(prefix="blueprint-engines-") as work:
        copy = Path(work) / "duckdb-copy.duckdb"
        shutil.copyfile(duckdb_path, copy)
        try:
            con = duckdb.connect(str(copy))
        except duckdb.Error as exc:
            reason = str(exc).replace(str(copy), str(duckdb_path)).splitlines()[0]
            raise WarehouseError(f"{duckdb_path}: not a DuckDB warehouse ({reason})") from exc
        try:
            found_as_of, config_version = build_facts(con)
            as_of = as_of or found_as_of
            tables = [
                r[0] for r in con.execute("select table_name from information_schema.tables").fetchall()
            ]
            # Everything the selected models do not make, the models before them included.
            inputs = [t for t in tables if t not in selected]
            started = time.perf_counter()
            with other.transaction() as session:
                for number, table in enumerate(inputs, start=1):
                    exported = Path(work) / f"{table}.parquet"
                    con.execute(f"copy (select * from {quote(table)}) to '{exported}' (format parquet)")
                    session.adopt_parquet(table, [exported])
                    exported.unlink()
                    if number % 20 == 0 or number == len(inputs):
                        progress(f"copied {number}/{len(inputs)} input tables")
            copied = time.perf_counter() - started
            duck_tables = {t: con.execute(f"select * from {quote(t)}").df() for t in tables if t in selected}
        finally:
            con.close()
        duck = DuckDBWarehouse(path=str(copy))
        results = []
        for model in project.in_order(models):
            # From scratch on both engines: a table left by an earlier comparison would make an
            # incremental model merge into it (on DuckDB's copy, a merge of nothing).
            seconds, mode = {}, ""
            for engine, warehouse in (("other", other), ("duckdb", duck)):
                with warehouse.transaction() as session:
                    session.drop_relation(model.name)
                started = time.perf_counter()
                built = build_model(warehouse, project, model, as_of=as_of, config_version=config_version)
                seconds[engine] = time.perf_counter() - started
                mode = mode or built.mode
            with other.session() as session:
                rows = session.fetch_df(f"select * from {quote(model.name)}")
            expected = duck_tables.get(model.name)
            found = (
                differences(model.name, rows, expected)
                if expected is not None
                else [f"{model.name}: not in the DuckDB file"]
            )
            results.append(
                ModelSideBySide(
                    model.name, mode, len(rows), seconds["other"], seconds["duckdb"], tuple(found)
                )
            )
            progress(
                f"{model.name} ({mode}): {len(rows)} row{'s' * (len(rows) != 1)}, "
                f"{seconds['other']:.2f} s against DuckDB's {seconds['duckdb']:.2f} s"
                + (f", DIFFERS: {found[0]}" if found else "")
            )
    return copied, results
