"""Append new landing files to an object's raw table, once each, checked row by row.

The raw table keeps every good row of every file as text, with the file and record it came from;
staging models type and deduplicate it. Rows that break the contract (a missing key, a value that
does not parse as its type, a line with the wrong number of fields) go to `quarantine` with the
reason instead. The `ingested_files` ledger records each file (path, checksum, raw table, batch
number) in the same transaction as its rows, written first under a unique (checksum, raw table)
index: the same bytes load once per object whatever the file is called, a changed file is a new
batch, and a killed run leaves nothing half-loaded. A file rewritten without a forgotten person's
rows (here or by `blueprint forget`) keeps the checksum it arrived with and records its new bytes'
in `redacted_checksum`, which is not unique: two files can become the same bytes once redacted
(two rotated tracking files holding only that person), and either is known as already loaded.
"""

from __future__ import annotations

import codecs
import hashlib
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import duckdb

from blueprint_pipeline.core.faults import crash_point
from blueprint_pipeline.core.redact import redacted
from blueprint_pipeline.ingestion.compressed import (
    DAMAGED,
    duckdb_reads,
    is_compressed,
    is_gzip,
    open_bytes,
    open_text,
    plain_name,
)
from blueprint_pipeline.ingestion.contract import SourceObject
from blueprint_pipeline.ingestion.identifiers import forgotten_hit, rewrite_csv, suppress, suppressed
from blueprint_pipeline.ingestion.landing import (
    OUTSIDE,
    duplicate_fields,
    files_for,
    inside,
    is_csv,
    map_header,
    raw_column,
    read_header,
)
from blueprint_pipeline.ingestion.validation import error_expression, errors_column, salesforce_id_18
from blueprint_pipeline.warehouse import Session, Warehouse, quote
from blueprint_pipeline.warehouse.stateful import create

LEDGER_TABLE = "ingested_files"
QUARANTINE_TABLE = "quarantine"
LINEAGE_COLUMNS = ("_source_file", "_source_row", "_ingested_at", "_source_batch")
GLOB_CHARACTERS = set("*?[]{}")
EMPTY = hashlib.sha256(b"").hexdigest()


class SkipFile(Exception):
    """The file cannot be ingested; raised inside its transaction so nothing of it remains."""


@dataclass
class FileOutcome:
    file: str
    status: str  # "ingested", "already ingested", "skipped"
    rows: int = 0
    quarantined: int = 0
    reason: str = ""
    forgotten: int = 0  # rows of persons forgotten (docs/governance.md), dropped


@dataclass
class IngestReport:
    obj: SourceObject
    files: list[FileOutcome] = field(default_factory=list)

    @property
    def rows_ingested(self) -> int:
        return sum(f.rows for f in self.files)

    @property
    def rows_quarantined(self) -> int:
        return sum(f.quarantined for f in self.files)

    def count(self, status: str) -> int:
        return sum(f.status == status for f in self.files)

    @property
    def errors(self) -> list[str]:
        return [f"{f.file}: {f.reason}" for f in self.files if f.status == "skipped"]


def raw_columns(obj: SourceObject) -> list[str]:
    return [raw_column(c) for c in obj.columns]


def ensure_tables(session: Session, obj: SourceObject) -> None:
    create(session, LEDGER_TABLE, QUARANTINE_TABLE)
    cols = ", ".join(f"{quote(c)} varchar" for c in raw_columns(obj))
    session.execute(
        f"create table if not exists {quote(obj.table)} ({cols}, _source_file varchar, "
        "_source_row bigint, _ingested_at timestamp, _source_batch bigint)"
    )
    # A field added to the contract later: earlier rows did not carry it (NULL = absent).
    existing = {name for name, _ in session.columns(obj.table)}
    for column in raw_columns(obj):
        if column not in existing:
            session.execute(f"alter table {quote(obj.table)} add column {quote(column)} varchar")


def fingerprint(path: Path) -> tuple[str, str]:
    """The sha256 of the file's CSV bytes (decompressed for a `.csv.gz`) and their encoding
    ('utf-8', else 'windows-1252'), in one pass.

    Real exports are not always UTF-8: the Salesforce Data Loader sample carries Latin-1 bytes, and
    Excel saves Windows-1252 (a superset of Latin-1's printable characters: curly quotes, the euro).
    """
    digest = hashlib.sha256()
    decoder = codecs.getincrementaldecoder("utf-8")()
    utf8 = True
    if is_compressed(path) and not path.stat().st_size:  # a copy just begun
        raise SkipFile("an empty .gz file (still being copied in?): not a gzip file yet")
    if is_compressed(path) and not is_gzip(path):
        raise SkipFile("named .gz but not gzip-compressed: if it is a plain CSV, rename it to .csv")
    try:
        with open_bytes(path) as handle:
            first = True
            while chunk := handle.read(1 << 20):
                if first and chunk[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
                    raise SkipFile("a UTF-16 file (Excel 'Unicode text'): save it as CSV UTF-8")
                first = False
                if b"\x00" in chunk:
                    raise SkipFile("contains NUL bytes: not a text CSV file")
                digest.update(chunk)
                if utf8:
                    try:
                        decoder.decode(chunk)
                    except UnicodeDecodeError:
                        utf8 = False
    except DAMAGED as exc:  # a damaged file, or one still being copied in: retried on the next run
        raise SkipFile(
            f"not a readable gzip file ({exc}): retried on the next run (a copy still under way "
            "loads once whole); if it stays, compress it again or land the .csv"
        ) from exc
    if utf8:
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            utf8 = False
    return digest.hexdigest(), "utf-8" if utf8 else "windows-1252"


def _sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def read_statements(table: str, header: list[str], delimiter: str = ",") -> list[str]:
    """Read the file (`$path`) into a temporary work table as text, columns by position under
    neutral names (c0, c1, ...), so a header with stray spaces (the legacy Marketo extract's
    " attributes") or repeated names cannot confuse the reader. Lines the CSV reader rejects go
    to `reject_errors`.

    The checks then read this table, and its row ids number the records in file order: insertion
    order is kept for this statement (the warehouse drops it elsewhere), and a new table's row ids
    are consecutive (from an offset inside a transaction: counted from the smallest). Row numbers taken while
    reading (`with ordinality`) made the whole per-file pipeline run on one thread; a table first
    lets DuckDB read, check and copy on every core (docs/benchmarks.md)."""
    columns = ", ".join(f"'c{i}': 'VARCHAR'" for i in range(len(header)))
    return [
        "set session preserve_insertion_order = true",
        f"create temporary table {quote(table)} as select * "
        f"from read_csv($path, header = true, auto_detect = false, delim = {_sql_string(delimiter)}, "
        "quote = '\"', "
        f"escape = '\"', store_rejects = true, columns = {{{columns}}})",
        "reset session preserve_insertion_order",
    ]


def select_sql(obj: SourceObject, header: list[str], positions: dict[str, int | None], table: str) -> str:
    """One DuckDB query over the file's work table (`read_statements`): the contract's fields as text,
    lineage (the record's number among the file's records, from its row id), and `_errors`."""
    used = {p for p in positions.values() if p is not None}
    picks, checks = [], []
    for name in obj.columns:
        position = positions[name]
        if position is not None:
            column = quote(f"c{position}")
            # A field the file has is never NULL in the raw table ('' when empty): NULL means the
            # file had no such column, so staging keeps the value an earlier file gave.
            if obj.type_of(name) == "json":
                picks.append(f"coalesce({_json_object_form(column)}, '')")
            elif obj.type_of(name) == "text":
                picks.append(f"coalesce({column}::varchar, '')")
            elif obj.type_of(name) == "sfid":
                picks.append(f"coalesce({salesforce_id_18(f'trim({column}::varchar)')}, '')")
            else:  # typed values are stored trimmed, so every engine casts them the same way
                picks.append(f"coalesce(trim({column}::varchar), '')")
            checks.append(error_expression(name, column, obj.type_of(name), name == obj.key))
        elif name == obj.pack_extra_columns_into and len(used) < len(header):
            pairs = ", ".join(
                f"{_sql_string(h)}, {quote(f'c{i}')}" for i, h in enumerate(header) if i not in used
            )
            picks.append(f"json_object({pairs})::varchar")
        else:
            picks.append("cast(null as varchar)")
    # The whole line as read, kept only for quarantined rows (JSON of header -> value).
    record = (
        "json_object(" + ", ".join(f"{_sql_string(h)}, {quote(f'c{i}')}" for i, h in enumerate(header)) + ")"
    )
    errors = errors_column(checks)
    return (
        f"select {', '.join(picks)}, $file, rowid - (select min(rowid) from {quote(table)}) + 1, "
        f"cast($as_of as timestamp), $batch, {errors}, "
        f"case when {errors} is not null then {record}::varchar end "
        f"from {quote(table)}"
    )


def _json_object_form(column: str) -> str:
    """JSON as the current Marketo form: a legacy array of {name, value} pairs becomes an object."""
    pairs = (
        f"list_filter(list_transform(cast(json_extract({column}, '$[*]') as json[]), "
        "lambda e: {'k': e->>'name', 'v': e->'value'}), lambda p: p.k is not null)"
    )
    return (
        f"case when coalesce(json_valid({column}), false) and json_type({column}) = 'ARRAY' "
        f"then to_json(map_from_entries({pairs}))::varchar else {column}::varchar end"
    )


# One quarantine row per rejected line, whatever the number of errors DuckDB found on it.
REJECTS_SQL = (
    "select line, arg_max(error_type || ': ' || error_message, column_idx), any_value(csv_line) "
    "from reject_errors group by line order by line"
)


def ingest_file(
    session: Session, obj: SourceObject, path: Path, name: str, aliases: dict[str, list[str]], as_of: datetime
) -> FileOutcome:
    """Ingest one file in the caller's transaction; SkipFile rolls all of it back."""
    if not is_csv(path.name):
        raise SkipFile(f"not a .csv or .csv.gz file (mapped to {obj.name} in config?)")
    if GLOB_CHARACTERS & set(path.name):
        raise SkipFile(
            f"file names with any of {''.join(sorted(GLOB_CHARACTERS))} are not supported: rename it"
        )
    seen = path.stat()  # before any read: a file still growing is caught by `settled`
    if unchanged_since_loaded(session, obj.table, name, seen):
        return FileOutcome(name, "already ingested")
    checksum, encoding = fingerprint(path)
    earlier = loaded_as(session, obj.table, checksum, name)
    if earlier is not None:
        if earlier == name:  # its bytes are loaded: the next run need not read them again
            _remember_stat(session, obj.table, name, checksum, settled(path, seen))
        return FileOutcome(
            name, "already ingested", reason="" if earlier == name else f"same bytes as {earlier}"
        )
    stamp = as_of.isoformat(sep=" ")
    # Batches are numbered per raw table, so steps ingesting other objects at the same time (the
    # multiprocess and Celery executors) do not change this object's numbers.
    batch = int(
        session.scalar(
            f"select coalesce(max(batch_id), 0) + 1 from {quote(LEDGER_TABLE)} where source_table = $table",
            {"table": obj.table},
        )
    )
    # The ledger row first: a concurrent run ingesting the same bytes, or taking the same batch
    # number, fails here (unique indexes), before any row.
    session.execute(
        f"insert into {quote(LEDGER_TABLE)} (batch_id, file, checksum, source_table, rows_loaded, "
        "rows_quarantined, ingested_at) "
        "values ($batch, $file, $checksum, $table, 0, 0, cast($as_of as timestamp))",
        {"batch": batch, "file": name, "checksum": checksum, "table": obj.table, "as_of": stamp},
    )
    loaded = quarantined = forgotten = 0
    if checksum != EMPTY:  # a 0-byte file (or a compressed one holding no byte) is an empty batch
        with utf8_copy(path, encoding) as readable:
            loaded, quarantined, forgotten = _ingest_rows(session, obj, readable, name, aliases, stamp, batch)
    redacted_checksum = None
    if forgotten:  # the file must not keep what ingestion dropped: rewritten, its new bytes recorded
        rewrite_csv(path, forgotten_hit(path, obj, aliases, suppressed(session), encoding))
        seen = path.stat()
        redacted_checksum = fingerprint(path)[0]
    size, mtime = settled(path, seen)  # as the file is left (rewritten if someone was forgotten)
    session.execute(
        f"update {quote(LEDGER_TABLE)} set rows_loaded = $loaded, rows_quarantined = $quarantined, "
        "redacted_checksum = $redacted, file_size = $size, file_mtime_ns = $mtime "
        "where batch_id = $batch and source_table = $table",
        {
            "loaded": loaded,
            "quarantined": quarantined,
            "batch": batch,
            "table": obj.table,
            "redacted": redacted_checksum,
            "size": size,
            "mtime": mtime,
        },
    )
    return FileOutcome(name, "ingested", loaded, quarantined, forgotten=forgotten)


# A modification time this recent may not be the file's last: a copy still under way, or a
# filesystem whose clock steps coarsely (2 s on FAT, 1 s on some network mounts) could change the
# bytes and keep the time. Such a file is not remembered; the next run reads it again.
SETTLED_NS = 3 * 10**9


def settled(path: Path, seen: os.stat_result) -> tuple[int | None, int | None]:
    """The size and modification time to remember for a file read since `seen` (its stat before
    the read): none when it changed meanwhile or its time is too recent to trust."""
    now = path.stat()
    unchanged = (now.st_size, now.st_mtime_ns) == (seen.st_size, seen.st_mtime_ns)
    if not unchanged or time.time_ns() - now.st_mtime_ns < SETTLED_NS:
        return None, None
    return now.st_size, now.st_mtime_ns


def unchanged_since_loaded(session: Session, table: str, name: str, stat: os.stat_result) -> bool:
    """Whether the ledger saw this file, under this name, with this size and modification time:
    then its bytes are those loaded, and it is not read again. Every run lists the whole landing
    folder, and reading each file to its checksum took 5 s a run at large (3 GB). Only times that
    had settled when the file was read are remembered (`settled`); `touch` forces a check; the
    ledger's checksum still decides for every file that is read."""
    return bool(
        session.fetchall(
            f"select 1 from {quote(LEDGER_TABLE)} where source_table = $table and file = $file "
            "and file_size = $size and file_mtime_ns = $mtime limit 1",
            {"table": table, "file": name, "size": stat.st_size, "mtime": stat.st_mtime_ns},
        )
    )


def _remember_stat(
    session: Session, table: str, name: str, checksum: str, stat: tuple[int | None, int | None]
) -> None:
    """The size and time of the file whose bytes the ledger's row for `checksum` loaded."""
    if stat[0] is None:
        return
    session.execute(
        f"update {quote(LEDGER_TABLE)} set file_size = $size, file_mtime_ns = $mtime "
        "where source_table = $table and file = $file "
        "and (checksum = $checksum or redacted_checksum = $checksum)",
        {"table": table, "file": name, "checksum": checksum, "size": stat[0], "mtime": stat[1]},
    )


def loaded_as(session: Session, table: str, checksum: str, name: str) -> str | None:
    """The file under which these bytes were loaded into `table` (as they arrived, or as they were
    left after a forgotten person's rows were taken out), this file's own entry first; None when new."""
    found = session.fetchall(
        f"select file from {quote(LEDGER_TABLE)} where source_table = $table "
        "and (checksum = $checksum or redacted_checksum = $checksum) "
        "order by case when file = $file then 0 else 1 end, batch_id limit 1",
        {"checksum": checksum, "table": table, "file": name},
    )
    return found[0][0] if found else None


@contextmanager
def utf8_copy(path: Path, encoding: str) -> Iterator[Path]:
    """The file itself when it is UTF-8 (DuckDB reads UTF-8, and gzip by the `.gz` name), else a
    transcoded, uncompressed temporary copy. Windows-1252 leaves five bytes undefined; a file using
    them is read as Latin-1. A compressed file whose gzip header DuckDB refuses is copied too."""
    if encoding == "utf-8" and (not is_compressed(path) or duckdb_reads(path)):
        yield path
        return
    with tempfile.TemporaryDirectory(prefix="blueprint-") as folder:
        copy = Path(folder) / plain_name(path.name)
        for candidate in (encoding, "latin-1"):
            try:
                with (
                    open_text(path, candidate) as source,
                    copy.open("w", encoding="utf-8", newline="") as target,
                ):
                    shutil.copyfileobj(source, target, 1 << 20)
                break
            except UnicodeDecodeError:
                continue
        yield copy


def _ingest_rows(session, obj, path, name, aliases, stamp, batch) -> tuple[int, int, int]:
    """Map the (UTF-8) file's header to the contract and load its rows; SkipFile when it cannot."""
    header, delimiter = read_header(path)
    if not header or not any(h.strip() for h in header):
        raise SkipFile("the first line is empty: expected the header line")
    positions = map_header(header, obj, aliases).positions
    if positions[obj.key] is None:
        raise SkipFile(f"missing required column '{obj.key}'")
    if duplicated := duplicate_fields(header, obj, aliases):
        raise SkipFile(duplicated)
    try:
        return _load(session, obj, path, name, header, positions, delimiter, stamp, batch)
    except SkipFile:
        raise
    except Exception as exc:  # any engine error on this file skips the file, not the run
        raise SkipFile(f"could not be loaded ({type(exc).__name__}): {_first_line(exc)}") from exc


def _first_line(exc: Exception) -> str:
    return redacted(str(exc))


def _load(session, obj, path, name, header, positions, delimiter, stamp, batch) -> tuple[int, int, int]:
    """Read the file into a work table, drop forgotten persons' rows, quarantine the bad rows,
    append the good ones: (good, quarantined, forgotten)."""
    incoming = quote(f"{obj.table}__incoming")
    read = f"{obj.table}__read"
    cols = raw_columns(obj)
    session.execute(f"drop table if exists {incoming}")
    session.execute(f"drop table if exists {quote(read)}")
    # A temporary table: in memory (spilling if needed) on DuckDB, never in the database file.
    session.execute(
        f"create temporary table {incoming} ({', '.join(f'{quote(c)} varchar' for c in cols)}, "
        "_source_file varchar, _source_row bigint, _ingested_at timestamp, _source_batch bigint, "
        "_errors varchar, _record varchar)"
    )
    params = {"path": str(path), "file": name, "as_of": stamp, "batch": batch}
    try:
        _, rejects = session.insert_from_local_query(
            f"{obj.table}__incoming",
            [*cols, *LINEAGE_COLUMNS, "_errors", "_record"],
            select_sql(obj, header, positions, read),
            params,
            after_sql=REJECTS_SQL,
            before_sql=read_statements(read, header, delimiter),
        )
    except duckdb.Error as exc:
        hint = " (a .gz file: compress it again with gzip)" if is_compressed(path) else ""
        raise SkipFile(f"not a readable CSV file{hint}: {_first_line(exc)}") from exc
    forgotten = suppress(session, f"{obj.table}__incoming", obj.table, suppressed(session))
    key = quote(raw_column(obj.key))
    session.execute(
        f"insert into {quote(QUARANTINE_TABLE)} select $table, _source_file, null, _source_row, {key}, "
        f"_errors, _record, _ingested_at from {incoming} where _errors is not null",
        {"table": obj.table},
    )
    for line, reason, raw_line in rejects:
        session.execute(
            f"insert into {quote(QUARANTINE_TABLE)} values ($table, $file, $line, null, null, $reason, "
            "$raw, cast($as_of as timestamp))",
            {
                "table": obj.table,
                "file": name,
                "line": line,
                "reason": reason,
                "raw": raw_line,
                "as_of": stamp,
            },
        )
    column_list = ", ".join(quote(c) for c in [*cols, *LINEAGE_COLUMNS])
    session.execute(
        f"insert into {quote(obj.table)} ({column_list}) select {column_list} from {incoming} "
        "where _errors is null"
    )
    bad, good = session.fetchall(
        f"select count(*) filter (where _errors is not null), count(*) filter (where _errors is null) "
        f"from {incoming}"
    )[0]
    session.execute(f"drop table {incoming}")
    session.execute(f"drop table if exists {quote(read)}")  # on PostgreSQL it lived in the local DuckDB
    crash_point("ingest")
    return int(good), int(bad) + len(rejects), forgotten


def ingest_object(
    warehouse: Warehouse,
    landing: Path,
    obj: SourceObject,
    extra_names: dict[str, str],
    aliases: dict[str, list[str]],
    as_of: datetime,
) -> IngestReport:
    """Ingest the object's new files, each in its own transaction with its ledger entry."""
    report = IngestReport(obj)
    with warehouse.transaction() as session:
        ensure_tables(session, obj)
    for path in files_for(landing, obj, extra_names):
        name = str(path.relative_to(landing))
        if not inside(landing, path):
            report.files.append(FileOutcome(name, "skipped", reason=OUTSIDE))
            continue
        try:
            with warehouse.transaction() as session:
                report.files.append(ingest_file(session, obj, path, name, aliases, as_of))
        except SkipFile as exc:
            report.files.append(FileOutcome(name, "skipped", reason=str(exc)))
    return report
