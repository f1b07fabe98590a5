"""Append new landing files to an object's raw table, once each, recorded in the file ledger.

The raw table keeps every row of every file as text, with the file and row it came from; staging
models type and deduplicate it. A file is identified by its path under the landing directory and
its checksum: the same bytes are never ingested twice, a changed file is a new batch.
"""

from __future__ import annotations

import codecs
import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import duckdb

from blueprint_pipeline.ingestion.landing import files_for, map_header, raw_column, read_header
from blueprint_pipeline.sql_models.project import SourceObject
from blueprint_pipeline.warehouse import Session, Warehouse, quote

LEDGER_TABLE = "ingested_files"
LINEAGE_COLUMNS = ("_source_file", "_source_row", "_ingested_at")


class SkipFile(Exception):
    """The file cannot be ingested; raised inside its transaction so nothing of it remains."""


@dataclass
class FileOutcome:
    file: str
    status: str  # "ingested", "already ingested", "skipped"
    rows: int = 0
    reason: str = ""


@dataclass
class IngestReport:
    obj: SourceObject
    files: list[FileOutcome] = field(default_factory=list)

    @property
    def rows_ingested(self) -> int:
        return sum(f.rows for f in self.files)

    def count(self, status: str) -> int:
        return sum(f.status == status for f in self.files)

    @property
    def errors(self) -> list[str]:
        return [f"{f.file}: {f.reason}" for f in self.files if f.status == "skipped"]


def raw_columns(obj: SourceObject) -> list[str]:
    return [raw_column(c) for c in obj.columns]


def ensure_tables(session: Session, obj: SourceObject) -> None:
    session.execute(
        f"create table if not exists {quote(LEDGER_TABLE)} (file varchar, checksum varchar, "
        "object varchar, rows_ingested bigint, ingested_at timestamp)"
    )
    cols = ", ".join(f"{quote(c)} varchar" for c in raw_columns(obj))
    session.execute(
        f"create table if not exists {quote(obj.table)} ({cols}, _source_file varchar, "
        "_source_row bigint, _ingested_at timestamp)"
    )


def fingerprint(path: Path) -> tuple[str, str]:
    """The file's sha256 and its encoding ('utf-8', or 'latin-1' when it is not valid UTF-8), in one pass.

    Real exports are not always UTF-8: the Salesforce Data Loader sample carries Latin-1 bytes.
    """
    digest = hashlib.sha256()
    decoder = codecs.getincrementaldecoder("utf-8")()
    utf8 = True
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
            if utf8:
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError:
                    utf8 = False
    if utf8:
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            utf8 = False
    return digest.hexdigest(), "utf-8" if utf8 else "latin-1"


def _select_sql(obj: SourceObject, mapping: dict[str, int | None], width: int) -> str:
    # Columns are read by position under neutral names, so headers with stray spaces or repeats
    # (the legacy Marketo extract writes " attributes") cannot confuse the reader.
    picks = [
        f"{quote(f'c{index}')}::varchar" if index is not None else "cast(null as varchar)"
        for index in (mapping[c] for c in obj.columns)
    ]
    names = ", ".join(f"'c{i}'" for i in range(width))
    # Every field as text (types are checked set-based afterwards); `ordinality` is the data row.
    return (
        f"select {', '.join(picks)}, $file, ordinality, cast($as_of as timestamp) "
        f"from read_csv($path, header = true, all_varchar = true, delim = ',', quote = '\"', "
        f"escape = '\"', encoding = $encoding, names = [{names}]) with ordinality"
    )


def ingest_file(session: Session, obj: SourceObject, path: Path, name: str, as_of: datetime) -> FileOutcome:
    checksum, encoding = fingerprint(path)
    seen = session.scalar(
        f"select count(*) from {quote(LEDGER_TABLE)} where file = $file and checksum = $checksum",
        {"file": name, "checksum": checksum},
    )
    if seen:
        return FileOutcome(name, "already ingested")
    header = read_header(path, encoding)
    if not header:
        rows = 0  # an empty file is an empty batch, not an error
    else:
        mapping = map_header(header, obj)
        if mapping.positions[obj.key] is None:
            raise SkipFile(f"missing required column '{obj.key}'")
        params = {
            "path": str(path),
            "file": name,
            "encoding": encoding,
            "as_of": as_of.isoformat(sep=" "),
        }
        try:
            rows = session.insert_from_local_query(
                obj.table,
                [*raw_columns(obj), *LINEAGE_COLUMNS],
                _select_sql(obj, mapping.positions, len(header)),
                params,
            )
        except duckdb.Error as exc:
            reason = str(exc).strip().splitlines()[0]
            raise SkipFile(f"not a readable CSV file: {reason}") from exc
    session.execute(
        f"insert into {quote(LEDGER_TABLE)} "
        "values ($file, $checksum, $object, $rows, cast($as_of as timestamp))",
        {
            "file": name,
            "checksum": checksum,
            "object": obj.table,
            "rows": rows,
            "as_of": as_of.isoformat(sep=" "),
        },
    )
    return FileOutcome(name, "ingested", rows)


def ingest_object(
    warehouse: Warehouse,
    landing: Path,
    obj: SourceObject,
    extra_names: dict[str, str],
    as_of: datetime,
) -> IngestReport:
    """Ingest the object's new files, each in its own transaction with its ledger entry."""
    report = IngestReport(obj)
    with warehouse.transaction() as session:
        ensure_tables(session, obj)
    for path in files_for(landing, obj, extra_names):
        name = str(path.relative_to(landing))
        try:
            with warehouse.transaction() as session:
                report.files.append(ingest_file(session, obj, path, name, as_of))
        except SkipFile as exc:
            report.files.append(FileOutcome(name, "skipped", reason=str(exc)))
    return report
