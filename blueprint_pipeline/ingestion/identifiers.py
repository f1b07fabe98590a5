"""The identifiers that tie a row to a person, and the hashes that keep forgotten persons out of
later extracts (docs/governance.md#right-to-be-forgotten)."""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections.abc import Iterable
from pathlib import Path

from blueprint_pipeline.core.atomic_files import replace_file
from blueprint_pipeline.ingestion.compressed import encoded_for, read_bytes
from blueprint_pipeline.ingestion.contract import SourceObject
from blueprint_pipeline.ingestion.landing import map_header, raw_column, read_header
from blueprint_pipeline.warehouse import Session, quote

FORGOTTEN = "forgotten_identifiers"
SYSTEMS = {"Salesforce": "salesforce", "Marketo": "marketo", "LinkedIn": "linkedin"}  # source-key suffixes
EMAIL_COLUMNS = {"email", "email_address", "to_address"}


def email_hash(address: str) -> str:
    """SHA-256 of the trimmed, lower-cased address (LinkedIn's matching hash, and the audit's)."""
    return hashlib.sha256(address.strip().lower().encode()).hexdigest()


def sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def id_kind(table: str, column: str) -> str | None:
    """Which identifier a column holds: 'person' (our person ids), 'source_key', a source
    system's record ids ('salesforce', 'marketo', 'linkedin'), 'email', or None. Record ids are
    matched within their system only: a Marketo lead id is a number another system may reuse."""
    if column in EMAIL_COLUMNS:
        return "email"
    if column in ("person_id", "other_person_id") or (table == "activation_members" and column == "key"):
        return "person"
    if column in ("source_key", "other_key") or (table == "person_match_records" and column == "unique_id"):
        return "source_key"  # person matching's records carry Splink's name for the key
    system = next((s for s in SYSTEMS.values() if table.startswith((f"raw_{s}__", f"stg_{s}__"))), None)
    person_objects = {"raw_salesforce__contact", "raw_salesforce__lead", "raw_marketo__leads"}
    if column in ("sfdc_contact_id", "sfdc_lead_id"):
        return "salesforce"
    if system == "salesforce" and column in ("contact_id", "lead_id", "who_id", "converted_contact_id"):
        return "salesforce"
    if system == "marketo" and column in ("lead_id", "merged_lead_id", "surviving_lead_id"):
        return "marketo"
    if system == "linkedin" and column in ("lead_id", "lead_gen_response_id"):
        return "linkedin"
    if table in person_objects and column == "id":
        return "salesforce" if system == "salesforce" else "marketo"
    return None


def suppressed(session: Session) -> dict[str, set[str]]:
    """kind -> hashes of forgotten identifiers (empty when nothing was ever forgotten)."""
    if not session.table_exists(FORGOTTEN):
        return {}
    found: dict[str, set[str]] = {}
    for kind, digest in session.fetchall(f"select kind, sha256 from {FORGOTTEN}"):
        found.setdefault(kind, set()).add(digest)
    return found


def suppress(session: Session, table: str, raw_table: str, forgotten: dict[str, set[str]]) -> int:
    """Delete from `table` (an ingestion's work table for `raw_table`) the rows of forgotten persons:
    their emails or record ids, matched by hash. The number of rows dropped."""
    if not forgotten:
        return 0
    dropped = 0
    # The work table has the raw table's columns (a PostgreSQL temporary table is in no schema we list).
    for column, _ in session.columns(raw_table):
        kind = id_kind(raw_table, column)
        if kind not in forgotten:
            continue
        values = [v for (v,) in session.fetchall(f"select distinct {quote(column)} from {quote(table)}") if v]
        digest = email_hash if kind == "email" else (lambda v: sha256(str(v).strip()))
        gone = [v for v in values if digest(v) in forgotten[kind]]
        if gone:
            where = f"{quote(column)} in (select unnest($v))"
            dropped += int(session.scalar(f"select count(*) from {quote(table)} where {where}", {"v": gone}))
            session.execute(f"delete from {quote(table)} where {where}", {"v": gone})
    return dropped


def forgotten_hit(
    path: Path, obj: SourceObject, aliases: dict, forgotten: dict[str, set[str]], encoding: str
):
    """For a landing file: a record whose emails or record ids hash to a forgotten person's."""
    header, _ = read_header(path, encoding)
    tests = []
    for name, position in map_header(header, obj, aliases).positions.items():
        kind = id_kind(obj.table, raw_column(name))
        if position is not None and kind in forgotten:
            tests.append((position, email_hash if kind == "email" else sha256, forgotten[kind]))

    def hit(fields: list[str]) -> bool:
        return any(
            position < len(fields) and fields[position].strip() and digest(fields[position].strip()) in hashes
            for position, digest, hashes in tests
        )

    return hit


def _records(text: str, delimiter: str) -> Iterable[tuple[list[str], str]]:
    """(fields, the record's original text) for each record of a CSV text, the header first."""
    lines = re.split(r"(?<=\n)", text)
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    start = 0
    for fields in reader:
        end = reader.line_num
        yield fields, "".join(lines[start:end])
        start = end


def redact_csv(path: Path, hit, scrub=None) -> tuple[bytes | None, int]:
    """A CSV file without the records `hit(fields)` selects, every other byte kept as it was, and
    `scrub(text)` applied to each kept record's text: (the new CSV bytes, uncompressed, or None when
    nothing changed; how many records were dropped). Nothing is written: the caller decides when
    (forget stages it)."""
    raw = read_bytes(path)
    try:
        raw.decode("utf-8")
        encoding = "utf-8"
    except UnicodeDecodeError:
        encoding = "windows-1252"
    bom = raw.startswith(b"\xef\xbb\xbf")
    text = raw.decode("utf-8-sig" if encoding == "utf-8" else encoding, errors="strict")
    _, delimiter = read_header(path, encoding)
    kept, dropped, scrubbed = [], 0, False
    for i, (fields, original) in enumerate(_records(text, delimiter)):
        if i and hit(fields):
            dropped += 1
            continue
        cleaned = scrub(original) if scrub is not None and i else original
        scrubbed |= cleaned != original
        kept.append(cleaned)
    if not dropped and not scrubbed:
        return None, 0
    return (b"\xef\xbb\xbf" if bom else b"") + "".join(kept).encode(encoding, errors="replace"), dropped


def rewrite_csv(path: Path, hit) -> int:
    """Drop the records `hit(fields)` selects, keeping every other byte as it was: how many. The new
    bytes go to a new file renamed over the old name (its times kept): a kill leaves the old file or
    the new one, never a truncated one, and a hard link to a file elsewhere is not written through."""
    content, dropped = redact_csv(path, hit)
    if content is None:
        return dropped
    replace_file(path, encoded_for(path, content), times_of=path)
    return dropped
