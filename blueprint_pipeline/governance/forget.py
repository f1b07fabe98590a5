"""The right to be forgotten (docs/governance.md#right-to-be-forgotten).

`forget` finds every record of a person (the source records carrying the email, and every record
identity resolution joined to them), then, in one transaction: deletes their rows from every
table that holds them, redacts their fields in the append-only logs (the rows stay, so counts
stay true), blanks their email addresses and phone numbers wherever else they appear (free text,
quarantined lines) and their name in the records that carried those, and keeps an audit record and
the hashes of their identifiers. The files (landing, activation, reports, mailbox) are worked out
before the commit and staged beside them (`.forget-staging/`), then swapped in once the warehouse
has committed: a failure before that changes nothing, and a forget killed during the swap is
finished by running it again (files are matched by the hashes of every forgotten identifier, so
the work is idempotent). Later extracts that bring them back are dropped at ingestion by those
hashes (`suppress`): the person stays forgotten.

Nothing here writes a value of theirs anywhere but where it was, and nothing outside the folders
it is given (links out of them are skipped): reports carry counts and the request's hash only.
"""

from __future__ import annotations

import csv
import email
import email.policy
import hashlib
import json
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pandas as pd

from blueprint_pipeline.core.errors import BlueprintError
from blueprint_pipeline.core.redact import redacted as redacted_error
from blueprint_pipeline.governance.catalogue import mention_tables, redacted_columns
from blueprint_pipeline.governance.contact_points import (
    MIN_PHONE_DIGITS,
    Blanker,
    name_hash,
    phone_hash,
    sql_literal_pattern,
)
from blueprint_pipeline.ingestion.compressed import encoded_for
from blueprint_pipeline.ingestion.identifiers import (
    EMAIL_COLUMNS,
    FORGOTTEN,
    SYSTEMS,
    email_hash,
    forgotten_hit,
    id_kind,
    redact_csv,
    sha256,
    suppressed,
)
from blueprint_pipeline.ingestion.landing import OUTSIDE, files_for, inside, raw_column
from blueprint_pipeline.ingestion.raw_load import LEDGER_TABLE, QUARANTINE_TABLE, SkipFile, fingerprint
from blueprint_pipeline.warehouse import Session, Warehouse, quote
from blueprint_pipeline.warehouse.migrations import migrate
from blueprint_pipeline.warehouse.stateful import DROPPED_BY_FORGET, create

AUDIT = "forget_requests"
# The tables of the ledgers, which name files and never persons.
UNTOUCHED = {LEDGER_TABLE, AUDIT, FORGOTTEN}


@dataclass
class Person:
    """Everything that identifies one request's person, by kind (see id_kind)."""

    emails: set[str] = field(default_factory=set)
    ids: dict[str, set[str]] = field(default_factory=dict)
    names: set[str] = field(default_factory=set)  # "First Last", to blank mentions
    phones: set[str] = field(default_factory=set)  # as written in their records

    def values(self, kind: str) -> list[str]:
        """The person's identifiers of a kind, blanks left out (they would match every empty cell)."""
        found = self.emails if kind == "email" else self.ids.get(kind, set())
        return sorted(v for v in found if v and v.strip())

    def hashes(self) -> list[tuple[str, str]]:
        """Every identifier's hash; the phones' and names' too, so a forget run again after an
        interrupted swap finds them in the files when the records they came from are gone."""
        return (
            [("email", email_hash(e)) for e in self.values("email")]
            + [(kind, sha256(v)) for kind in self.ids for v in self.values(kind)]
            + [("phone", phone_hash(v)) for v in sorted(self.phones)]
            + [("name", name_hash(v)) for v in sorted(self.names)]
        )


@dataclass
class Outcome:
    request_hash: str
    persons: int
    deleted: dict[str, int] = field(default_factory=dict)
    redacted: dict[str, int] = field(default_factory=dict)
    files: dict[str, int] = field(default_factory=dict)  # kind of file -> files rewritten or removed
    skipped: list[str] = field(default_factory=list)  # files left alone, with the reason
    forgotten_on: datetime | None = None  # when the address was first forgotten, on a re-run

    def describe(self) -> str:
        deleted = sum(self.deleted.values())
        redacted = sum(self.redacted.values())
        files = ", ".join(_counted(n, kind) for kind, n in sorted(self.files.items()) if n) or "no files"
        skipped = "".join(f"; skipped {s}" for s in self.skipped)
        # An address that names no one is still suppressed from every later extract: say so, as
        # a re-run of the same forget says it changed nothing new.
        if self.forgotten_on is not None:
            found = f"already forgotten on {self.forgotten_on:%Y-%m-%d}, {self.persons} person(s)"
        elif self.persons == 0:
            found = "no person found with this address; it is now suppressed at ingestion"
        else:
            found = f"{self.persons} person(s)"
        return (
            f"request {self.request_hash[:12]}: {found}, {deleted:,} row(s) deleted from "
            f"{sum(1 for n in self.deleted.values() if n)} table(s), {redacted:,} row(s) redacted; "
            f"{files} (for the whole forget){skipped}"
        )


def _counted(n: int, kind: str) -> str:
    """'1 mailbox message', '2 mailbox messages' (the kinds are plural: 'landing files', ...)."""
    return f"{n} {kind[:-1] if n == 1 and kind.endswith('s') else kind}"


def _tables(session: Session) -> list[str]:
    """Every table of the warehouse's schema (the temporary ones of a running ingestion aside)."""
    return [t for t in session.list_tables() if not t.endswith("__incoming")]


def identify(session: Session, address: str) -> Person:
    """The records carrying the address, and every record identity resolution joined to them."""
    person = Person(emails={address.strip().lower()})
    tables = set(_tables(session))
    for table in sorted(t for t in tables if t.startswith("raw_")):
        columns = {c for c, _ in session.columns(table)}
        email_columns = sorted(columns & EMAIL_COLUMNS)
        id_columns = [(c, id_kind(table, c)) for c in ("id", "lead_id") if c in columns]
        id_columns = [(c, k) for c, k in id_columns if k not in (None, "email", "person")]
        for column in email_columns:
            for c, kind in id_columns:
                rows = session.fetchall(
                    f"select distinct {quote(c)} from {quote(table)} where lower(trim({quote(column)})) = $e",
                    {"e": address.strip().lower()},
                )
                person.ids.setdefault(kind, set()).update(str(v).strip() for (v,) in rows if v)
    keys = {f"{v}@prod.{suffix}" for suffix, kind in SYSTEMS.items() for v in person.ids.get(kind, ())}
    if "person_registry" in tables:
        persons = {
            p
            for (p,) in session.fetchall(
                "select distinct person_id from person_registry where source_key in (select unnest($k))",
                {"k": sorted(keys) or [""]},
            )
        }
        if "unified_persons" in tables:
            persons |= {
                p
                for (p,) in session.fetchall(
                    "select person_id from unified_persons where lower(trim(email)) = $e",
                    {"e": address.strip().lower()},
                )
            }
        keys |= {
            k
            for (k,) in session.fetchall(
                "select source_key from person_registry where person_id in (select unnest($p))",
                {"p": sorted(persons) or [""]},
            )
        }
        person.ids["person"] = persons
    for key in keys:
        record, _, suffix = key.rpartition("@prod.")
        if suffix in SYSTEMS:
            person.ids.setdefault(SYSTEMS[suffix], set()).add(record)
    person.ids["source_key"] = keys
    person.emails |= _linked_emails(session, tables, person)
    person.names = _names(session, tables, person)
    person.phones = _phones(session, tables, person)
    return person


PHONE_COLUMNS = {"phone", "mobile_phone", "phone_number", "mobile"}


def _phones(session: Session, tables: set[str], person: Person) -> set[str]:
    """The phone numbers written in the person's own records (raw extracts and the unified person)."""
    found = set()
    for table in sorted(t for t in tables if t.startswith("raw_") or t == "unified_persons"):
        columns = sorted({c for c, _ in session.columns(table)} & PHONE_COLUMNS)
        where = _matches(session, table, person) if columns else None
        if where is None:
            continue
        used = {k: v for k, v in _params(person).items() if f"${k}" in where}
        for column in columns:
            found |= {
                str(v).strip()
                for (v,) in session.fetchall(
                    f"select distinct {quote(column)} from {quote(table)} where {where}", used
                )
                if v is not None and sum(ch.isdigit() for ch in str(v)) >= MIN_PHONE_DIGITS
            }
    return found


def _linked_emails(session: Session, tables: set[str], person: Person) -> set[str]:
    """Other addresses of the same person (a Marketo lead joined to a contact under another one)."""
    found = set()
    for table in ("stg_salesforce__contacts", "stg_salesforce__leads", "stg_marketo__leads"):
        key = {"stg_salesforce__contacts": "contact_id"}.get(table, "lead_id")
        kind = id_kind(table, key)
        if table in tables and person.values(kind):
            found |= {
                e.strip().lower()
                for (e,) in session.fetchall(
                    f"select email from {table} where cast({key} as varchar) in (select unnest($ids)) "
                    "and email is not null",
                    {"ids": person.values(kind)},
                )
            }
    return found


def _names(session: Session, tables: set[str], person: Person) -> set[str]:
    if "unified_persons" not in tables:
        return set()
    rows = session.fetchall(
        "select first_name, last_name from unified_persons where person_id in (select unnest($p))",
        {"p": person.values("person") or [""]},
    )
    return {f"{f} {last}".strip() for f, last in rows if isinstance(f, str) and isinstance(last, str)}


def _matches(session: Session, table: str, person: Person) -> str | None:
    """A where-clause selecting the person's rows of `table`, or None when it cannot hold them.
    Only identifiers the person has are tested: an empty list must match nothing, never the
    empty cells of a raw extract."""
    tests = []
    for column, _ in session.columns(table):
        kind = id_kind(table, column)
        if kind is None or not person.values(kind):
            continue
        if kind == "email":
            tests.append(f"lower(trim({quote(column)})) in (select unnest($email))")
        else:
            tests.append(f"cast({quote(column)} as varchar) in (select unnest(${kind}))")
    if table == QUARANTINE_TABLE:  # a rejected line: its text says whose it was (see _quarantined)
        tests += [f"strpos(lower(raw_record), ${f'q{i}'}) > 0" for i in range(len(person.emails))]
        if person.values("salesforce"):
            tests.append("record_key in (select unnest($salesforce))")
    return " or ".join(tests) or None


def _quarantined(session: Session, people: list[Person]) -> list[int]:
    """Delete the quarantined lines that carry one of a person's record ids in a field of that
    kind (a Marketo activity's leadId): the JSON of a rejected record names its fields, a line
    too broken to split is matched by a field equal to an id of its own system. One pass for all
    the persons: only lines holding one of their ids somewhere are read. How many, per person."""
    ids = {v for p in people for kind in SYSTEMS.values() for v in p.values(kind)}
    ids = sorted(ids, key=len, reverse=True)
    if not ids or not session.table_exists(QUARANTINE_TABLE):
        return [0 for _ in people]
    rows = session.fetchall(
        f"select distinct source_table, file, raw_record from {QUARANTINE_TABLE} "
        "where raw_record is not null and regexp_matches(raw_record, $ids)",
        {"ids": sql_literal_pattern(ids)},
    )
    counts = [0 for _ in people]
    for source_table, file, raw in rows:
        owners = [i for i, person in enumerate(people) if _names_person(source_table, raw, person)]
        if not owners:
            continue
        session.execute(
            f"delete from {QUARANTINE_TABLE} where source_table = $t and file = $f and raw_record = $r",
            {"t": source_table, "f": file, "r": raw},
        )
        for i in owners:
            counts[i] += 1
    return counts


def _names_person(source_table: str, raw: str, person: Person) -> bool:
    try:
        record = json.loads(raw)
    except ValueError:
        record = None
    if isinstance(record, dict):
        pairs = [(id_kind(source_table, raw_column(str(k))), v) for k, v in record.items()]
    else:  # a line DuckDB could not split: which field is which is unknown, the system is not
        system = next((s for s in SYSTEMS.values() if source_table.startswith(f"raw_{s}__")), None)
        pairs = [(system, v) for v in next(csv.reader([raw]), [])]
    return any(
        kind is not None
        and value is not None
        and str(value).strip()
        and str(value).strip() in person.values(kind)
        for kind, value in pairs
    )


def _text_columns(session: Session, table: str) -> list[str]:
    return [
        c
        for c, t in session.columns(table)
        if any(k in t.lower() for k in ("char", "text", "string", "json"))
    ]


def blanker(people: list[Person], forgotten: dict[str, set[str]] | None = None) -> Blanker:
    """The one rule (contact_points.py) for these persons, and for every forgotten phone and name
    by hash when `forgotten` is given (the files: a re-run finds what an interrupted one left)."""
    forgotten = forgotten or {}
    return Blanker(
        emails={e for p in people for e in p.emails},
        phones={v for p in people for v in p.phones},
        names={n for p in people for n in p.names},
        phone_hashes=forgotten.get("phone", ()),
        name_hashes=forgotten.get("name", ()),
    )


def scrub_tables(session: Session, people: list[Person]) -> list[dict[str, int]]:
    """Blank the persons' contact points wherever they still appear (a colleague's Task subject
    "Call w/ Nicole Nelson (nicole.nelson@orion.com)", a note, a quarantined line) and their names
    as the rule says (contact_points.py): one pass over the tables for all of them. A broad
    pattern selects the rows in SQL; each distinct row is rewritten by the rule and updated by its
    old values. Rows per table, for each person (a row naming two persons counts for both)."""
    everyone = blanker(people)
    each = [blanker([p]) for p in people]
    scrubbed: list[dict[str, int]] = [{} for _ in people]
    mentions = mention_tables()
    for table in _tables(session):
        columns = _text_columns(session, table) if table not in UNTOUCHED else []
        found = everyone.sql_pattern(names=table in mentions)
        if not columns or found is None:
            continue
        text = [f"cast({quote(c)} as varchar)" for c in columns]
        where = " or ".join(f"regexp_matches({t}, $found, 'i')" for t in text)
        groups = ", ".join(str(i + 1) for i in range(len(text)))
        rows = session.fetchall(
            f"select {', '.join(text)}, count(*) from {quote(table)} where {where} group by {groups}",
            {"found": found},
        )
        types = dict(session.columns(table))
        for *old, count in rows:
            new = everyone.scrub_all(old, names=table in mentions)
            if new == old:
                continue  # the broad pattern's match was not a whole address, phone or name
            sets = ", ".join(
                f"{quote(c)} = cast($n{i} as {_cast_type(types[c])})" for i, c in enumerate(columns)
            )
            match = " and ".join(
                f"{text[i]} is null" if v is None else f"{text[i]} = $o{i}" for i, v in enumerate(old)
            )
            params = {f"n{i}": v for i, v in enumerate(new)}
            params |= {f"o{i}": v for i, v in enumerate(old) if v is not None}
            session.execute(f"update {quote(table)} set {sets} where {match}", params)
            for rule, counts in zip(each, scrubbed, strict=True):
                if rule.scrub_all(old, names=table in mentions) != old:
                    counts[table] = counts.get(table, 0) + int(count)
    return scrubbed


def _cast_type(data_type: str) -> str:
    return "json" if "json" in data_type.lower() else "varchar"


def scrubber(people: list[Person], forgotten: dict[str, set[str]] | None = None) -> Callable[[str], str]:
    """The same for a file's records: the rule, applied to each record's text."""
    rule = blanker(people, forgotten)
    return rule.scrub if rule else (lambda text: text)


def _params(person: Person) -> dict:
    params = {kind: person.values(kind) for kind in ("email", "person", "source_key", *SYSTEMS.values())}
    params = {kind: values for kind, values in params.items() if values}
    params |= {f"q{i}": e for i, e in enumerate(sorted(person.emails))}
    return params


def erase_tables(session: Session, person: Person) -> tuple[dict[str, int], dict[str, int], set[str]]:
    """Delete the person's rows everywhere, redact them in the logs: (deleted, redacted) per table,
    and the landing files their raw rows came from."""
    deleted, redacted, files = {}, {}, set()
    params = _params(person)
    logs = redacted_columns()  # the append-only logs, by their columns' forget role
    for table in _tables(session):
        if table in UNTOUCHED:
            continue
        where = _matches(session, table, person)
        if where is None:
            continue
        # Only the parameters the clause names: PostgreSQL refuses unused ones.
        used = {k: v for k, v in params.items() if f"${k}" in where}
        count = int(session.scalar(f"select count(*) from {quote(table)} where {where}", used))
        if not count:
            continue
        if table.startswith("raw_"):
            files |= {
                f
                for (f,) in session.fetchall(
                    f"select distinct _source_file from {quote(table)} where {where}", used
                )
            }
        if table == QUARANTINE_TABLE:
            files |= {
                f
                for (f,) in session.fetchall(
                    f"select distinct file from {QUARANTINE_TABLE} where {where}", used
                )
            }
        if table in logs:
            # Idempotency keys embed person ids: each becomes a token that still keeps keys apart.
            if "step_key" in {c for c, _ in session.columns(table)}:
                for person_id in person.values("person"):
                    session.execute(
                        f"update {quote(table)} set step_key = replace(step_key, $p, $t) "
                        "where strpos(step_key, $p) > 0",
                        {"p": person_id, "t": f"forgotten-{sha256(person_id)[:16]}"},
                    )
            blank = ", ".join(f"{quote(c)} = null" for c in logs[table])
            session.execute(f"update {quote(table)} set {blank} where {where}", used)
            redacted[table] = count
        else:
            session.execute(f"delete from {quote(table)} where {where}", used)
            deleted[table] = count
    # A cache whose rows depend on other rows goes whole once the person had a row anywhere
    # (its own row may not name them: a shared mailbox's address is left out of it).
    for table in sorted(DROPPED_BY_FORGET) if deleted or redacted else ():
        if session.table_exists(table):
            session.execute(f"drop table {quote(table)}")
    return deleted, redacted, files


def ensure_tables(session: Session) -> None:
    create(session, AUDIT, FORGOTTEN)


# Files ------------------------------------------------------------------------------------------

STAGING = ".forget-staging"


class Staged:
    """Files' new contents, written under `<root>/.forget-staging/` until the warehouse commits,
    then swapped in (an atomic rename each, the original's times kept so freshness still reads the
    extract's arrival). Only paths inside their root are accepted: forget never writes elsewhere."""

    def __init__(self) -> None:
        self.writes: list[tuple[Path, Path]] = []
        self.deletes: list[Path] = []
        self.roots: set[Path] = set()
        self.skipped: list[str] = []  # "<file>: <reason>", for the summary

    def write(self, root: Path, path: Path, content: bytes) -> None:
        if not inside(root, path):
            raise ValueError(f"{path} is outside {root}: not rewritten")
        if root not in self.roots:  # a fresh folder of our own: never one through a link
            clear_staging(root)
            (root / STAGING).mkdir()  # refuses whatever stands there (a link made meanwhile)
            self.roots.add(root)
        staged = root / STAGING / path.relative_to(root)
        staged.parent.mkdir(parents=True, exist_ok=True)
        if not inside(root / STAGING, staged):
            raise ValueError(f"{staged} is outside {root / STAGING}: not written")
        staged.write_bytes(content)
        shutil.copystat(path, staged)
        self.writes.append((staged, path))

    def delete(self, root: Path, path: Path) -> None:
        if not inside(root, path):
            raise ValueError(f"{path} is outside {root}: not deleted")
        self.deletes.append(path)

    def swap(self) -> None:
        for staged, path in self.writes:
            os.replace(staged, path)
        for path in self.deletes:
            path.unlink(missing_ok=True)
        self.discard()

    def discard(self) -> None:
        for root in self.roots:
            clear_staging(root)


def clear_staging(root: Path) -> None:
    """Remove `<root>/.forget-staging`: a link is unlinked, never followed (rmtree on a link fails
    without a word under ignore_errors, and a later mkdir would write through it)."""
    staging = root / STAGING
    if staging.is_symlink() or staging.is_file():
        staging.unlink()
    elif staging.is_dir():
        shutil.rmtree(staging)


def _cell_hit(people: list[Person], forgotten: dict[str, set[str]]):
    """For our own outputs: a row holding any of the persons' emails (plain or hashed) or person
    ids, or one of any forgotten person (by hash: a forget run again finds what it left)."""
    wanted = set()
    for person in people:
        wanted |= set(person.emails) | {email_hash(e) for e in person.emails} | set(person.values("person"))
    emails, persons = forgotten.get("email", set()), forgotten.get("person", set())

    def hit(fields: list[str]) -> bool:
        for f in fields:
            value = f.strip()
            if not value:
                continue
            if value.lower() in wanted or value.lower() in emails or sha256(value) in persons:
                return True
            if "@" in value and email_hash(value) in emails:
                return True
        return False

    return hit


def stage_landing(
    session: Session, places: Places, people: list[Person], forgotten: dict[str, set[str]], staged: Staged
) -> int:
    """Stage every landing file of every object without the records of any forgotten person (by
    the hashes of their emails and record ids) and with the request's contact points blanked; the
    ledger records each file's new bytes, so it is not ingested again. Links that lead outside the
    landing folder are left alone, named in the summary. How many files change."""
    landing = places.landing
    if landing is None or not landing.is_dir():
        return 0
    scrub = scrubber(people, forgotten)
    ledger = session.table_exists(LEDGER_TABLE)
    changed = 0
    for table, (obj, aliases) in sorted(places.objects.items()):
        paths = set(files_for(landing, obj, places.file_names.get(obj.system, {})))
        if ledger:
            paths |= {
                landing / f
                for (f,) in session.fetchall(
                    f"select distinct file from {LEDGER_TABLE} where source_table = $t", {"t": table}
                )
            }
        for path in sorted(p for p in paths if p.is_file()):
            name = str(path.relative_to(landing))
            if not inside(landing, path):
                staged.skipped.append(f"{name}: {OUTSIDE}")
                continue
            try:
                checksum, encoding = fingerprint(path)
            except SkipFile:
                continue  # never loaded (UTF-16, NUL bytes): nothing of it is in the warehouse
            content, _ = redact_csv(path, forgotten_hit(path, obj, aliases, forgotten, encoding), scrub)
            if content is None:
                continue
            staged.write(landing, path, encoded_for(path, content))
            changed += 1
            # The ledger row of these bytes, under whichever name they were loaded (a renamed or
            # compressed copy has none of its own), learns the new checksum (of the CSV's bytes).
            if ledger:
                session.execute(
                    f"update {LEDGER_TABLE} set redacted_checksum = $new "
                    "where source_table = $t and (checksum = $old or redacted_checksum = $old)",
                    {"new": hashlib.sha256(content).hexdigest(), "t": table, "old": checksum},
                )
    return changed


def _outputs(root: Path | None, pattern: str) -> list[Path]:
    if root is None or not root.is_dir():
        return []
    return [
        p for p in sorted(root.rglob(pattern)) if STAGING not in p.parts and p.is_file() and inside(root, p)
    ]


def stage_outputs(
    root: Path | None, people: list[Person], forgotten: dict[str, set[str]], staged: Staged
) -> int:
    """Drop the persons' rows from every CSV under an output folder (activation lists, reports) and
    blank their contact points in the rest; manifests get the new checksums and counts."""
    # Our outputs hold no free text of the sources: the request's own values, not every forgotten hash.
    hit, scrub = _cell_hit(people, forgotten), scrubber(people)
    changed = 0
    manifests: dict[Path, dict] = {}
    # The manifest's counts follow the files: full-*.csv hold the records, adds.csv the adds, ...
    counted = {"adds.csv": "adds", "removes.csv": "removes"}
    for path in _outputs(root, "*.csv"):
        content, dropped = redact_csv(path, hit, scrub)
        if content is None:
            continue
        staged.write(root, path, content)
        changed += 1
        manifest = path.parent / "manifest.json"
        if manifest.is_file() and inside(root, manifest):
            described = manifests.setdefault(manifest, json.loads(manifest.read_text()))
            entry = described.get("files", {}).get(path.name)
            if entry is not None:
                entry.update(bytes=len(content), sha256=hashlib.sha256(content).hexdigest())
            count = "records" if path.name.startswith("full-") else counted.get(path.name)
            if isinstance(described.get(count), int):
                described[count] -= dropped
            described["redacted"] = "rows removed by a right-to-be-forgotten request"
    for manifest, described in manifests.items():
        staged.write(root, manifest, (json.dumps(described, indent=2) + "\n").encode())
    for path in _outputs(root, "*.html") + _outputs(root, "*.json"):
        if path in manifests:
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        if (cleaned := scrub(text)) != text:
            staged.write(root, path, cleaned.encode())
            changed += 1
    return changed


def stage_mailbox(
    folder: Path | None, people: list[Person], forgotten: dict[str, set[str]], staged: Staged
) -> int:
    """Delete the messages to the persons (or to anyone forgotten); in the others, the rule
    (contact_points.py) for the platform's own messages: contact points and names blanked."""
    if folder is None or not folder.is_dir():
        return 0
    emails = {e for p in people for e in p.emails}
    rule = blanker(people, forgotten)
    changed = 0
    for path in sorted(p for p in folder.glob("*.eml") if inside(folder, p)):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        to = [a.strip().lower() for a in str(message.get("To", "")).split(",") if a.strip()]
        if any(a in emails or email_hash(a) in forgotten.get("email", ()) for a in to):
            staged.delete(folder, path)
            changed += 1
            continue
        touched = False
        for part in message.walk():
            if part.get_content_maintype() != "text":
                continue
            content = part.get_content()
            cleaned = rule.scrub(content, names=True)
            if cleaned != content:
                part.set_content(cleaned, subtype=part.get_content_subtype())
                touched = True
        if touched:
            staged.write(folder, path, bytes(message))
            changed += 1
    return changed


@dataclass(frozen=True)
class Places:
    """Where files live: the landing directory with the source objects (raw table -> the object and
    its header aliases) and the config's file names per system, the activation root, the reports
    folder, the mailbox folder."""

    landing: Path | None = None
    objects: dict = field(default_factory=dict)
    activation: Path | None = None
    mailbox: Path | None = None
    reports: Path | None = None
    file_names: dict = field(default_factory=dict)


class ForgetError(BlueprintError):
    """A forget that could not complete: what happened, and whether anything changed."""


def _record(session: Session, people: list[Person], at: datetime) -> dict[str, set[str]]:
    """Store the hashes of the persons' identifiers: every forgotten identifier's hash, by kind."""
    hashes = sorted({h for person in people for h in person.hashes()})
    # Only the new ones: a forget run again keeps the time each identifier was first forgotten.
    known = {h for (h,) in session.fetchall(
        f"select sha256 from {FORGOTTEN} where sha256 in (select unnest($h))",
        {"h": [h for _, h in hashes] or [""]},
    )}  # fmt: skip
    hashes = [(kind, h) for kind, h in hashes if h not in known]
    frame = pd.DataFrame(hashes, columns=["kind", "sha256"]).assign(forgotten_at=pd.Timestamp(at))
    if len(frame):
        session.insert_from_local_query(
            FORGOTTEN, list(frame.columns), "select * from f", frames={"f": frame}
        )
    return suppressed(session)


def forget(
    warehouse: Warehouse, addresses: list[str], *, origin: str, at: datetime, places: Places
) -> list[Outcome]:
    """Forget the persons with these email addresses everywhere, all or nothing: the warehouse in
    one transaction, the files staged during it and swapped in after its commit. The audit keeps
    hashes only. Raises ForgetError (one line, no value of theirs) when it cannot."""
    staged = Staged()
    for root in (places.landing, places.activation, places.reports, places.mailbox):
        if root is not None:  # what a forget killed before its commit staged: never swapped in
            clear_staging(root)
    try:
        migrate(warehouse)  # the ledger's redacted_checksum (a forget may run before any build)
        outcomes = _forget(warehouse, addresses, origin=origin, at=at, places=places, staged=staged)
    except Exception as exc:
        staged.discard()
        raise ForgetError(
            f"forget failed ({type(exc).__name__}: {redacted_error(str(exc))}); nothing was changed, "
            "in the warehouse or in the files"
        ) from exc
    try:
        staged.swap()
    except OSError as exc:
        raise ForgetError(
            f"the warehouse forgot them, but a file could not be replaced ({exc.strerror}: {exc.filename}); "
            "run the same forget again to finish the files"
        ) from exc
    for outcome in outcomes:
        outcome.skipped = list(staged.skipped)
    return outcomes


def _forget(warehouse, addresses, *, origin, at, places: Places, staged: Staged) -> list[Outcome]:
    """One person per address, then one pass over the warehouse for what they share (free text,
    quarantine) and one over the files for all of them: the cost of a request file does not grow
    with a pass per person over every text column."""
    addresses = list(dict.fromkeys(a.strip().lower() for a in addresses if a.strip()))
    with warehouse.transaction() as session:
        ensure_tables(session)
        people = [identify(session, address) for address in addresses]
        outcomes = []
        for address, person in zip(addresses, people, strict=True):
            forgotten_on = session.scalar(
                f"select min(forgotten_at) from {FORGOTTEN} where kind = 'email' and sha256 = $h",
                {"h": email_hash(address)},
            )
            deleted, redacted, _ = erase_tables(session, person)
            outcomes.append(
                Outcome(email_hash(address), len(person.ids.get("person", ())), deleted, redacted)
            )
            if forgotten_on is not None:
                outcomes[-1].forgotten_on = pd.Timestamp(forgotten_on).to_pydatetime()
        for outcome, quarantined in zip(outcomes, _quarantined(session, people), strict=True):
            if quarantined:
                outcome.deleted[QUARANTINE_TABLE] = outcome.deleted.get(QUARANTINE_TABLE, 0) + quarantined
        for outcome, scrubbed in zip(outcomes, scrub_tables(session, people), strict=True):
            for table, n in scrubbed.items():
                outcome.redacted[table] = outcome.redacted.get(table, 0) + n
        forgotten = _record(session, people, at)
        changed = {
            "landing files": stage_landing(session, places, people, forgotten, staged),
            "activation files": stage_outputs(places.activation, people, forgotten, staged),
            "report files": stage_outputs(places.reports, people, forgotten, staged),
            "mailbox messages": stage_mailbox(places.mailbox, people, forgotten, staged),
        }
        for outcome in outcomes:
            outcome.files = changed
            session.execute(
                f"insert into {AUDIT} values ($r, cast($at as timestamp), $o, $p, $d, $x, $f, $detail)",
                {
                    "r": outcome.request_hash,
                    "at": at.isoformat(sep=" "),
                    "o": origin,
                    "p": outcome.persons,
                    "d": sum(outcome.deleted.values()),
                    "x": sum(outcome.redacted.values()),
                    "f": sum(changed.values()),
                    "detail": json.dumps(
                        {"deleted": outcome.deleted, "redacted": outcome.redacted, "files": changed},
                        sort_keys=True,
                    ),
                },
            )
    return outcomes
