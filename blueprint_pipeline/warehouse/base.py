"""The warehouse interface every asset talks to, whichever engine is behind it.

All SQL in this project is written once, in DuckDB's dialect, with named parameters as `$name`.
The PostgreSQL implementation transpiles it with sqlglot; values always travel as bound parameters.
"""

from __future__ import annotations

import contextlib
import re
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import dagster as dg
import pandas as pd
import pyarrow as pa
from sqlglot import exp

Params = Mapping[str, Any] | None


def quote(identifier: str) -> str:
    """A safely quoted SQL identifier (table or column name)."""
    return exp.to_identifier(identifier, quoted=True).sql(dialect="duckdb")


def sql_text(text: str) -> str:
    """`text` as an SQL string literal (every engine here reads it alike)."""
    return "'" + text.replace("'", "''") + "'"


_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def checked_identifier(name: str, what: str = "identifier") -> str:
    """Raise unless `name` is a plain identifier; used on names that come from config or files."""
    if not _IDENTIFIER.match(name):
        raise ValueError(f"invalid {what} {name!r}: expected letters, digits and underscores")
    return name


class Session(ABC):
    """One open connection; statements inside `Warehouse.transaction()` commit or roll back together."""

    dialect: str  # sqlglot dialect name of the engine: 'duckdb', 'postgres' or 'spark'
    # A view is resolved against the tables as they are when read (DuckDB, Spark); PostgreSQL's
    # views pin the tables they read, so the SQL models' views are built as tables there.
    live_views: bool = True

    @abstractmethod
    def execute(self, sql: str, params: Params = None) -> None: ...

    @abstractmethod
    def fetchall(self, sql: str, params: Params = None) -> list[tuple]: ...

    @abstractmethod
    def fetch_df(self, sql: str, params: Params = None) -> pd.DataFrame: ...

    def fetch_text_frame(self, sql: str, params: Params = None) -> pd.DataFrame:
        """fetch_df for a large frame of text columns (object dtype, None for null): DuckDB hands
        it over through Arrow, which makes each distinct text one Python string once (1.76M
        records of 20 text columns: ~9 s against ~14 s by fetch_df); here pandas' text columns
        are turned into objects."""
        frame = self.fetch_df(sql, params)
        for name in [c for c in frame.columns if pd.api.types.is_string_dtype(frame[c].dtype)]:
            if not pd.api.types.is_object_dtype(frame[name].dtype):
                frame[name] = frame[name].astype(object).where(frame[name].notna(), None)
        return frame

    def fetch_arrow(self, sql: str, params: Params = None) -> pa.Table:
        """A query's rows as an Arrow table (text as Arrow strings, not Python objects): for
        large reads handed on to an embedded DuckDB, which scans Arrow where it lies."""
        table = pa.Table.from_pandas(self.fetch_df(sql, params), preserve_index=False)
        # A column of nulls only has no type in pandas: text, as the warehouse column would be.
        typed = [pa.string() if t == pa.null() else t for t in table.schema.types]
        return table.cast(pa.schema([pa.field(n, t) for n, t in zip(table.column_names, typed, strict=True)]))

    @contextmanager
    def dropped_after(self, *tables: str) -> Iterator[None]:
        """Drops the (temporary) tables when the block ends. After an error the drops are
        best-effort: on PostgreSQL the failed statement aborted the transaction, whose rollback
        removes them, and a drop failing there must not hide the error."""
        try:
            yield
        except BaseException:
            with contextlib.suppress(Exception):
                self._drop(tables)
            raise
        self._drop(tables)

    def _drop(self, tables: tuple[str, ...]) -> None:
        for table in tables:
            self.execute(f"drop table if exists {quote(table)}")

    def temporary_table(self, name: str, frame: pd.DataFrame) -> None:
        """(Re)creates the temporary table `name` holding `frame`'s rows, every column text: a
        local frame to join in this session's statements (on both engines a temporary table is
        the way; the caller drops it when done)."""
        self.execute(f"drop table if exists {quote(name)}")
        columns = ", ".join(f"{quote(c)} varchar" for c in frame.columns)
        self.execute(f"create temporary table {quote(name)} ({columns})")
        if len(frame):
            self.insert_from_local_query(name, list(frame.columns), "select * from f", frames={"f": frame})

    def scalar(self, sql: str, params: Params = None) -> Any:
        rows = self.fetchall(sql, params)
        return rows[0][0] if rows else None

    def replace_table(self, table: str, frame: pd.DataFrame) -> int:
        """(Re)create `table` from a DataFrame (integers, floats, booleans, timestamps; else text)."""
        kinds = {"i": "bigint", "u": "bigint", "f": "double", "b": "boolean", "M": "timestamp"}
        columns = [f"{quote(c)} {kinds.get(frame[c].dtype.kind, 'varchar')}" for c in frame.columns]
        self.execute(f"drop table if exists {quote(table)}")
        self.execute(f"create table {quote(table)} ({', '.join(columns)})")
        inserted, _ = self.insert_from_local_query(
            table, list(frame.columns), "select * from frame", frames={"frame": frame}
        )
        return inserted

    @abstractmethod
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
        """Append the rows of a DuckDB query (e.g. over `read_csv`) to `table`.

        This is how files are loaded: DuckDB parses CSV the same way for both warehouses.
        `before_sql` runs first and `after_sql` next, in the same DuckDB connection and with the
        same parameters (to read a file into a temporary table the query reads; to read what the
        query left, such as rejected lines). `frames` are DataFrames the query can read by name.
        Returns the number of rows appended and the rows of `after_sql`.
        """

    def relation_kind(self, name: str) -> str | None:
        """'BASE TABLE' or 'VIEW' for `name` in the current schema; None when there is none."""
        return self.scalar(
            "select table_type from information_schema.tables "
            "where table_name = $name and table_schema = current_schema()",
            {"name": name},
        )

    def table_exists(self, table: str) -> bool:
        return self.relation_kind(table) is not None

    def list_tables(self, *, views: bool = False) -> list[str]:
        """The base tables of the current schema, by name; with `views`, its views too (a SQL
        model materialised as a view reads like a table)."""
        kinds = "('BASE TABLE', 'VIEW')" if views else "('BASE TABLE')"
        return [
            name
            for (name,) in self.fetchall(
                "select table_name from information_schema.tables where table_schema = current_schema() "
                f"and table_type in {kinds} order by table_name"
            )
        ]

    def is_view(self, name: str) -> bool:
        return self.relation_kind(name) == "VIEW"

    def drop_relation(self, name: str) -> None:
        """Drop the table or the view `name`, if there is one (each engine refuses to drop a view
        as a table, and the reverse)."""
        self.execute(f"drop {'view' if self.is_view(name) else 'table'} if exists {quote(name)}")

    def columns(self, table: str) -> list[tuple[str, str]]:
        """(name, data type) of each column of `table`, in table order."""
        return [
            (name, dtype)
            for name, dtype in self.fetchall(
                "select column_name, data_type from information_schema.columns "
                "where table_name = $table and table_schema = current_schema() "
                "order by ordinal_position",
                {"table": table},
            )
        ]

    def row_count(self, table: str) -> int:
        return int(self.scalar(f"select count(*) from {quote(table)}"))


class Warehouse(dg.ConfigurableResource, ABC):
    """Where the tables live. Choose an implementation with `warehouse_from_url`."""

    @property
    @abstractmethod
    def dialect(self) -> str:
        """sqlglot dialect name: 'duckdb' or 'postgres'."""

    @property
    @abstractmethod
    def display_url(self) -> str:
        """The URL without any password, safe for logs and metadata."""

    @contextmanager
    @abstractmethod
    def session(self) -> Iterator[Session]:
        """A connection in autocommit mode, closed on exit."""

    @contextmanager
    @abstractmethod
    def transaction(self) -> Iterator[Session]:
        """A connection whose statements commit together on exit, or roll back on error."""

    def engine_memory_bytes(self) -> int | None:
        """The engine's own memory in this process, as it accounts for it (its buffer), or None
        when the engine is not in this process (a database server)."""
        return None

    def execute(self, sql: str, params: Params = None) -> None:
        with self.transaction() as session:
            session.execute(sql, params)

    def fetchall(self, sql: str, params: Params = None) -> list[tuple]:
        with self.session() as session:
            return session.fetchall(sql, params)

    def fetch_df(self, sql: str, params: Params = None) -> pd.DataFrame:
        with self.session() as session:
            return session.fetch_df(sql, params)

    def scalar(self, sql: str, params: Params = None) -> Any:
        with self.session() as session:
            return session.scalar(sql, params)

    @contextmanager
    def run_lock(self) -> Iterator[None]:
        """Held by a run from its first step to its last, so two runs never write the same tables
        at once. Nothing here: DuckDB's single writing process already orders runs."""
        yield

    def check_reachable(self) -> None:
        """Raise WarehouseError with the reason when the warehouse cannot be used."""
        self.scalar("select 1")
