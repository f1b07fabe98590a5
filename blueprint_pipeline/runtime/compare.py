"""`blueprint compare A B`: are two warehouses the same, table by table, row for row?

The proof a refactor owes (docs/operations.md): build one sample at one as-of on two commits,
then compare. Rows are compared as multisets (order and duplicates matter, position does not) by
DuckDB itself (`EXCEPT ALL` both ways), so a million-row table costs seconds, not Python loops.
Columns that record when or by which run something happened differ between any two builds;
`--ignore` names them (`table.column`, `*.column`), and the report says which columns differ,
so an unexpected one is never hidden behind a row count.

Either side may also be a warehouse URL (PostgreSQL, Spark): the same build on two engines. Rows
are then read through each warehouse and compared by `engines.differences` (numbers to 1e-9, as a
sum's last bit depends on its order; columns of the engine's own 64-bit hashes left out).
"""

from __future__ import annotations

import fnmatch
import json
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from blueprint_pipeline.core.errors import BlueprintError
from blueprint_pipeline.warehouse import (
    DuckDBWarehouse,
    SparkWarehouse,
    Warehouse,
    quote,
    warehouse_from_url,
)
from blueprint_pipeline.warehouse.base import sql_text
from blueprint_pipeline.warehouse.spark import duckdb_type
from blueprint_pipeline.warehouse.spark_catalog import TableEntry, ViewEntry

# Columns that take the wall clock rather than the run's as-of: when a message left, when a table
# was upgraded. They differ between any two builds (measured: the tiny sample built twice at one
# as-of differs in these two columns only); the fault and concurrency suites blank them too.
WALL_CLOCK = {
    ("journey_outbox", "sent_at"),
    ("sales_alert_outbox", "sent_at"),
    ("schema_versions", "migrated_at"),
    # The landing files as the ledger last saw them settled (raw_load.settled): whether a file
    # had settled when a build read it depends on the clock, and a copied landing has new times.
    ("ingested_files", "file_size"),
    ("ingested_files", "file_mtime_ns"),
}
DEFAULT_IGNORE = sorted(f"{table}.{column}" for table, column in WALL_CLOCK)


@dataclass
class TableDiff:
    table: str
    only_in_a: int = 0  # rows (counted with their duplicates) in A and not in B
    only_in_b: int = 0
    columns_only_in_a: list[str] = field(default_factory=list)
    columns_only_in_b: list[str] = field(default_factory=list)
    differing_columns: list[str] = field(default_factory=list)  # compared alone, these differ
    described: list[str] = field(default_factory=list)  # across engines: what differs, in words

    @property
    def same(self) -> bool:
        return not (
            self.only_in_a
            or self.only_in_b
            or self.columns_only_in_a
            or self.columns_only_in_b
            or self.described
        )

    def line(self) -> str:
        parts = []
        if self.columns_only_in_a or self.columns_only_in_b:
            parts.append(f"columns only in A {self.columns_only_in_a}, only in B {self.columns_only_in_b}")
        if self.only_in_a or self.only_in_b:
            parts.append(f"{self.only_in_a:,} rows only in A, {self.only_in_b:,} only in B")
        if self.differing_columns:
            parts.append(f"differing columns: {', '.join(self.differing_columns)}")
        parts += self.described[:3]
        return f"  {self.table}: " + "; ".join(parts)


@dataclass
class Comparison:
    same_tables: list[str]
    differing: list[TableDiff]
    only_in_a: list[str]
    only_in_b: list[str]

    @property
    def same(self) -> bool:
        return not (self.differing or self.only_in_a or self.only_in_b)

    def report(self) -> str:
        lines = [f"{len(self.same_tables)} table(s) the same, row for row"]
        if self.only_in_a or self.only_in_b:
            lines.append(
                f"tables only in A: {self.only_in_a or 'none'}; only in B: {self.only_in_b or 'none'}"
            )
        if self.differing:
            lines.append(f"{len(self.differing)} table(s) differ:")
            lines += [d.line() for d in self.differing]
        return "\n".join(lines)


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _tables(con: duckdb.DuckDBPyConnection, alias: str) -> dict[str, list[str]]:
    rows = con.execute(
        "select table_schema, table_name, column_name from information_schema.columns "
        "where table_catalog = ? order by table_schema, table_name, ordinal_position",
        [alias],
    ).fetchall()
    out: dict[str, list[str]] = {}
    for schema, table, column in rows:
        out.setdefault(table if schema == "main" else f"{schema}.{table}", []).append(column)
    return out


def _ref(alias: str, table: str) -> str:
    schema, _, name = table.rpartition(".")
    return f"{alias}.{_q(schema or 'main')}.{_q(name)}"


def _ignored(table: str, column: str, ignore: list[str]) -> bool:
    return any(fnmatch.fnmatchcase(f"{table}.{column}", pattern) for pattern in ignore)


def _count_except(con, a: str, b: str, columns: list[str]) -> int:
    cols = ", ".join(_q(c) for c in columns)
    return con.execute(
        f"select count(*) from (select {cols} from {a} except all select {cols} from {b})"
    ).fetchone()[0]


def compare(path_a: str | Path, path_b: str | Path, ignore: list[str] = ()) -> Comparison:
    """Compare every table of two DuckDB files (read only), or of two warehouses when either is a
    URL; `ignore`: `table.column` patterns."""
    if "://" in str(path_a) or "://" in str(path_b):
        return _compare_warehouses(str(path_a), str(path_b), ignore)
    for path in (path_a, path_b):
        if not Path(path).is_file():
            raise BlueprintError(f"{path}: no such DuckDB file (compare takes two warehouse files)")
    con = duckdb.connect()
    try:
        for alias, path in (("wa", path_a), ("wb", path_b)):
            literal = str(Path(path).resolve()).replace("'", "''")
            con.execute(f"attach '{literal}' as {alias} (read_only)")
        tables_a, tables_b = _tables(con, "wa"), _tables(con, "wb")
        same, differing = [], []
        for table in sorted(set(tables_a) & set(tables_b)):
            diff = TableDiff(table)
            cols_a = [c for c in tables_a[table] if not _ignored(table, c, ignore)]
            cols_b = [c for c in tables_b[table] if not _ignored(table, c, ignore)]
            diff.columns_only_in_a = [c for c in cols_a if c not in cols_b]
            diff.columns_only_in_b = [c for c in cols_b if c not in cols_a]
            shared = [c for c in cols_a if c in cols_b]
            a, b = _ref("wa", table), _ref("wb", table)
            if shared:
                diff.only_in_a = _count_except(con, a, b, shared)
                diff.only_in_b = _count_except(con, b, a, shared)
            if diff.only_in_a and diff.only_in_b:  # rows on both sides that do not pair: which columns
                diff.differing_columns = [
                    c for c in shared if _count_except(con, a, b, [c]) or _count_except(con, b, a, [c])
                ]
            (same.append(table) if diff.same else differing.append(diff))
        return Comparison(
            same_tables=same,
            differing=differing,
            only_in_a=sorted(set(tables_a) - set(tables_b)),
            only_in_b=sorted(set(tables_b) - set(tables_a)),
        )
    except duckdb.Error as exc:
        raise BlueprintError(f"compare {path_a} {path_b}: {exc}") from exc
    finally:
        con.close()


def _warehouse(given: str) -> Warehouse:
    return warehouse_from_url(given if "://" in given else f"duckdb:///{Path(given).resolve()}")


def _compare_warehouses(a: str, b: str, ignore: list[str]) -> Comparison:
    """Every table and view of two warehouses on any engines, read through their sessions; a
    DuckDB file beside a Spark warehouse whose folder this machine reads is _compare_over_parts'."""
    for given in (a, b):
        if "://" not in given and not Path(given).is_file():
            raise BlueprintError(f"{given}: no such DuckDB file, and not a warehouse URL")
    warehouse_a, warehouse_b = _warehouse(a), _warehouse(b)
    pair = {type(warehouse_a), type(warehouse_b)}
    if pair == {DuckDBWarehouse, SparkWarehouse} and _reads_parts(warehouse_a, warehouse_b):
        return _compare_over_parts(warehouse_a, warehouse_b, ignore)
    with warehouse_a.session() as session_a, warehouse_b.session() as session_b:
        tables_a = set(session_a.list_tables(views=True))
        tables_b = set(session_b.list_tables(views=True))
        same, differing = [], []
        for table in sorted(tables_a & tables_b):
            diff = _described(
                table,
                session_a.fetch_df(f"select * from {quote(table)}"),
                session_b.fetch_df(f"select * from {quote(table)}"),
                ignore,
            )
            (same.append(table) if diff.same else differing.append(diff))
    return Comparison(
        same_tables=same,
        differing=differing,
        only_in_a=sorted(tables_a - tables_b),
        only_in_b=sorted(tables_b - tables_a),
    )


def _described(table: str, frame_a, frame_b, ignore: list[str]) -> TableDiff:
    """What differs between two engines' frames of a table, in words (engines.differences)."""
    from blueprint_pipeline.runtime.engines import differences

    diff = TableDiff(table)
    diff.described = differences(
        table,
        frame_a[[c for c in frame_a.columns if not _ignored(table, c, ignore)]],
        frame_b[[c for c in frame_b.columns if not _ignored(table, c, ignore)]],
        against="B's",
    )
    return diff


def _reads_parts(*warehouses: Warehouse) -> bool:
    """Whether the Spark warehouse's catalog and parts are in a folder of this machine."""
    spark = next(w for w in warehouses if isinstance(w, SparkWarehouse))
    return Path(spark.path).is_dir()


def _parts_sql(catalog, entry: TableEntry) -> str:
    """A Spark table as DuckDB reads it: its Parquet parts by column name (a part written before
    an ADD COLUMN lacks it: null, as Spark reads it), or no rows of its columns."""
    if not entry.parts:
        from pyspark.sql.types import StructType  # a Spark warehouse: pyspark is installed

        fields = StructType.fromJson(json.loads(entry.schema)).fields
        typed = ", ".join(
            f"cast(null as {duckdb_type(f.dataType.simpleString())}) as {_q(f.name)}" for f in fields
        )
        return f"(select {typed} where false)"
    files = ", ".join(sql_text(str(catalog.part_path(p) / "*.parquet")) for p in entry.parts)
    return f"read_parquet([{files}], union_by_name = true)"


_APPROXIMATE = ("DOUBLE", "FLOAT", "DECIMAL")


def _close(con: duckdb.DuckDBPyConnection, a: str, b: str, columns: list[str]) -> bool:
    """Whether two relations hold the same rows with doubles and decimals equal to 1e-9 (as
    engines.differences: relative or absolute), in DuckDB: each side in one order (every
    column's text, numbers to 8 significant digits, so a last bit moves no row), then row by row."""
    kinds = {c[0]: str(c[1]).upper() for c in con.execute(f"select * from {a} limit 0").description}
    approximate = [c for c in columns if kinds[c].startswith(_APPROXIMATE)]
    keys = ", ".join(
        f"printf('%.8e', cast({_q(c)} as double))" if c in approximate else f"cast({_q(c)} as varchar)"
        for c in columns
    )
    numbered = ", ".join(_q(c) for c in columns)

    def side(relation: str) -> str:
        return f"(select {numbered}, row_number() over (order by {keys}) as __row from {relation})"

    differs = " or ".join(
        f"not ((x.{_q(c)} is null and y.{_q(c)} is null) or abs(cast(x.{_q(c)} as double) - "
        f"cast(y.{_q(c)} as double)) <= 1e-9 + 1e-9 * abs(cast(y.{_q(c)} as double)))"
        if c in approximate
        else f"cast(x.{_q(c)} as varchar) is distinct from cast(y.{_q(c)} as varchar)"
        for c in columns
    )
    found = con.execute(
        f"select count(*) from {side(a)} as x full join {side(b)} as y on x.__row = y.__row "
        f"where x.__row is null or y.__row is null or {differs}"
    ).fetchone()[0]
    return found == 0


def _compare_over_parts(first: Warehouse, second: Warehouse, ignore: list[str]) -> Comparison:
    """A DuckDB file and a Spark warehouse compared in DuckDB, which reads Spark's Parquet parts
    where they lie (a Spark view's rows, Spark SQL that DuckDB does not run, written by Spark to
    a scratch folder in the warehouse's): no table held whole in memory. Each table's rows are
    compared exactly (`EXCEPT ALL` both ways, the engines' own hash columns left out), then, if
    they differ, with numbers to 1e-9 (_close); a table that still differs is read into frames
    for the words that say how (engines.differences)."""
    duck, spark = (first, second) if isinstance(first, DuckDBWarehouse) else (second, first)
    from blueprint_pipeline.runtime.engines import engine_hash

    catalog = spark.catalog()
    entries = catalog.snapshot().entries
    con = duckdb.connect()
    scratch = Path(tempfile.mkdtemp(prefix=".compare-", dir=spark.path))
    try:
        con.execute(f"attach {sql_text(str(Path(duck.path).resolve()))} as wd (read_only)")
        duck_tables = _tables(con, "wd")
        views = [t for t in sorted(set(duck_tables) & set(entries)) if isinstance(entries[t], ViewEntry)]
        if views:  # Spark SQL: Spark writes their rows, DuckDB reads them as it reads the tables'
            with spark.session() as session:
                for view in views:
                    session.write_parquet(f"select * from {quote(view)}", scratch / view)
        same, differing = [], []
        for table in sorted(set(duck_tables) & set(entries)):
            entry = entries[table]
            spark_rows = (
                f"read_parquet({sql_text(str(scratch / table / '*.parquet'))})"
                if table in views
                else _parts_sql(catalog, entry)
            )
            sides = {"duck": _ref("wd", table), "spark": spark_rows}
            if first is spark:
                sides = {"spark": sides["spark"], "duck": sides["duck"]}
            columns = {
                side: [
                    c[0] for c in con.execute(f"select * from {sql} limit 0").description
                    if not _ignored(table, c[0], ignore) and not engine_hash(c[0])
                ]
                for side, sql in sides.items()
            }  # fmt: skip
            (a, b), (cols_a, cols_b) = sides.values(), columns.values()
            if sorted(cols_a) == sorted(cols_b) and (
                not (_count_except(con, a, b, cols_a) or _count_except(con, b, a, cols_a))
                or _close(con, a, b, cols_a)
            ):
                same.append(table)
                continue
            diff = _described(
                table, con.execute(f"select * from {a}").df(), con.execute(f"select * from {b}").df(), ignore
            )
            (same.append(table) if diff.same else differing.append(diff))
    except duckdb.Error as exc:
        raise BlueprintError(f"compare {first.display_url} {spark.display_url}: {exc}") from exc
    finally:
        con.close()
        shutil.rmtree(scratch, ignore_errors=True)
    names_a, names_b = (set(duck_tables), set(entries)) if first is duck else (set(entries), set(duck_tables))
    return Comparison(
        same_tables=sorted(same),
        differing=differing,
        only_in_a=sorted(names_a - names_b),
        only_in_b=sorted(names_b - names_a),
    )
