"""The Spark warehouse's tables: Parquet folders never changed once written, and one catalog file.

Spark's own catalogs do not fit this project: the in-memory one is lost with its process, the
embedded Derby metastore admits one JVM at a time (the UI, the daemon and every run are processes
of their own), and the transactional table formats (Delta Lake, Iceberg) come as jars from Maven.
So the warehouse folder keeps its own small format (docs/decisions.md, "Spark's tables"):

    <folder>/catalog.json    {"version": n, "tables": {name: {"schema", "parts", "rows", "unique"}},
                              "views": {name: sql}, "retired": {part: when}}
    <folder>/parts/<id>/     one write's Parquet files (a table is the union of its parts)

A transaction writes new part folders, then commits by writing the next catalog beside the current
one and renaming it over it: one atomic rename makes every table the transaction changed visible
together, or none of them. A reader works on the catalog as it was when it read it (a snapshot);
a part a commit stops naming is listed as retired and deleted `GRACE_SECONDS` after that commit,
so a reader's snapshot stays readable that long. Commits take turns under a file lock and
refuse to overwrite a table another commit changed since the transaction began.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

import pyarrow.parquet as pq

from blueprint_pipeline.core.errors import WarehouseError

CATALOG_FILE = "catalog.json"
PARTS_FOLDER = "parts"
# How long a part is kept after the commit that stopped naming it: a reader's snapshot (a query,
# a run's session) that began before that commit stays readable for this long.
GRACE_SECONDS = 3600.0
# How long a part no catalog ever named is kept (by its folder's time): the longest a transaction
# may stay open between writing a part and committing it.
ORPHAN_GRACE_SECONDS = 24 * 3600.0


@dataclass(frozen=True)
class TableEntry:
    schema: str  # Spark's StructType as JSON: a table with no rows still has its columns
    parts: tuple[str, ...] = ()  # part ids, in the order they were written
    rows: tuple[int, ...] = ()  # each part's row count (its Parquet footers'), so counting is free
    # Unique keys by index name: each write to the table checks them before its commit
    # (`SparkSqlSession._check_unique`); Spark keeps no index of its own.
    unique: tuple[tuple[str, tuple[str, ...]], ...] = ()

    @property
    def row_count(self) -> int:
        return sum(self.rows)

    def appended(self, part: str, rows: int) -> TableEntry:
        return replace(self, parts=(*self.parts, part), rows=(*self.rows, rows))

    def rewritten(self, part: str, rows: int) -> TableEntry:
        return replace(self, parts=(part,), rows=(rows,))


@dataclass(frozen=True)
class ViewEntry:
    sql: str  # Spark SQL, resolved against the tables when read


Entry = TableEntry | ViewEntry


@dataclass(frozen=True)
class Snapshot:
    version: int
    entries: dict[str, Entry] = field(default_factory=dict)
    retired: dict[str, float] = field(default_factory=dict)  # part -> when it stopped being named


def _named(entries: dict[str, Entry]) -> set[str]:
    return {p for e in entries.values() if isinstance(e, TableEntry) for p in e.parts}


def _document(snapshot: Snapshot) -> dict:
    entries = sorted(snapshot.entries.items())
    return {
        "version": snapshot.version,
        "tables": {n: _encode(e) for n, e in entries if isinstance(e, TableEntry)},
        "views": {n: e.sql for n, e in entries if isinstance(e, ViewEntry)},
        "retired": dict(sorted(snapshot.retired.items())),
    }


def _encode(entry: Entry) -> dict:
    if isinstance(entry, TableEntry):
        encoded = {"schema": json.loads(entry.schema), "parts": list(entry.parts), "rows": list(entry.rows)}
        if entry.unique:
            encoded["unique"] = {name: list(columns) for name, columns in entry.unique}
        return encoded
    return {"sql": entry.sql}


def _decode(data: dict) -> Entry:
    if "sql" in data:
        return ViewEntry(data["sql"])
    return TableEntry(
        json.dumps(data["schema"], sort_keys=True),
        tuple(data["parts"]),
        tuple(data.get("rows", ())),
        tuple((name, tuple(columns)) for name, columns in data.get("unique", {}).items()),
    )


def _snapshot(data: dict) -> Snapshot:
    entries = {name: _decode(e) for name, e in data.get("tables", {}).items()}
    entries.update({name: ViewEntry(sql) for name, sql in data.get("views", {}).items()})
    return Snapshot(int(data["version"]), entries, dict(data.get("retired", {})))


class Catalog:
    """One warehouse folder (created on first use), its catalog a file in it."""

    def __init__(self, root: Path | str):
        self.root = Path(root)
        self.parts = self.root / PARTS_FOLDER
        self.parts.mkdir(parents=True, exist_ok=True)
        self._file = self.root / CATALOG_FILE

    def snapshot(self) -> Snapshot:
        try:
            data = json.loads(self._file.read_text())
        except FileNotFoundError:
            return Snapshot(0)
        except (OSError, ValueError) as exc:
            raise WarehouseError(f"cannot read the Spark warehouse's catalog {self._file}: {exc}") from exc
        return _snapshot(data)

    def new_part(self) -> tuple[str, Path]:
        """A new part's id and folder (not created: Spark's writer creates it)."""
        part = f"{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:12]}"
        return part, self.parts / part

    def part_path(self, part: str) -> Path:
        return self.parts / part

    def part_rows(self, part: str) -> int:
        """A part's row count, from its Parquet files' footers (no Spark job)."""
        return sum(pq.ParquetFile(f).metadata.num_rows for f in self.part_path(part).glob("*.parquet"))

    @contextlib.contextmanager
    def _locked(self, name: str) -> Iterator[None]:
        with open(self.root / name, "a+") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    @contextlib.contextmanager
    def _commit_point(self) -> Iterator[tuple[Snapshot, Callable[[Snapshot], None]]]:
        """The current catalog, and how to replace it, while no other commit can run: here a
        file lock, and a rename of the next catalog file over the current one (atomic on one
        file system)."""
        with self._locked("catalog.lock"):

            def publish(snapshot: Snapshot) -> None:
                written = self.root / f"{CATALOG_FILE}.{snapshot.version}.tmp"
                with open(written, "w") as handle:
                    json.dump(_document(snapshot), handle, indent=1)
                    handle.flush()
                    os.fsync(handle.fileno())
                os.replace(written, self._file)  # the commit

            yield self.snapshot(), publish

    def commit(self, base: Snapshot, changes: dict[str, Entry | None]) -> Snapshot:
        """Apply `changes` (None: dropped) to the current catalog at once. Refused when a
        changed name moved since `base` (another session committed it meanwhile), or when a part
        it names is gone (a transaction older than the orphans' grace period)."""
        if not changes:
            return self.snapshot()
        with self._commit_point() as (current, publish):
            moved = sorted(n for n in changes if current.entries.get(n) != base.entries.get(n))
            if moved:
                shown = ", ".join(moved[:5]) + (f" and {len(moved) - 5} more" if len(moved) > 5 else "")
                raise WarehouseError(
                    f"Spark warehouse {self.root}: {shown} changed in another session since this "
                    "transaction began (runs on one warehouse take turns: see run_lock)"
                )
            entries = dict(current.entries)
            for name, entry in changes.items():
                if entry is None:
                    entries.pop(name, None)
                else:
                    entries[name] = entry
            missing = sorted(
                p for p in _named(entries) - _named(current.entries) if not self.part_path(p).is_dir()
            )
            if missing:
                raise WarehouseError(
                    f"Spark warehouse {self.root}: this transaction's parts {', '.join(missing)} are "
                    f"gone (a transaction open longer than {ORPHAN_GRACE_SECONDS / 3600:.0f} h?)"
                )
            now = time.time()
            # A part no table names any more is kept for the grace period from now, for readers
            # whose snapshot still names it; past it, it goes.
            retired = {**current.retired, **dict.fromkeys(_named(current.entries) - _named(entries), now)}
            expired = sorted(p for p, at in retired.items() if at < now - GRACE_SECONDS)
            retired = {p: at for p, at in retired.items() if p not in expired and p not in _named(entries)}
            snapshot = Snapshot(current.version + 1, entries, retired)
            publish(snapshot)
        self._vacuum(snapshot, expired)
        return snapshot

    def discard(self, parts: list[str]) -> None:
        """Delete parts a rolled-back transaction wrote (no catalog names them)."""
        for part in parts:
            shutil.rmtree(self.part_path(part), ignore_errors=True)

    def _vacuum(self, snapshot: Snapshot, expired: list[str]) -> None:
        """Best effort, after the commit (a failure here must not undo it): delete the parts whose
        grace period ended, and the orphans no catalog ever named (a transaction killed before
        its commit) once they are older than any transaction should be."""
        with contextlib.suppress(OSError):
            for part in expired:
                shutil.rmtree(self.part_path(part), ignore_errors=True)
            kept = _named(snapshot.entries) | set(snapshot.retired)
            cutoff = time.time() - ORPHAN_GRACE_SECONDS
            for folder in self.parts.iterdir():
                with contextlib.suppress(OSError):
                    if folder.name not in kept and folder.stat().st_mtime < cutoff:
                        shutil.rmtree(folder, ignore_errors=True)

    @contextlib.contextmanager
    def run_lock(self) -> Iterator[None]:
        """Runs on one warehouse folder take turns (a lock file; released when its process ends)."""
        path = self.root / "run.lock"
        with open(path, "a+") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                print(f"waiting for another run on the Spark warehouse {self.root} to finish", flush=True)
                fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)


class PostgresCatalog(Catalog):
    """The same folder of parts, with the catalog document and the run lock in PostgreSQL (a
    second URL): for a warehouse that writers on several machines share (a network file system
    whose locks cannot be trusted, Dagster steps in pods of their own), where a file lock and a
    rename are not one commit point. A commit is a PostgreSQL transaction that locks the
    warehouse's row, checks, and writes the next document; a run holds an advisory lock, which
    goes with its connection when the run dies."""

    TABLE = "blueprint_spark_catalogs"

    def __init__(self, root: Path | str, url: str):
        super().__init__(root)
        import sqlalchemy as sa

        self.url = url
        self.key = str(Path(root).resolve())
        self._engine = sa.create_engine(url, pool_pre_ping=True, connect_args={"connect_timeout": 10})
        try:
            with self._engine.begin() as conn:
                conn.exec_driver_sql(
                    f"create table if not exists {self.TABLE} (warehouse text primary key, "
                    "version bigint not null, document jsonb not null, committed_at timestamptz)"
                )
        except sa.exc.SQLAlchemyError as exc:
            from blueprint_pipeline.core.redact import url_shown

            reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
            raise WarehouseError(f"Spark catalog at {url_shown(url)}: {reason}") from exc

    def snapshot(self) -> Snapshot:
        with self._engine.connect() as conn:
            row = conn.exec_driver_sql(
                f"select document from {self.TABLE} where warehouse = %(key)s", {"key": self.key}
            ).first()
        return _snapshot(row[0]) if row else Snapshot(0)

    @contextlib.contextmanager
    def _commit_point(self) -> Iterator[tuple[Snapshot, Callable[[Snapshot], None]]]:
        with self._engine.begin() as conn:
            key = {"key": self.key}
            conn.exec_driver_sql(
                f"insert into {self.TABLE} values (%(key)s, 0, %(empty)s, now()) on conflict do nothing",
                key | {"empty": json.dumps(_document(Snapshot(0)))},
            )
            document = conn.exec_driver_sql(
                f"select document from {self.TABLE} where warehouse = %(key)s for update", key
            ).scalar_one()

            def publish(snapshot: Snapshot) -> None:
                conn.exec_driver_sql(
                    f"update {self.TABLE} set version = %(version)s, document = %(document)s, "
                    "committed_at = now() where warehouse = %(key)s",
                    key | {"version": snapshot.version, "document": json.dumps(_document(snapshot))},
                )

            yield _snapshot(document), publish  # the transaction's commit is the catalog's

    @contextlib.contextmanager
    def run_lock(self) -> Iterator[None]:
        key = {"key": f"blueprint spark run {self.key}"}
        with self._engine.connect() as conn:
            conn = conn.execution_options(isolation_level="AUTOCOMMIT")
            if not conn.exec_driver_sql("select pg_try_advisory_lock(hashtext(%(key)s))", key).scalar():
                print(f"waiting for another run on the Spark warehouse {self.root} to finish", flush=True)
                conn.exec_driver_sql("select pg_advisory_lock(hashtext(%(key)s))", key)
            try:
                yield
            finally:
                conn.exec_driver_sql("select pg_advisory_unlock(hashtext(%(key)s))", key)
