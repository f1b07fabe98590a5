"""The production warehouse: PostgreSQL through SQLAlchemy and psycopg2.

Models and queries are written in DuckDB's dialect and transpiled here with sqlglot, so one SQL
text runs on both engines (docs/decisions.md, "SQL written once in DuckDB's dialect", says what
sqlglot changes and what it cannot).
"""

from __future__ import annotations

import functools
import io
import re
import sys
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager

import duckdb
import pandas as pd
import sqlalchemy as sa
import sqlglot
from sqlalchemy.engine import Connection, Engine
from sqlglot import exp

from blueprint_pipeline.core.errors import WarehouseError
from blueprint_pipeline.core.redact import url_shown, without_passwords
from blueprint_pipeline.warehouse.base import Params, Session, Warehouse, checked_identifier, quote
from blueprint_pipeline.warehouse.duckdb import used_params as _used
from blueprint_pipeline.warehouse.duckdb import utc
from blueprint_pipeline.warehouse.writes import record

_COPY_BATCH_ROWS = 50_000


def _csv_field(value: object) -> str:
    return "" if value is None else '"' + str(value).replace('"', '""') + '"'


def _hash(args: list[exp.Expression]) -> exp.Expression:
    """DuckDB's hash(a, b, ...), a 64-bit hash of its arguments, as PostgreSQL's hashtextextended
    of their text, each after its length ('-' for null) so no two argument lists give one text.
    Built as a tree, not parsed from text: parsing would turn an escaped MOD back into `%`."""

    def text(node: exp.Expression) -> exp.Expression:
        return exp.cast(node.copy(), exp.DataType.build("text"))

    def joined(*parts: exp.Expression) -> exp.Expression:
        return functools.reduce(lambda left, right: exp.DPipe(this=left, expression=right), parts)

    parts = [
        joined(
            exp.Coalesce(this=text(exp.Length(this=text(a))), expressions=[exp.Literal.string("-")]),
            exp.Literal.string(":"),
            exp.Coalesce(this=text(a), expressions=[exp.Literal.string("")]),
        )
        for a in args
    ]
    separated = [p for part in parts for p in (part, exp.Literal.string("|"))][:-1]
    return exp.Anonymous(this="hashtextextended", expressions=[joined(*separated), exp.Literal.number(0)])


@functools.lru_cache(maxsize=4096)
def to_postgres(sql: str) -> str:
    """DuckDB-dialect SQL with `$name` parameters -> PostgreSQL with psycopg2's `%(name)s`.

    psycopg2 reads `%` as a placeholder whenever parameters are passed (we always pass a dict), so
    literal percent signs are doubled and the placeholders sqlglot wrote are restored.
    """
    trees = sqlglot.parse(sql, read="duckdb")
    if len(trees) != 1:
        raise ValueError(f"expected one SQL statement, got {len(trees)}")

    def escape(node: exp.Expression) -> exp.Expression:
        # A node replaced here is not visited again by transform(): its arguments are escaped
        # first (a hash() inside MOD, a '%' inside hash()).
        if isinstance(node, exp.Literal) and node.is_string and "%" in node.this:
            return exp.Literal.string(node.this.replace("%", "%%"))
        if isinstance(node, exp.Mod):  # the % operator, written as a function psycopg2 leaves alone
            return exp.Anonymous(
                this="MOD", expressions=[node.this.transform(escape), node.expression.transform(escape)]
            )
        if isinstance(node, exp.Round) and not node.meta.get("pg"):
            # PostgreSQL rounds to n places only numerics, and rounds doubles half to even; DuckDB
            # rounds half away from zero, as PostgreSQL does numerics.
            numeric = exp.cast(node.this.transform(escape), exp.DataType.build("numeric"))
            rounded = exp.Round(this=numeric, decimals=node.args.get("decimals"))
            rounded.meta["pg"] = True
            return exp.cast(rounded, exp.DataType.build("double"))
        if isinstance(node, exp.Anonymous) and node.name.lower() == "hash":
            return _hash([a.transform(escape) for a in node.expressions])
        return node

    # Only literals, the modulo operator and ROUND change: placeholders stay %(name)s, whatever the text.
    return trees[0].transform(escape).sql(dialect="postgres")


@functools.lru_cache(maxsize=8)
def _engine(url: str) -> Engine:
    return sa.create_engine(url, pool_pre_ping=True)


_CREATE_IF_MISSING = re.compile(
    r"\s*create\s+(?:unique\s+)?(?:table|index)\s+if\s+not\s+exists\s+(\S+)", re.IGNORECASE
)


class PostgresSession(Session):
    dialect = "postgres"
    live_views = False

    def __init__(self, conn: Connection, autocommit: bool):
        self.conn = conn
        self.autocommit = autocommit

    def _run(self, sql: str, params: Params):
        record(sql)
        created = _CREATE_IF_MISSING.match(sql)
        if created:
            return self._create_if_missing(sql, params, created.group(1).strip('"').lower())
        return self.conn.exec_driver_sql(to_postgres(sql), dict(params or {}))

    def _create_if_missing(self, sql: str, params: Params, name: str):
        """Two sessions creating the same table at once collide in PostgreSQL's catalog (a unique
        violation on pg_type) although both said IF NOT EXISTS: the second waits for the first,
        under an advisory lock held until the first's transaction ends."""
        key = {"key": f"blueprint create {name}"}
        run = functools.partial(self.conn.exec_driver_sql, to_postgres(sql), dict(params or {}))
        if not self.autocommit:
            self.conn.exec_driver_sql("select pg_advisory_xact_lock(hashtext(%(key)s))", key)
            return run()
        self.conn.exec_driver_sql("select pg_advisory_lock(hashtext(%(key)s))", key)
        try:
            return run()
        finally:
            self.conn.exec_driver_sql("select pg_advisory_unlock(hashtext(%(key)s))", key)

    def execute(self, sql: str, params: Params = None) -> None:
        self._run(sql, params)

    def fetchall(self, sql: str, params: Params = None) -> list[tuple]:
        return [tuple(row) for row in self._run(sql, params).fetchall()]

    def fetch_df(self, sql: str, params: Params = None) -> pd.DataFrame:
        result = self._run(sql, params)
        return pd.DataFrame(result.fetchall(), columns=list(result.keys()))

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
        # Run the query in an embedded DuckDB and stream its rows with COPY, in batches.
        # CSV with every value quoted and NULL as an unquoted empty field, so that empty strings
        # and a literal backslash-N stay text.
        record("", table)
        cols = ", ".join(quote(c) for c in columns)
        copy = f"copy {quote(table)} ({cols}) from stdin with (format csv)"
        cursor = self.conn.connection.dbapi_connection.cursor()
        # A file read whole into a work table (ingestion's `before_sql`) spills beyond memory to a
        # folder of this call's own, not to DuckDB's default `.tmp` in the working directory (which
        # may not be writable, and which concurrent runs would share).
        with tempfile.TemporaryDirectory(prefix="blueprint-local-") as spill:
            config = {"autoinstall_known_extensions": False, "temp_directory": spill}
            local = utc(duckdb.connect(config=config))
            total = 0
            for name, frame in (frames or {}).items():
                local.register(name, frame)
            try:
                for statement in before_sql:
                    local.execute(statement, _used(statement, params))
                result = local.execute(duckdb_sql, _used(duckdb_sql, params))
                while rows := result.fetchmany(_COPY_BATCH_ROWS):
                    buffer = io.StringIO()
                    buffer.writelines(",".join(map(_csv_field, row)) + "\n" for row in rows)
                    buffer.seek(0)
                    cursor.copy_expert(copy, buffer)
                    total += len(rows)
                after = local.execute(after_sql).fetchall() if after_sql else []
            finally:
                local.close()
        return total, after


class PostgresWarehouse(Warehouse):
    """A PostgreSQL database; tables land in `schema_name` (created on first use)."""

    url: str
    schema_name: str = "public"

    @property
    def dialect(self) -> str:
        return "postgres"

    @property
    def display_url(self) -> str:
        return f"{without_passwords(self.url)} (schema {self.schema_name})"

    @contextmanager
    def _connection(self) -> Iterator[Connection]:
        checked_identifier(self.schema_name, "schema name")
        try:
            conn = _engine(self.url).connect()
        except sa.exc.OperationalError as exc:
            reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
            raise WarehouseError(f"cannot reach PostgreSQL at {self.display_url}: {reason}") from exc
        except (sa.exc.ArgumentError, ModuleNotFoundError) as exc:
            # A URL the parser refused may be split anywhere: shown without its user part at all.
            shown = f"{url_shown(self.url)} (schema {self.schema_name})"
            raise WarehouseError(f"bad PostgreSQL URL {shown}: {without_passwords(exc)}") from exc
        try:
            schema = quote(self.schema_name)
            exists = "select 1 from pg_namespace where nspname = %(name)s"
            if not conn.exec_driver_sql(exists, {"name": self.schema_name}).scalar():
                # Under a lock: concurrent first connections would collide as in _create_if_missing.
                conn.exec_driver_sql("select pg_advisory_xact_lock(hashtext('blueprint create schema'))")
                conn.exec_driver_sql(f"create schema if not exists {schema}")
                conn.commit()
            conn.exec_driver_sql(f"set search_path to {schema}")
            conn.exec_driver_sql("set time zone 'UTC'")  # offset-less timestamps are UTC
            conn.commit()
            yield conn
        finally:
            conn.close()

    @contextmanager
    def run_lock(self) -> Iterator[None]:
        """An advisory lock per schema on a connection of its own, waited for with a notice. A
        killed run's lock goes with its connection."""
        key = {"key": f"blueprint run {self.schema_name}"}
        with self._connection() as conn:
            conn = conn.execution_options(isolation_level="AUTOCOMMIT")
            if not conn.exec_driver_sql("select pg_try_advisory_lock(hashtext(%(key)s))", key).scalar():
                print(
                    f"waiting for another run on {self.display_url} to finish (runs on one schema "
                    "take turns)",
                    file=sys.stderr,
                    flush=True,
                )
                conn.exec_driver_sql("select pg_advisory_lock(hashtext(%(key)s))", key)
            try:
                yield
            finally:
                conn.exec_driver_sql("select pg_advisory_unlock(hashtext(%(key)s))", key)

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self._connection() as conn:
            conn = conn.execution_options(isolation_level="AUTOCOMMIT")
            yield PostgresSession(conn, autocommit=True)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        with self._connection() as conn, conn.begin():
            yield PostgresSession(conn, autocommit=False)
