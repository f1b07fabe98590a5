"""The right to be forgotten (docs/governance.md#right-to-be-forgotten).

`forget` finds every record of a person (the source records carrying the email, and every record
identity resolution joined to them), then, in one transaction: deletes their rows from every
table that holds them, redacts their fields in the append-only logs (the rows stay, so counts
stay true), blanks mentions of them in other messages, and keeps an audit record and the hashes
of their identifiers. Outside the warehouse it rewrites the landing files and activation files
that hold them (the ingestion ledger follows the new checksums, so nothing is ingested twice) and
deletes or redacts their mailbox messages. Later extracts that bring them back are dropped at
ingestion by those hashes (`suppress`): the person stays forgotten.

Nothing here writes a value of theirs anywhere but where it was: reports carry counts and the
request's hash only.
"""

from __future__ import annotations

import email
import email.policy
import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pandas as pd

from blueprint_pipeline.governance.identifiers import (
    EMAIL_COLUMNS,
    FORGOTTEN,
    SYSTEMS,
    email_hash,
    id_kind,
    rewrite_csv,
    sha256,
)
from blueprint_pipeline.ingestion.landing import map_header, raw_column, read_header
from blueprint_pipeline.ingestion.raw_load import LEDGER_TABLE, QUARANTINE_TABLE, fingerprint
from blueprint_pipeline.sql_models.project import SourceObject
from blueprint_pipeline.warehouse import Session, Warehouse, quote

AUDIT = "forget_requests"
REDACTED = "[forgotten]"
# Append-only logs: the person's rows stay with these columns emptied.
REDACT = {
    "journey_step_log": ["person_id", "detail"],
    "journey_outbox": [
        "person_id",
        "to_address",
        "subject",
        "body_text",
        "body_html",
        "unsubscribe_url",
        "last_error",
    ],
    "buying_group_member_events": ["person_id", "matched_condition"],
    "person_id_history": ["person_id", "other_person_id"],
    "person_score_adjustments": ["person_id"],
}
# Free text that may name someone else's contact (a sales alert lists a group's members).
MENTIONS = {"journey_outbox": ["subject", "body_text", "body_html"], "sales_alert_log": ["reason"]}
# The tables of the ledgers, which name files and never persons.
UNTOUCHED = {LEDGER_TABLE, AUDIT, FORGOTTEN}


@dataclass
class Person:
    """Everything that identifies one request's person, by kind (see id_kind)."""

    emails: set[str] = field(default_factory=set)
    ids: dict[str, set[str]] = field(default_factory=dict)
    names: set[str] = field(default_factory=set)  # "First Last", to blank mentions

    def values(self, kind: str) -> list[str]:
        """The person's identifiers of a kind, blanks left out (they would match every empty cell)."""
        found = self.emails if kind == "email" else self.ids.get(kind, set())
        return sorted(v for v in found if v and v.strip())

    def hashes(self) -> list[tuple[str, str]]:
        return [("email", email_hash(e)) for e in self.values("email")] + [
            (kind, sha256(v)) for kind in self.ids for v in self.values(kind)
        ]


@dataclass
class Outcome:
    request_hash: str
    persons: int
    deleted: dict[str, int] = field(default_factory=dict)
    redacted: dict[str, int] = field(default_factory=dict)
    files: dict[str, int] = field(default_factory=dict)  # kind of file -> files rewritten or removed

    def describe(self) -> str:
        deleted = sum(self.deleted.values())
        redacted = sum(self.redacted.values())
        files = ", ".join(f"{n} {kind}" for kind, n in sorted(self.files.items()) if n) or "no files"
        return (
            f"request {self.request_hash[:12]}: {self.persons} person(s), {deleted:,} row(s) deleted from "
            f"{sum(1 for n in self.deleted.values() if n)} table(s), {redacted:,} log row(s) redacted; "
            f"{files}"
        )


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
    return person


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
    if table == QUARANTINE_TABLE:  # a rejected line: only its text can say whose it was
        tests += [f"strpos(lower(raw_record), ${f'q{i}'}) > 0" for i in range(len(person.emails))]
        if person.values("salesforce"):
            tests.append("record_key in (select unnest($salesforce))")
    return " or ".join(tests) or None


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
        if table in REDACT:
            # Idempotency keys embed person ids: each becomes a token that still keeps keys apart.
            if "step_key" in {c for c, _ in session.columns(table)}:
                for person_id in person.values("person"):
                    session.execute(
                        f"update {quote(table)} set step_key = replace(step_key, $p, $t) "
                        "where strpos(step_key, $p) > 0",
                        {"p": person_id, "t": f"forgotten-{sha256(person_id)[:16]}"},
                    )
            blank = ", ".join(f"{quote(c)} = null" for c in REDACT[table])
            session.execute(f"update {quote(table)} set {blank} where {where}", used)
            redacted[table] = count
        else:
            session.execute(f"delete from {quote(table)} where {where}", used)
            deleted[table] = count
    for table, columns in MENTIONS.items():
        if table not in _tables(session):
            continue
        for text in sorted(person.emails | person.names, key=len, reverse=True):
            for column in columns:
                n = int(
                    session.scalar(
                        f"select count(*) from {table} where strpos({column}, $t) > 0", {"t": text}
                    )
                )
                if n:
                    session.execute(
                        f"update {table} set {column} = replace({column}, $t, $r) "
                        f"where strpos({column}, $t) > 0",
                        {"t": text, "r": REDACTED},
                    )
                    redacted[table] = redacted.get(table, 0) + n
    return deleted, redacted, files


def ensure_tables(session: Session) -> None:
    session.execute(
        f"create table if not exists {AUDIT} (request_hash varchar, requested_at timestamp, origin varchar, "
        "persons bigint, rows_deleted bigint, rows_redacted bigint, files_changed bigint, detail varchar)"
    )
    session.execute(
        f"create table if not exists {FORGOTTEN} (kind varchar, sha256 varchar, forgotten_at timestamp)"
    )


# Files ------------------------------------------------------------------------------------------


def _cell_hit(people: list[Person]):
    """For our own outputs: a row holding any of the persons' emails (plain or hashed) or ids."""
    wanted = set()
    for person in people:
        wanted |= set(person.emails) | {email_hash(e) for e in person.emails} | set(person.values("person"))
    return lambda fields: any(f.strip().lower() in wanted for f in fields)


def _field_hit(header: list[str], obj: SourceObject, aliases: dict[str, list[str]], people: list[Person]):
    """For a landing file: a record whose contract fields (emails, record ids) name a person."""
    positions = map_header(header, obj, aliases).positions
    tests = []
    for name, position in positions.items():
        kind = id_kind(obj.table, raw_column(name))
        if position is not None and kind is not None:
            values = {v.lower() if kind == "email" else v for p in people for v in p.values(kind)}
            tests.append((position, kind, values))
    return lambda fields: any(
        position < len(fields)
        and (fields[position].strip().lower() if kind == "email" else fields[position].strip()) in values
        for position, kind, values in tests
    )


def rewrite_landing(
    session: Session,
    landing: Path,
    files: set[str],
    objects: dict[str, tuple[SourceObject, dict]],
    people: list[Person],
) -> int:
    """Rewrite the landing files that held the persons' rows; the ledger takes the new checksums,
    so the rewritten file is not ingested again."""
    changed = 0
    for name, table, checksum in session.fetchall(
        f"select file, source_table, checksum from {LEDGER_TABLE} where file in (select unnest($f))",
        {"f": sorted(files) or [""]},
    ):
        path = landing / name
        if not path.is_file() or table not in objects:
            continue
        obj, aliases = objects[table]
        header, _ = read_header(path, fingerprint(path)[1])
        if rewrite_csv(path, _field_hit(header, obj, aliases, people)):
            session.execute(
                f"update {LEDGER_TABLE} set checksum = $new "
                "where file = $f and source_table = $t and checksum = $old",
                {"new": fingerprint(path)[0], "f": name, "t": table, "old": checksum},
            )
            changed += 1
    return changed


def rewrite_activation(root: Path, people: list[Person]) -> int:
    """Drop the persons' rows from every activation file; manifests get the new checksums."""
    if not root.is_dir():
        return 0
    hit = _cell_hit(people)
    changed = 0
    # The manifest's counts follow the files: full-*.csv hold the records, adds.csv the adds, ...
    counted = {"adds.csv": "adds", "removes.csv": "removes"}
    for path in sorted(root.rglob("*.csv")):
        dropped = rewrite_csv(path, hit)
        if not dropped:
            continue
        changed += 1
        manifest = path.parent / "manifest.json"
        if manifest.is_file():
            described = json.loads(manifest.read_text())
            entry = described.get("files", {}).get(path.name)
            if entry is not None:
                content = path.read_bytes()
                entry.update(bytes=len(content), sha256=hashlib.sha256(content).hexdigest())
            count = "records" if path.name.startswith("full-") else counted.get(path.name)
            if isinstance(described.get(count), int):
                described[count] -= dropped
            described["redacted"] = "rows removed by a right-to-be-forgotten request"
            manifest.write_text(json.dumps(described, indent=2) + "\n")
    return changed


def rewrite_mailbox(folder: Path | None, people: list[Person]) -> int:
    """Delete the messages to the persons; blank their names and addresses in the others."""
    if folder is None or not folder.is_dir():
        return 0
    emails = {e for p in people for e in p.emails}
    texts = sorted(emails | {n for p in people for n in p.names}, key=len, reverse=True)
    changed = 0
    for path in sorted(folder.glob("*.eml")):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        if any(a.strip().lower() in emails for a in str(message.get("To", "")).split(",")):
            path.unlink()
            changed += 1
            continue
        touched = False
        for part in message.walk():
            if part.get_content_maintype() != "text":
                continue
            content = part.get_content()
            redacted = content
            for text in texts:
                redacted = redacted.replace(text, REDACTED)
            if redacted != content:
                part.set_content(redacted, subtype=part.get_content_subtype())
                touched = True
        if touched:
            path.write_bytes(bytes(message))
            changed += 1
    return changed


@dataclass(frozen=True)
class Places:
    """Where files live: the landing directory with the source objects (raw table -> the object and
    its header aliases), the activation root, the mailbox folder."""

    landing: Path | None = None
    objects: dict = field(default_factory=dict)
    activation: Path | None = None
    mailbox: Path | None = None


def forget(
    warehouse: Warehouse, addresses: list[str], *, origin: str, at: datetime, places: Places
) -> list[Outcome]:
    """Forget the persons with these email addresses everywhere, in one transaction; the audit
    keeps hashes only. Files are rewritten once for all of them."""
    outcomes, people, files = [], [], set()
    with warehouse.transaction() as session:
        ensure_tables(session)
        for address in dict.fromkeys(a.strip().lower() for a in addresses if a.strip()):
            person = identify(session, address)
            deleted, redacted, held = erase_tables(session, person)
            people.append(person)
            files |= held
            outcomes.append(
                Outcome(email_hash(address), len(person.ids.get("person", ())), deleted, redacted)
            )
        changed = {
            "landing files": rewrite_landing(session, places.landing, files, places.objects, people)
            if places.landing
            else 0,
            "activation files": rewrite_activation(places.activation, people) if places.activation else 0,
            "mailbox messages": rewrite_mailbox(places.mailbox, people),
        }
        hashes = sorted({h for person in people for h in person.hashes()})
        session.execute(
            f"delete from {FORGOTTEN} where sha256 in (select unnest($h))",
            {"h": [h for _, h in hashes] or [""]},
        )
        frame = pd.DataFrame(hashes, columns=["kind", "sha256"]).assign(forgotten_at=pd.Timestamp(at))
        if len(frame):
            session.insert_from_local_query(
                FORGOTTEN, list(frame.columns), "select * from f", frames={"f": frame}
            )
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
