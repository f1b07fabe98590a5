"""Apache Spark as the warehouse (issue 27; docs/decisions.md, "Spark's tables" and "The
operational split on Spark"): every layer's tables, the operational ones included, in one catalog.

The SQL stays written once, in DuckDB's dialect. sqlglot reads each statement: a query is
transpiled to Spark SQL and run over the catalog's tables (each registered in the session as a
temporary view of its Parquet parts); the statements that write (create, insert, delete, update,
drop, rename) become operations on the catalog (`spark_catalog.py`) over Spark DataFrames, since
plain Parquet has no UPDATE, DELETE or transaction. Parameters are bound as SQL literals written
by sqlglot, never pasted as text. A unique index is kept as the table's unique key, and each write
to the table is checked against it before the commit.
"""

from __future__ import annotations

import atexit
import functools
import json
import logging
import os
import re
import shlex
import shutil
import socket
import tempfile
import warnings
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote as url_quote

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import sqlglot
from pydantic import PrivateAttr
from sqlglot import exp
from sqlglot.dialects.spark import Spark

from blueprint_pipeline.core.errors import WarehouseError
from blueprint_pipeline.core.redact import url_shown
from blueprint_pipeline.warehouse import spark_catalog
from blueprint_pipeline.warehouse.base import Params, Session, Warehouse, quote
from blueprint_pipeline.warehouse.duckdb import used_params, utc
from blueprint_pipeline.warehouse.spark_catalog import Catalog, Entry, PostgresCatalog, TableEntry, ViewEntry
from blueprint_pipeline.warehouse.writes import record

# pyspark 4.3 warns on every conversion that it does not yet fully support pandas 3; the
# conversions this module makes go through Arrow and are tested (test_runner.py on Spark).
warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas")

# Spark's type names -> DuckDB's, for information_schema and for the casts of rows DuckDB writes.
_DUCKDB_TYPES = {
    "string": "VARCHAR",
    "bigint": "BIGINT",
    "int": "INTEGER",
    "smallint": "SMALLINT",
    "tinyint": "TINYINT",
    "double": "DOUBLE",
    "float": "FLOAT",
    "boolean": "BOOLEAN",
    "timestamp_ntz": "TIMESTAMP",
    "timestamp": "TIMESTAMP WITH TIME ZONE",
    "date": "DATE",
    "binary": "BLOB",
    "void": "VARCHAR",
}
_INFORMATION_SCHEMA = {"tables": "__information_schema_tables", "columns": "__information_schema_columns"}
SCHEMA_NAME = "main"  # what current_schema() answers: one schema per warehouse folder


class SparkSql(Spark):
    """sqlglot's Spark dialect, with a sample's seed spelt as Spark parses it (`REPEATABLE`)."""

    class Generator(Spark.Generator):
        TABLESAMPLE_SEED_KEYWORD = "REPEATABLE"


def duckdb_type(spark_type: str) -> str:
    """A Spark type's simple string (`decimal(18,2)`, `array<string>`) in DuckDB's spelling."""
    if spark_type.startswith("decimal"):
        return spark_type.upper()
    if spark_type.startswith("array<") and spark_type.endswith(">"):
        return duckdb_type(spark_type[6:-1]) + "[]"
    return _DUCKDB_TYPES.get(spark_type, spark_type.upper())


def session_settings() -> dict[str, str]:
    """The SQL settings every session runs with (set again on each new session: Spark Connect's
    new sessions start from the server's defaults)."""
    return {
        # Offset-less timestamps, as DuckDB's and this project's: read and written as they are.
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.timestampType": "TIMESTAMP_NTZ",
        "spark.sql.execution.arrow.pyspark.enabled": "true",
        # Spark's 200 shuffle partitions make each small step of a build hundreds of tasks;
        # adaptive execution coalesces from this number (docs/operations.md).
        "spark.sql.shuffle.partitions": os.environ.get("BLUEPRINT_SPARK_SHUFFLE_PARTITIONS", "8"),
    }


_LOG_SETTINGS = Path(__file__).with_name("spark-log4j2.properties")


def _answering(master: str) -> None:
    """A cluster's master or a Connect server must answer before Spark is started: pyspark waits
    a minute for an absent master and much longer for an absent Connect server, then fails with
    pages of Java stack."""
    host, _, port = master.split("://", 1)[1].split("/", 1)[0].rpartition(":")
    try:
        socket.create_connection((host, int(port)), timeout=5).close()
    except (OSError, ValueError) as exc:
        what = "Spark Connect server" if master.startswith("sc://") else "Spark master"
        raise WarehouseError(f"no {what} answers at {host}:{port} ({exc})") from exc


# The one classic session of this process, by master: Spark holds one context per process, and
# `getOrCreate()` for another master hands back the running one (found in CI: a test worker whose
# earlier test had used a standalone cluster, since stopped, waited forever for its executors).
_CLASSIC: dict[str, object] = {}


def spark_for(master: str):
    """The Spark session for `master` in this process: its JVM starts once (~5-25 s). A classic
    session (local mode, a standalone master) for another master is stopped first; Spark Connect
    sessions (sc://) are clients, one per server."""
    if master.startswith("sc://"):
        return _connected(master)
    if master not in _CLASSIC:
        for other in list(_CLASSIC):
            _CLASSIC.pop(other).stop()
        _CLASSIC[master] = _started(master)
    return _CLASSIC[master]


@functools.lru_cache(maxsize=4)
def _connected(master: str):
    spark = _started(master)
    # Closed while the interpreter still runs: left to its finaliser at exit, the client's gRPC
    # channel waited forever for threads already gone (a run over Connect never exited).
    atexit.register(spark.stop)
    return spark


def _similarity_jar() -> str:
    from splink.backends.spark import similarity_jar_location

    return similarity_jar_location()


def with_jar(submit_args: str, jar: str) -> str:
    """PYSPARK_SUBMIT_ARGS with `jar` in its --jars, added once. spark-submit's --jars wins over
    spark.jars set any other way (--conf, spark-defaults.conf, the builder), so a --conf
    spark.jars list joins it; the driver's JVM gets the jars at its launch (the builder's conf
    is too late for the driver's own classpath, where Splink registers the functions)."""
    parts = shlex.split(submit_args) if submit_args.strip() else ["pyspark-shell"]
    jars: list[str] = []
    kept: list[str] = []
    at = 0
    while at < len(parts):
        part = parts[at]
        if part == "--jars" and at + 1 < len(parts):
            jars += parts[at + 1].split(",")
            at += 2
        elif part == "--conf" and at + 1 < len(parts) and parts[at + 1].startswith("spark.jars="):
            jars += parts[at + 1].split("=", 1)[1].split(",")
            at += 2
        else:
            kept.append(part)
            at += 1
    listed = [j for j in jars if j.strip()]
    listed = listed if jar in listed else [*listed, jar]
    return shlex.join(["--jars", ",".join(listed), *kept])


def is_connect(spark) -> bool:
    """Whether `spark` is a Spark Connect client (its server's classpath is not ours to set)."""
    return type(spark).__module__.startswith("pyspark.sql.connect")


def _started(master: str):
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:
        raise WarehouseError(
            "the Spark warehouse needs pyspark and Java 17: pip install -e '.[spark]'"
        ) from exc
    if not master.startswith("local"):
        _answering(master)
    if master.startswith("sc://"):
        builder = SparkSession.builder.remote(master)
    else:
        builder = (
            SparkSession.builder.master(master)
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.driver.extraJavaOptions", f"-Dlog4j2.configurationFile={_LOG_SETTINGS}")
        )
        # Splink's similarity functions (jaro_winkler, damerau_levenshtein) for person matching,
        # shipped to the executors with the job: its jar comes with Splink.
        submit_args = os.environ.get("PYSPARK_SUBMIT_ARGS", "")
        os.environ["PYSPARK_SUBMIT_ARGS"] = with_jar(submit_args, _similarity_jar())
        if master.startswith("local"):
            # Local mode's driver listens on the loopback only (Spark would pick the machine's
            # first interface and listen on every one); a cluster's executors must reach it.
            os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
            builder = builder.config("spark.driver.host", "127.0.0.1").config(
                "spark.driver.bindAddress", "127.0.0.1"
            )
    for name, value in session_settings().items():
        builder = builder.config(name, value)
    try:
        spark = builder.getOrCreate()
    except Exception as exc:  # no Java, a master that does not answer
        reason = " ".join(str(exc).split())[:500]
        raise WarehouseError(f"cannot start Spark ({master}): {reason}") from exc
    # pyspark logs each failed statement's context before raising it: the exception says it all.
    logging.getLogger("SQLQueryContextLogger").setLevel(logging.CRITICAL)
    if not master.startswith("sc://"):
        spark.sparkContext.setLogLevel("OFF")  # errors reach the caller as exceptions
    return spark


def _naive_utc(value):
    """A datetime with an offset as the UTC time without one (the warehouse's timestamps)."""
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC).replace(tzinfo=None)
    return value


@functools.lru_cache(maxsize=1024)
def _parsed(sql: str) -> exp.Expression:
    trees = [t for t in sqlglot.parse(sql, read="duckdb") if t is not None]
    if len(trees) != 1:
        raise ValueError(f"expected one SQL statement, got {len(trees)}: {sql[:200]}")
    return trees[0]


def bound(sql: str, params: Params) -> exp.Expression:
    """The statement's tree with each `$name` replaced by its value as a SQL literal."""
    values = dict(params or {})

    def bind(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Placeholder):
            if not node.name or node.name not in values:
                shown = f"${node.name}" if node.name else "a positional parameter (?)"
                raise WarehouseError(f"statement uses {shown}, which has no value: {sql[:200]}")
            return exp.convert(_naive_utc(values[node.name]))
        if isinstance(node, exp.CurrentSchema):
            return exp.Literal.string(SCHEMA_NAME)
        if isinstance(node, exp.Table) and node.db.lower() == SCHEMA_NAME and not node.catalog:
            node.set("db", None)  # main.t is t: one schema per warehouse folder
            return node
        if isinstance(node, exp.Table) and node.db.lower() == "information_schema":
            return exp.to_table(_INFORMATION_SCHEMA.get(node.name.lower(), node.name)).as_(
                node.alias_or_name, quoted=True
            )
        return node

    return _parsed(sql).copy().transform(bind)


def _order_keys_struct(order: exp.Order) -> tuple[exp.Expression, bool] | None:
    """An ordered aggregate's keys as one struct (compared key by key in Spark) and whether they
    run descending; None when they mix directions."""
    keys = order.expressions
    directions = {bool(k.args.get("desc")) for k in keys}
    if len(directions) != 1:
        return None
    values = [k.this.copy() for k in keys]
    return (exp.func("struct", *values) if len(values) > 1 else values[0]), directions.pop()


def _first_of_ordered(bracket: exp.Bracket) -> exp.Expression | None:
    """DuckDB's `(array_agg(x order by k) [filter (where c)])[1]`, the first value in an order,
    as Spark's `min_by(x, k)` (`max_by` for a descending order): sqlglot turns it into
    `collect_list(x)[0]`, which loses the order (Spark's collect_list takes none)."""
    index = bracket.expressions[0] if len(bracket.expressions) == 1 else None
    inner = bracket.this.unnest()
    where = None
    if isinstance(inner, exp.Filter):
        inner, where = inner.this, inner.expression
    if not (isinstance(inner, exp.ArrayAgg) and isinstance(inner.this, exp.Order)):
        return None
    if not (isinstance(index, exp.Literal) and index.name == "0"):
        raise WarehouseError(
            f"Spark warehouse: only the first of an ordered array_agg is supported: {bracket.sql()}"
        )
    keyed = _order_keys_struct(inner.this)
    if keyed is None:
        raise WarehouseError(f"Spark warehouse: an ordered array_agg mixes directions: {bracket.sql()}")
    key, descending = keyed
    picked = exp.func("max_by" if descending else "min_by", inner.this.this.copy(), key)
    return exp.Filter(this=picked, expression=where.copy()) if where is not None else picked


# DuckDB rounds a double's exact binary value half away from zero (0.15 is 0.1499999... -> 0.1);
# Spark rounds its shortest decimal text (0.15 -> 0.2). The product x * 10^n is rounded once;
# Math.fma gives that rounding's exact error, which settles a product that lands on .5. Other
# types (decimals, integers) round as Spark does, which is DuckDB's rule for them.
_DUCKDB_ROUND = sqlglot.parse_one(
    """
    CASE
      WHEN TYPEOF(__x) NOT IN ('double', 'float') THEN ROUND(__x, __n)
      WHEN ISNAN(__d) OR __p >= 4503599627370496D THEN __d
      ELSE SIGN(__d) * (FLOOR(__p) + CASE
          WHEN __p - FLOOR(__p) > 0.5D OR (__p - FLOOR(__p) = 0.5D
            AND CAST(REFLECT('java.lang.Math', 'fma', ABS(__d), POWER(10D, __n), -__p) AS DOUBLE) >= 0)
          THEN 1 ELSE 0 END) / POWER(10D, __n)
    END
    """,
    read="spark",
)
_SCALED = sqlglot.parse_one("ABS(__d) * POWER(10D, __n)", read="spark")  # __p: |x| * 10^n, rounded


def _duckdb_round(node: exp.Round) -> exp.Expression:
    parts = {
        "__x": node.this,
        "__n": node.args.get("decimals") or exp.Literal.number(0),
        "__d": exp.cast(node.this.copy(), exp.DataType.build("double")),
    }

    def fill(part: exp.Expression) -> exp.Expression:
        if isinstance(part, exp.Column) and part.name == "__p":
            return _SCALED.copy().transform(fill)
        if isinstance(part, exp.Column) and part.name in parts:
            return parts[part.name].copy()
        return part

    return exp.paren(_DUCKDB_ROUND.copy().transform(fill))


_BACKREFERENCE = re.compile(r"\\(\d)")


def spark_tree(tree: exp.Expression) -> exp.Expression:
    """DuckDB's meanings kept where sqlglot's Spark output would change them (each case is
    tested in test_spark.py)."""

    def rewrite(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Collate):
            # "C" (byte order) is Spark's default string order, UTF8_BINARY.
            return node.this
        if isinstance(node, exp.Cast) and node.to.is_type("json"):
            return node.this  # JSON is text in Spark: its JSON functions read strings
        if isinstance(node, exp.TimeToUnix):
            # DuckDB's epoch() keeps fractions of a second (of a timestamp or an interval);
            # Spark's unix_timestamp() truncates to whole seconds and takes no interval.
            def micros(value: exp.Expression) -> exp.Expression:
                return exp.func("unix_micros", exp.cast(value.copy(), exp.DataType.build("timestampltz")))

            value = node.this
            if isinstance(value, exp.Sub):
                seconds = exp.Sub(this=micros(value.this), expression=micros(value.expression))
            else:
                seconds = micros(value)
            return exp.paren(exp.Div(this=exp.paren(seconds), expression=exp.Literal.number("1e6")))
        if isinstance(node, exp.Bracket):
            first = _first_of_ordered(node)
            if first is not None:
                return first
            index = node.expressions[0] if len(node.expressions) == 1 else None
            if index is not None and not (isinstance(index, exp.Literal) and index.is_string):  # a map's key
                # An index past the end is NULL in DuckDB, an error in Spark's ANSI mode.
                return exp.func("get", node.this, index)
        if isinstance(node, exp.RegexpReplace) and isinstance(node.args.get("replacement"), exp.Literal):
            # Java writes a group reference `$3` where DuckDB (RE2) writes `\3`.
            replacement = node.args["replacement"].name.replace("$", "\\$")
            node.set("replacement", exp.Literal.string(_BACKREFERENCE.sub(r"$\1", replacement)))
            return node
        if isinstance(node, exp.Anonymous) and node.name.lower() == "hash":
            # Spark's hash() is 32 bits wide; xxhash64 is as wide as DuckDB's (the values differ),
            # as a decimal so that sums of hashes (the fingerprints) do not overflow.
            return exp.cast(exp.func("xxhash64", *node.expressions), exp.DataType.build("decimal(20, 0)"))
        if isinstance(node, exp.Round):
            return _duckdb_round(node)
        if isinstance(node, exp.Div | exp.Avg):
            # DuckDB divides and averages as doubles whatever the operands (1.5 / 2.0 is a DOUBLE);
            # Spark keeps decimals decimal, rounding the result to a few places.
            node.set("this", exp.cast(node.this, exp.DataType.build("double")))
            return node
        if isinstance(node, exp.GenerateSeries) and isinstance(node.parent, exp.Lateral):
            # A table of numbers: Spark's sequence() is an array, exploded into rows.
            end = node.args["end"]
            if node.args.get("is_end_exclusive"):
                end = exp.Sub(this=end, expression=exp.Literal.number(1))
            return exp.func("explode", exp.func("sequence", node.args["start"], end))
        return node

    tree = tree.copy()  # the caller's tree stays as written (a view's SQL is rewritten once)
    # Children first, so that a rewritten node is built from rewritten parts.
    for node in reversed(list(tree.walk(bfs=False))):
        new = rewrite(node)
        if new is not node:
            if node is tree:
                return new
            node.replace(new)
    return tree


def _name(node: exp.Expression) -> str:
    table = node if isinstance(node, exp.Table) else node.find(exp.Table)
    return table.name.lower()


class SparkSqlSession(Session):
    """One Spark session (its own temporary views) over a snapshot of the catalog; its writes are
    committed together at the end of a transaction, or after each statement in autocommit."""

    dialect = "spark"
    live_views = True

    def __init__(self, spark, catalog: Catalog, autocommit: bool):
        self.spark = spark
        self.catalog = catalog
        self.autocommit = autocommit
        self.base = catalog.snapshot()
        self.changes: dict[str, Entry | None] = {}
        self.temps: dict[str, TableEntry] = {}
        self.written: list[str] = []  # parts this transaction wrote: deleted if it rolls back
        self._registered: dict[str, Entry] = {}

    # -- the catalog as this session sees it ---------------------------------------------------

    def _refresh(self) -> None:
        """In autocommit, each statement and question reads the catalog as it is now."""
        if self.autocommit and not self.changes:
            self.base = self.catalog.snapshot()

    def _entry(self, name: str) -> Entry | None:
        name = name.lower()
        if name in self.temps:
            return self.temps[name]
        if name in self.changes:
            return self.changes[name]
        return self.base.entries.get(name)

    def _entries(self) -> dict[str, Entry]:
        merged = {**self.base.entries, **self.changes}
        return {n: e for n, e in sorted(merged.items()) if e is not None}

    def _set(self, name: str, entry: Entry | None, *, temporary: bool = False) -> None:
        name = name.lower()
        if temporary or name in self.temps:
            if entry is None:
                self.catalog.discard(list(self.temps.pop(name).parts))
            else:
                self.temps[name] = entry
        else:
            self.changes[name] = entry
        # The name and every view (which may read it) are registered again when next read.
        for registered in [n for n, e in self._registered.items() if n == name or isinstance(e, ViewEntry)]:
            self._unregister(registered)

    def commit(self) -> None:
        self.base = self.catalog.commit(self.base, self.changes)
        self.changes, self.written = {}, []

    def rollback(self) -> None:
        self.catalog.discard(self.written)
        self.changes, self.written = {}, []
        self._registered.clear()
        for name in self.spark.catalog.listTables():
            if name.isTemporary:
                self.spark.catalog.dropTempView(name.name)

    def close(self) -> None:
        for name in list(self.temps):
            self._set(name, None)
        if is_connect(self.spark):
            # A Connect session is a client of its own: closed now, its server-side state goes;
            # left to its finaliser at exit, its gRPC channel waited forever (the run never ended).
            self.spark.stop()

    # -- reading --------------------------------------------------------------------------------

    def _unregister(self, name: str) -> None:
        if self._registered.pop(name, None) is not None:
            self.spark.catalog.dropTempView(name)

    def _register(self, name: str) -> None:
        entry = self._entry(name)
        if entry is None:
            self._unregister(name)  # dropped since (by this session or, in autocommit, another)
            return
        if self._registered.get(name) == entry:  # equal: the same parts (a fresh snapshot decodes anew)
            return
        if isinstance(entry, ViewEntry):
            for table in sqlglot.parse_one(entry.sql, read="spark").find_all(exp.Table):
                self._register(table.name.lower())
            self.spark.sql(f"create or replace temporary view `{name}` as {entry.sql}")
        else:
            self._table_frame(entry, name).createOrReplaceTempView(name)
        self._registered[name] = entry

    def _table_frame(self, entry: TableEntry, name: str = ""):
        schema = _schema(entry)
        if not entry.parts:
            return self.spark.createDataFrame([], schema)
        paths = [self.catalog.part_path(p) for p in entry.parts]
        gone = [p.name for p in paths if not p.is_dir()]
        if gone:
            raise WarehouseError(
                f"Spark warehouse {self.catalog.root}: table {name or '?'}'s parts {', '.join(gone)} "
                "are gone: this session's snapshot is older than the grace period "
                f"({spark_catalog.GRACE_SECONDS / 3600:.0f} h), or the folder was changed by hand"
            )
        return self.spark.read.schema(schema).parquet(*map(str, paths))

    def _information_schema(self) -> None:
        entries = self._entries()
        tables = [
            (SCHEMA_NAME, n, "VIEW" if isinstance(e, ViewEntry) else "BASE TABLE") for n, e in entries.items()
        ]
        self.spark.createDataFrame(
            tables, "table_schema string, table_name string, table_type string"
        ).createOrReplaceTempView(_INFORMATION_SCHEMA["tables"])
        columns = [
            (SCHEMA_NAME, table, column, dtype, position)
            for table in entries
            for position, (column, dtype) in enumerate(self.columns(table), start=1)
        ]
        self.spark.createDataFrame(
            columns,
            "table_schema string, table_name string, column_name string, data_type string, "
            "ordinal_position int",
        ).createOrReplaceTempView(_INFORMATION_SCHEMA["columns"])

    def _frame(self, tree: exp.Expression):
        """A query's DataFrame, the tables it names registered first."""
        names = {t.name.lower() for t in tree.find_all(exp.Table) if not t.db}
        if names & set(_INFORMATION_SCHEMA.values()):
            self._information_schema()
        for name in names:
            self._register(name)
        return self.spark.sql(spark_tree(tree).sql(dialect=SparkSql))

    # -- writing --------------------------------------------------------------------------------

    def _write(self, frame) -> str:
        """A new part holding the frame's rows. A result Spark's planner estimates small is
        collected as Arrow and written by pyarrow on the driver: one job instead of a write job
        and Hadoop's output commit (0.05 s against 0.3 s on small data, docs/benchmarks.md); the
        rest is written by the executors."""
        part, path = self.catalog.new_part()
        self.written.append(part)
        if _estimated_small(frame):
            path.mkdir(parents=True)
            pq.write_table(arrow_of(frame), path / "part-0.parquet")
        else:
            frame.write.parquet(str(path))
        return part

    def _table(self, name: str) -> TableEntry:
        entry = self._entry(name)
        if not isinstance(entry, TableEntry):
            raise WarehouseError(f"Spark warehouse: no table {name!r}" + (" (it is a view)" if entry else ""))
        return entry

    def _create(self, tree: exp.Create) -> list[tuple]:
        if tree.kind == "INDEX":
            return self._create_index(tree)
        name = _name(tree.this)
        temporary = any(isinstance(p, exp.TemporaryProperty) for p in tree.find_all(exp.TemporaryProperty))
        existing = self._entry(name)
        if existing is not None and tree.args.get("exists"):
            return []
        if existing is not None and not tree.args.get("replace"):
            raise WarehouseError(f"Spark warehouse: {name!r} already exists")
        if tree.kind == "VIEW":
            self._frame(tree.expression).schema  # noqa: B018 - checks the view's SQL resolves now
            self._set(name, ViewEntry(spark_tree(tree.expression).sql(dialect=SparkSql)))
            return []
        if tree.this.find(exp.ColumnConstraint, exp.PrimaryKey, exp.UniqueColumnConstraint):
            raise WarehouseError(
                f"Spark warehouse: {name!r}: constraints (primary keys, NOT NULL, defaults) are not "
                "kept on Spark: a unique key is a unique index (CREATE UNIQUE INDEX), which every write is "
                "checked against"
            )
        if tree.kind != "TABLE":
            raise WarehouseError(f"Spark warehouse: cannot create a {tree.kind}: {tree.sql()[:200]}")
        if tree.expression is not None:
            frame = self._frame(tree.expression)
            part = self._write(frame)
            rows = self.catalog.part_rows(part)
            entry = TableEntry(_nullable(frame.schema).json()).appended(part, rows)
            self._set(name, entry, temporary=temporary)
            return [(rows,)]
        columns = [c for c in tree.this.expressions if isinstance(c, exp.ColumnDef)]
        empty = exp.select(
            *[exp.cast(exp.null(), c.args["kind"]).as_(c.name, quoted=True) for c in columns]
        ).where(exp.false())
        schema = self.spark.sql(empty.sql(dialect=SparkSql)).schema
        self._set(name, TableEntry(_nullable(schema).json()), temporary=temporary)
        return []

    def _create_index(self, tree: exp.Create) -> list[tuple]:
        """A unique index becomes a unique key the table's writes are checked against; any other
        index is accepted and keeps nothing (Spark has no indexes: its Parquet readers skip row
        groups by their statistics)."""
        index = tree.this
        name, table = index.name.lower(), _name(index.args["table"])
        entry = self._table(table)
        given = index.args["params"].args.get("columns") or []
        columns = tuple((c.this if isinstance(c, exp.Ordered) else c).name.lower() for c in given)
        fields = {f.name.lower() for f in _schema(entry).fields}
        if not columns or not set(columns) <= fields:
            raise WarehouseError(
                f"Spark warehouse: index {name} on {table}: columns {list(columns)} are not all "
                f"columns of the table ({', '.join(sorted(fields))})"
            )
        if not tree.args.get("unique"):
            return []
        if any(n == name for n, _ in entry.unique):
            if tree.args.get("exists"):
                return []
            raise WarehouseError(f"Spark warehouse: index {name!r} already exists")
        self._set_checked(table, replace(entry, unique=(*entry.unique, (name, columns))), entry)
        return []

    def _set_checked(self, table: str, entry: TableEntry, before: TableEntry) -> None:
        """`_set`, then `_check_unique`; a duplicate puts `before` back, so the transaction sees
        the table as it was before the refused statement."""
        self._set(table, entry)
        try:
            self._check_unique(table)
        except WarehouseError:
            self._set(table, before)
            raise

    def _check_unique(self, table: str) -> None:
        """Refuse the table as this session now sees it when two rows share a unique key (a
        key with a null in it shares nothing, as in DuckDB and PostgreSQL). Run before the
        commit: two sessions writing one table at once are refused at the commit instead.
        An embedded DuckDB reads the key columns of the table's parts, where a Spark job per
        write cost ~0.3 s on the small tables that carry unique keys (the file ledger, the
        registries); the driver reads the parts' footers already (`part_rows`)."""
        entry = self._entry(table)
        if not isinstance(entry, TableEntry) or not entry.unique:
            return
        files = [str(f) for p in entry.parts for f in sorted(self.catalog.part_path(p).glob("*.parquet"))]
        if not files:
            return
        local = utc(duckdb.connect(config={"autoinstall_known_extensions": False}))
        try:
            for index, columns in entry.unique:
                keys = ", ".join(quote(c) for c in columns)
                found = local.execute(
                    f"select {keys}, count(*) from read_parquet(?, union_by_name = true) where "
                    + " and ".join(f"{quote(c)} is not null" for c in columns)
                    + f" group by {keys} having count(*) > 1 limit 1",
                    [files],
                ).fetchone()
                if found:
                    key = ", ".join(f"{c}={v!r}" for c, v in zip(columns, found, strict=False))
                    raise WarehouseError(
                        f"Spark warehouse: duplicate key ({key}) in {table}: {found[-1]} rows "
                        f"violate the unique index {index}"
                    )
        finally:
            local.close()

    def _insert(self, tree: exp.Insert) -> list[tuple]:
        target = tree.this
        name = _name(target)
        entry = self._table(name)
        for clause in ("conflict", "returning", "alternative", "ignore", "where", "overwrite"):
            if tree.args.get(clause):
                raise WarehouseError(
                    f"Spark warehouse: INSERT with {clause.upper()} is not supported (write the rows "
                    f"that are not there yet with NOT EXISTS): {tree.sql()[:200]}"
                )
        schema = _schema(entry)
        fields = [f.name.lower() for f in schema.fields]
        given = [c.name.lower() for c in target.expressions] if isinstance(target, exp.Schema) else []
        source = tree.expression
        if isinstance(source, exp.Values):
            width = len(source.expressions[0].expressions)
            columns = given or fields[:width] + [f"__extra_{i}" for i in range(width - len(fields))]
            source = exp.select("*").from_(source.as_("__values", quoted=True))
            source.args["from_"].this.args["alias"].set("columns", [exp.to_identifier(n) for n in columns])
        frame = self._frame(source)
        if tree.args.get("by_name"):
            names = [c.lower() for c in frame.columns]
        else:
            names = given or fields
            if len(frame.columns) != len(names):
                raise WarehouseError(
                    f"Spark warehouse: table {name} has {len(names)} columns but {len(frame.columns)} "
                    "values were supplied"
                )
        unknown = sorted(set(names) - set(fields))
        if unknown:
            raise WarehouseError(f"Spark warehouse: table {name} has no column {', '.join(unknown)}")
        frame = frame.toDF(*names)
        from pyspark.sql import functions as F

        aligned = frame.select(
            *[
                (F.col(f"`{f.name.lower()}`") if f.name.lower() in names else F.lit(None))
                .cast(f.dataType)
                .alias(f.name)
                for f in schema.fields
            ]
        )
        part = self._write(aligned)
        rows = self.catalog.part_rows(part)
        self._set_checked(name, entry.appended(part, rows), entry)
        return [(rows,)]

    def _rewrite_whole(self, name: str, query: exp.Select, before: int) -> list[tuple]:
        entry = self._table(name)
        part = self._write(self._frame(query))
        rows = self.catalog.part_rows(part)
        self._set(name, entry.rewritten(part, rows))
        return [(before - rows,)]

    def _delete(self, tree: exp.Delete) -> list[tuple]:
        for clause in ("using", "returning"):
            if tree.args.get(clause):
                raise WarehouseError(
                    f"Spark warehouse: DELETE ... {clause.upper()} is not supported: {tree.sql()[:200]}"
                )
        name = _name(tree.this)
        before = self.row_count(name)
        where = tree.args.get("where")
        keep = exp.select("*").from_(tree.this.copy())
        if where is not None:
            keep = keep.where(exp.not_(exp.func("coalesce", exp.paren(where.this.copy()), exp.false())))
        else:
            keep = keep.where(exp.false())
        return self._rewrite_whole(name, keep, before)

    def _update(self, tree: exp.Update) -> list[tuple]:
        for clause in ("from_", "returning"):
            if tree.args.get(clause):
                raise WarehouseError(
                    f"Spark warehouse: UPDATE ... {clause.rstrip('_').upper()} is not supported: "
                    f"{tree.sql()[:200]}"
                )
        name = _name(tree.this)
        entry = self._table(name)
        where = tree.args.get("where")
        hit = exp.func("coalesce", exp.paren(where.this.copy()), exp.false()) if where else exp.true()
        sets = {e.this.name.lower(): e.expression for e in tree.expressions}
        schema = _schema(entry)
        unknown = sorted(set(sets) - {f.name.lower() for f in schema.fields})
        if unknown:
            raise WarehouseError(f"Spark warehouse: table {name} has no column {', '.join(unknown)}")
        # Counted before the write, on the rows as they were; each set value cast to its column's
        # type (as DuckDB does), so that the new part keeps the table's schema.
        changed = self._frame(
            exp.select(exp.func("count", exp.Star())).from_(tree.this.copy()).where(hit.copy())
        )
        count = changed.collect()[0][0]
        columns = [
            exp.cast(
                exp.case()
                .when(hit.copy(), sets[f.name.lower()].copy())
                .else_(exp.column(f.name, quoted=True)),
                exp.DataType.build(f.dataType.simpleString(), dialect="spark"),
            ).as_(f.name, quoted=True)
            if f.name.lower() in sets
            else exp.column(f.name, quoted=True)
            for f in schema.fields
        ]
        part = self._write(self._frame(exp.select(*columns).from_(tree.this.copy())))
        self._set_checked(name, entry.rewritten(part, self.catalog.part_rows(part)), entry)
        return [(count,)]

    def _drop_statement(self, tree: exp.Drop) -> list[tuple]:
        for table in tree.args.get("tables") or [tree.this]:
            name = _name(table)
            entry = self._entry(name)
            if entry is None:
                if not tree.args.get("exists"):
                    raise WarehouseError(f"Spark warehouse: no {tree.kind.lower()} {name!r} to drop")
                continue
            if (tree.kind == "VIEW") != isinstance(entry, ViewEntry):
                raise WarehouseError(f"Spark warehouse: {name!r} is not a {tree.kind.lower()}")
            self._set(name, None)
        return []

    def _add_columns(self, name: str, added: list[exp.ColumnDef]) -> list[tuple]:
        """New columns change the schema only: the parts written before read them as null."""
        from pyspark.sql.types import StructType

        entry = self._table(name)
        schema = _schema(entry)
        have = {f.name.lower() for f in schema.fields}
        for column in added:
            if column.name.lower() in have:
                if column.args.get("exists"):
                    continue
                raise WarehouseError(f"Spark warehouse: table {name} already has a column {column.name!r}")
            typed = exp.select(exp.cast(exp.null(), column.args["kind"]).as_(column.name, quoted=True))
            schema = StructType(
                [*schema.fields, *_nullable(self.spark.sql(typed.sql(dialect=SparkSql)).schema)]
            )
            have.add(column.name.lower())
        self._set(name, replace(entry, schema=schema.json()))
        return []

    def _alter(self, tree: exp.Alter) -> list[tuple]:
        if tree.actions and all(isinstance(a, exp.ColumnDef) for a in tree.actions):
            return self._add_columns(_name(tree.this), list(tree.actions))
        renames = [a for a in tree.actions if isinstance(a, exp.AlterRename)]
        if len(renames) != 1 or len(tree.actions) != 1:
            raise WarehouseError(
                "Spark warehouse: only ALTER TABLE ... RENAME TO and ADD COLUMN are supported: "
                f"{tree.sql()[:200]}"
            )
        old, new = _name(tree.this), _name(renames[0].this)
        entry = self._entry(old)
        if entry is None or self._entry(new) is not None:
            raise WarehouseError(f"Spark warehouse: cannot rename {old!r} to {new!r}")
        temporary = old in self.temps
        if temporary:
            self.temps.pop(old)  # its parts move with it
            self._unregister(old)
        else:
            self._set(old, None)
        self._set(new, entry, temporary=temporary)
        return []

    _WRITERS = {
        exp.Create: _create,
        exp.Insert: _insert,
        exp.Delete: _delete,
        exp.Update: _update,
        exp.Drop: _drop_statement,
        exp.Alter: _alter,
    }

    def _statement(self, sql: str, params: Params):
        """A writing statement's rows ([(count,)] for DML), or a query's DataFrame."""
        record(sql)
        self._refresh()
        tree = bound(sql, params)
        writer = self._WRITERS.get(type(tree))
        if writer is None:
            if not isinstance(tree, exp.Query):
                raise WarehouseError(f"Spark warehouse: statement not supported: {sql.strip()[:200]}")
            return self._frame(tree)
        try:
            rows = writer(self, tree)
            if self.autocommit:
                self.commit()
        except BaseException:
            if self.autocommit:
                self.rollback()
            raise
        return rows

    def execute(self, sql: str, params: Params = None) -> None:
        result = self._statement(sql, params)
        if not isinstance(result, list):
            result.collect()

    def fetchall(self, sql: str, params: Params = None) -> list[tuple]:
        result = self._statement(sql, params)
        return result if isinstance(result, list) else [tuple(row) for row in result.collect()]

    def fetch_df(self, sql: str, params: Params = None) -> pd.DataFrame:
        result = self._statement(sql, params)
        if isinstance(result, list):
            return pd.DataFrame(result, columns=["count"])
        frame = result.toPandas()
        # Text as DuckDB hands it over (objects, None for null), not pandas' Arrow strings: the
        # layers were written against DuckDB's frames (an empty Arrow string column breaks a merge).
        for name in [c for c in frame.columns if pd.api.types.is_string_dtype(frame[c].dtype)]:
            if not pd.api.types.is_object_dtype(frame[name].dtype):
                frame[name] = frame[name].astype(object).where(frame[name].notna(), None)
        return frame

    def frame(self, sql: str):
        """A query's DataFrame, its tables registered: for work that stays in Spark (Splink)."""
        self._refresh()
        tree = bound(sql, None)
        if not isinstance(tree, exp.Query):
            raise WarehouseError(f"Spark warehouse: not a query: {sql.strip()[:200]}")
        return self._frame(tree)

    def write_parquet(self, sql: str, folder: Path) -> None:
        """A query's rows as Parquet files in the new folder `folder`, written by the executors
        (on a cluster, a folder they all reach): `blueprint compare` reads a view's rows so."""
        result = self._statement(sql, None)
        if isinstance(result, list):
            raise WarehouseError(f"Spark warehouse: not a query: {sql.strip()[:200]}")
        result.write.parquet(str(folder))

    def fetch_arrow(self, sql: str, params: Params = None) -> pa.Table:
        result = self._statement(sql, params)
        if isinstance(result, list):
            return pa.table({"count": [r[0] for r in result]})
        return arrow_of(result)

    def insert_from_local_query(
        self,
        table: str,
        columns: list[str],
        duckdb_sql: str,
        params: Params = None,
        after_sql: str = "",
        frames: Mapping[str, pd.DataFrame] | None = None,
        before_sql: Sequence[str] = (),
    ) -> tuple[int, list[tuple]]:
        """An embedded DuckDB runs the query and writes its rows, cast to the table's types, as
        a new Parquet part that the table adopts: files are parsed by DuckDB on every engine."""
        record("", table)
        self._refresh()
        entry = self._table(table)
        types = dict(self.columns(table))
        given = {c.lower() for c in columns}
        select = ", ".join(
            f"cast({quote(c) if c in given else 'null'} as {types[c]}) as {quote(c)}" for c in types
        )
        part, path = self.catalog.new_part()
        self.written.append(part)
        path.mkdir(parents=True)
        with tempfile.TemporaryDirectory(prefix="blueprint-local-") as spill:
            local = utc(
                duckdb.connect(config={"autoinstall_known_extensions": False, "temp_directory": spill})
            )
            try:
                for name, frame in (frames or {}).items():
                    local.register(name, frame)
                for statement in before_sql:
                    local.execute(statement, used_params(statement, params))
                renamed = ", ".join(quote(c) for c in columns)
                query = f"select {select} from ({duckdb_sql}) as q({renamed})"
                target = str(path / "part-0.parquet").replace("'", "''")
                inserted = local.execute(
                    f"copy ({query}) to '{target}' (format parquet)", used_params(duckdb_sql, params)
                ).fetchone()[0]
                after = local.execute(after_sql).fetchall() if after_sql else []
            finally:
                local.close()
        try:
            self._set_checked(table, entry.appended(part, int(inserted)), entry)
        except BaseException:
            if self.autocommit:
                self.rollback()
            raise
        if self.autocommit:
            self.commit()
        return int(inserted), after

    def adopt_parquet(self, table: str, files: Sequence[Path]) -> int:
        """(Re)create `table` from Parquet files written elsewhere (by an embedded DuckDB): they
        are copied into one new part, and the table takes their columns. Returns the row count."""
        self._refresh()
        part, path = self.catalog.new_part()
        self.written.append(part)
        path.mkdir(parents=True)
        for number, file in enumerate(files):
            shutil.copyfile(file, path / f"part-{number}.parquet")
        schema = self.spark.read.parquet(str(path)).schema
        rows = self.catalog.part_rows(part)
        self._set(table, TableEntry(_nullable(schema).json()).appended(part, rows))
        if self.autocommit:
            self.commit()
        return rows

    # -- the catalog's questions, answered from it ----------------------------------------------

    def relation_kind(self, name: str) -> str | None:
        self._refresh()
        entry = self._entry(name)
        if entry is None or name.lower() in self.temps:
            return None
        return "VIEW" if isinstance(entry, ViewEntry) else "BASE TABLE"

    def list_tables(self, *, views: bool = False) -> list[str]:
        self._refresh()
        return [n for n, e in self._entries().items() if views or isinstance(e, TableEntry)]

    def columns(self, table: str) -> list[tuple[str, str]]:
        self._refresh()
        entry = self._entry(table)
        if entry is None:
            return []
        if isinstance(entry, ViewEntry):
            self._register(table.lower())
            schema = self.spark.table(f"`{table.lower()}`").schema
        else:
            schema = _schema(entry)
        return [(f.name, duckdb_type(f.dataType.simpleString())) for f in schema.fields]

    def row_count(self, table: str) -> int:
        self._refresh()
        entry = self._entry(table)
        if isinstance(entry, TableEntry) and len(entry.rows) == len(entry.parts):
            return entry.row_count  # the catalog keeps each part's count
        self._register(table.lower())
        return int(self.spark.table(f"`{table.lower()}`").count())


# What a result may be estimated at (Spark's plan statistics, no job) and still be collected to
# the driver to be written there: the estimate of a Parquet scan is its files' compressed size,
# so the rows may take several times this in Arrow.
DRIVER_WRITE_BYTES = 16 << 20


def _estimated_small(frame) -> bool:
    """Whether the planner's size estimate is under DRIVER_WRITE_BYTES. A join's estimate is the
    product of its sides' (only ever too large); a generator (explode) is not counted in it, so a
    plan with one is written by the executors; so is every frame of a Spark Connect client."""
    if is_connect(frame.sparkSession):
        return False
    plan = frame._jdf.queryExecution().optimizedPlan()
    return int(plan.stats().sizeInBytes()) <= DRIVER_WRITE_BYTES and "Generate " not in plan.toString()


def arrow_of(frame) -> pa.Table:
    """A DataFrame's rows as an Arrow table (one job); a frame of no rows gives its empty table."""
    try:
        return frame.toArrow()
    except pa.ArrowInvalid:  # pyspark cannot make an Arrow table of no rows
        from pyspark.sql.pandas.types import to_arrow_schema

        return to_arrow_schema(frame.schema).empty_table()


def _schema(entry: TableEntry):
    from pyspark.sql.types import StructType

    return StructType.fromJson(json.loads(entry.schema))


def _nullable(schema):
    """Every column nullable: a table's later inserts may hold nulls where its first rows had none."""
    from pyspark.sql.types import StructField, StructType

    return StructType([StructField(f.name, f.dataType, True) for f in schema.fields])


class SparkWarehouse(Warehouse):
    """Spark (local mode, a standalone cluster or Spark Connect) over a warehouse folder."""

    master: str  # local[N], spark://host:port or sc://host:port
    path: str  # the warehouse folder: catalog.json and parts/
    catalog_url: str | None = None  # PostgreSQL for the catalog and run lock (else catalog.json)
    _catalog: Catalog | None = PrivateAttr(default=None)

    @property
    def dialect(self) -> str:
        return "spark"

    @property
    def display_url(self) -> str:
        shown = f"spark ({self.master}) at {Path(self.path).resolve()}"
        return shown + (f", catalog in {url_shown(self.catalog_url)}" if self.catalog_url else "")

    @property
    def url(self) -> str:
        """The URL that names this warehouse (`warehouse_from_url` reads it back)."""
        local = re.fullmatch(r"local\[(.+)\]", self.master)
        master = f"spark+local://{local.group(1)}" if local else self.master
        url = f"{master}?warehouse={Path(self.path).resolve()}"
        return url + (f"&catalog={url_quote(self.catalog_url, safe='')}" if self.catalog_url else "")

    def catalog(self) -> Catalog:
        if self._catalog is None:
            self._catalog = (
                PostgresCatalog(self.path, self.catalog_url) if self.catalog_url else Catalog(self.path)
            )
        return self._catalog

    @contextmanager
    def _session(self, autocommit: bool) -> Iterator[SparkSqlSession]:
        session = SparkSqlSession(spark_for(self.master).newSession(), self.catalog(), autocommit)
        try:
            yield session
        finally:
            session.close()

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self._session(autocommit=True) as session:
            yield session

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        with self._session(autocommit=False) as session:
            try:
                yield session
            except BaseException:
                session.rollback()
                raise
            session.commit()

    @contextmanager
    def run_lock(self) -> Iterator[None]:
        with self.catalog().run_lock():
            yield

    def check_reachable(self) -> None:
        self.catalog().snapshot()
        self.scalar("select 1")
