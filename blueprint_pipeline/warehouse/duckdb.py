"""The embedded default: one DuckDB file, one writing process at a time."""

from __future__ import annotations

import contextlib
import re
import sys
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import PrivateAttr

from blueprint_pipeline.core.errors import WarehouseError
from blueprint_pipeline.warehouse.base import Params, Session, Warehouse, quote
from blueprint_pipeline.warehouse.writes import record

_PARAM = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")
# The database handles runs hold in this process (yield_for_execution), for memory sampling; the
# lock keeps a sample's cursor from outliving the handle it came from (it would keep the file open).
_HELD: dict[int, duckdb.DuckDBPyConnection] = {}
_HELD_LOCK = threading.Lock()


def held_buffer_bytes() -> int:
    """DuckDB's own accounting (`duckdb_memory()`) of every warehouse a run holds open in this
    process: its buffer, bounded by `memory_limit` (runtime/memory.py samples it)."""
    total = 0
    with _HELD_LOCK:
        for con in _HELD.values():
            cursor = con.cursor()
            try:
                total += int(
                    cursor.execute("select sum(memory_usage_bytes) from duckdb_memory()").fetchone()[0] or 0
                )
            finally:
                cursor.close()
    return total


def used_params(sql: str, params: Params) -> dict | None:
    # DuckDB rejects named parameters the statement does not use, so pass only the used ones.
    if not params:
        return None
    names = set(_PARAM.findall(sql))
    used = {k: v for k, v in params.items() if k in names}
    return used or None


def utc(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """Timestamps without an offset are UTC, whatever the machine's zone.

    Without the ICU extension DuckDB works in UTC already; with it, the zone must be set.
    """
    with contextlib.suppress(duckdb.Error):  # no ICU extension: already UTC
        con.execute("set TimeZone = 'UTC'")
    return con


class DuckDBSession(Session):
    dialect = "duckdb"

    def __init__(self, con: duckdb.DuckDBPyConnection):
        self.con = con

    def _run(self, sql: str, params: Params) -> duckdb.DuckDBPyConnection:
        record(sql)
        return self.con.execute(sql, used_params(sql, params))

    def execute(self, sql: str, params: Params = None) -> None:
        self._run(sql, params)

    def fetchall(self, sql: str, params: Params = None) -> list[tuple]:
        return self._run(sql, params).fetchall()

    def fetch_df(self, sql: str, params: Params = None) -> pd.DataFrame:
        return self._run(sql, params).df()

    def fetch_arrow(self, sql: str, params: Params = None) -> pa.Table:
        record(sql)
        return self.con.sql(sql, params=used_params(sql, params)).to_arrow_table()

    def fetch_text_frame(self, sql: str, params: Params = None) -> pd.DataFrame:
        table = self.fetch_arrow(sql, params)
        # Text columns straight to object arrays (None for null): Arrow's to_pandas gives pandas'
        # str dtype, and turning that into objects again cost 6 s for 1.76M records' cleaning.
        return pd.DataFrame(
            {
                name: pd.Series(_text_objects(column), dtype=object, copy=False)
                if pa.types.is_string(column.type) or pa.types.is_large_string(column.type)
                else column.to_pandas()
                for name, column in zip(table.column_names, table.columns, strict=True)
            },
            copy=False,  # one block per column: consolidating 20 text columns cost 0.7 s
        )

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
        for name, frame in (frames or {}).items():
            self.con.register(name, frame)
        try:
            for statement in before_sql:
                self.execute(statement, params)
            cols = ", ".join(quote(c) for c in columns)
            inserted = self.scalar(f"insert into {quote(table)} ({cols}) {duckdb_sql}", params)
            return int(inserted or 0), (self.fetchall(after_sql) if after_sql else [])
        finally:
            for name in frames or {}:
                self.con.unregister(name)


def _text_objects(column: pa.ChunkedArray) -> np.ndarray:
    """A text column as an object array holding one Python string per distinct text, None for
    null: Arrow's to_numpy makes one per value. On 1.78M compared records (26 text columns) that
    was 3.88 GB of strings against 2.24 GB (docs/benchmarks.md); on an idle machine the encoding
    was also the faster (12 columns of 1.78M: 4.5 s against 7.1 s)."""
    encoded = pc.dictionary_encode(column.combine_chunks())
    texts = np.append(encoded.dictionary.to_numpy(zero_copy_only=False), None)  # None: the last
    return texts[encoded.indices.fill_null(len(encoded.dictionary)).to_numpy()]


# 2 GB: at 1M persons the build took as long as with 2.5 or 3 GB (spilling cost nothing measurable)
# and its process stayed under 4 GB (docs/decisions.md); a larger machine raises it in the URL.
DEFAULT_MEMORY_LIMIT = "2GB"


class DuckDBWarehouse(Warehouse):
    """A DuckDB database file (created with its folder on first use)."""

    path: str
    # DuckDB allows one writing process: wait this long for another run to release the file.
    lock_timeout_seconds: float = 600.0
    # DuckDB's own default is 80% of RAM; bounded, it spills to disk instead (docs/benchmarks.md).
    # The URL's `?memory_limit=` sets it (warehouse_from_url).
    memory_limit: str = DEFAULT_MEMORY_LIMIT
    _held: duckdb.DuckDBPyConnection | None = PrivateAttr(default=None)

    @property
    def dialect(self) -> str:
        return "duckdb"

    @property
    def display_url(self) -> str:
        bound = "" if self.memory_limit == DEFAULT_MEMORY_LIMIT else f"?memory_limit={self.memory_limit}"
        return f"duckdb:///{Path(self.path).resolve()}{bound}"

    def engine_memory_bytes(self) -> int | None:
        return held_buffer_bytes()

    @contextmanager
    def yield_for_execution(self, context) -> Iterator[DuckDBWarehouse]:
        """For the length of a run, one database handle: each session is a cursor on it, which
        costs nothing, where opening the file costs tens of milliseconds and its last close a
        checkpoint (a build opens a few hundred sessions). Released when the run ends, so other
        processes (the UI, the CLI) can open the file again."""
        con = self._connect()
        self._held = con
        with _HELD_LOCK:
            _HELD[id(con)] = con
        try:
            yield self
        finally:
            with _HELD_LOCK:
                _HELD.pop(id(con), None)
            self._held = None
            con.close()

    def _connect(self) -> duckdb.DuckDBPyConnection:
        held = getattr(self, "_held", None)
        if held is not None:
            return utc(held.cursor())
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        deadline = time.monotonic() + self.lock_timeout_seconds
        waited = False
        while True:
            try:
                con = duckdb.connect(
                    self.path,
                    config={
                        "autoinstall_known_extensions": False,
                        "memory_limit": self.memory_limit,
                        # Row order of big inserts does not matter here (keys and lineage columns
                        # say where a row came from); not keeping it saves memory and time.
                        "preserve_insertion_order": False,
                    },
                )
                break
            except duckdb.IOException as exc:
                if "lock" not in str(exc).lower():
                    raise WarehouseError(f"cannot open DuckDB warehouse {self.path}: {exc}") from exc
                if time.monotonic() > deadline:
                    raise WarehouseError(
                        f"DuckDB warehouse {self.path} stayed locked by another process for "
                        f"{self.lock_timeout_seconds:.0f} s (DuckDB allows one writer: another run, "
                        "or a Python shell holding the file?)"
                    ) from exc
                if not waited:
                    print(
                        f"waiting for the DuckDB warehouse {self.path}: another process holds it",
                        file=sys.stderr,
                    )
                    waited = True
                time.sleep(0.5)

        return utc(con)

    @contextmanager
    def session(self) -> Iterator[Session]:
        con = self._connect()
        try:
            yield DuckDBSession(con)
        finally:
            con.close()

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        con = self._connect()
        try:
            con.begin()
            yield DuckDBSession(con)
            con.commit()
        except BaseException:
            con.rollback()
            raise
        finally:
            con.close()
