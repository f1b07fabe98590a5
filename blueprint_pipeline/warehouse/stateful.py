"""Every table that carries state from run to run, in one place: its columns, its indexes and its
upgrade steps (docs/reliability.md#migrations).

Most tables are rebuilt whole by every run and need none of this. These are not: journey state,
histories, ledgers, the id registry. Their writers create them here (`create`), so every writer and
reader agrees on the columns; `warehouse/migrations.py` upgrades them in place from the steps
listed beside their columns. A table whose writer shapes it (a SQL model, a whole frame replaced
each build) has no columns here, only its steps. A test (`test_stateful.py`, in the tests'
`warehouse/` folder) fails when a module other than this one creates a table or an index with
`if not exists` (this one does, in `create` and in upgrade steps).

To change a table: edit its columns (new deployments) and add a `Step` with the next version and
idempotent statements beside them (existing deployments), with a test from the previous shape.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass

from blueprint_pipeline.warehouse.base import Session

T, TS, B, INT, F = "varchar", "timestamp", "boolean", "bigint", "double"


@dataclass(frozen=True)
class Step:
    """One upgrade: the statements (DuckDB's dialect, idempotent) that take a table to `version`."""

    version: int
    why: str
    statements: tuple[str, ...]


@dataclass(frozen=True)
class Index:
    name: str
    columns: str
    unique: bool = False


# Caches whose rows depend on other rows (a record's blocking keys on how many records hold a
# value): forget drops them whole rather than deleting a person's rows, which would leave the
# others' rows counted with them; the next build builds them whole again.
# The same for the kept deterministic graph (a component is named by its smallest key, maybe the
# forgotten record's): the next build computes the components and the pairs apart whole.
DROPPED_BY_FORGET = frozenset(
    {"person_match_records", "person_match_deterministic_components", "person_match_deterministic_edges"}
)


@dataclass(frozen=True)
class Stateful:
    columns: dict[str, str] | None = None  # None: its writer shapes it (a SQL model, a whole frame)
    indexes: tuple[Index, ...] = ()
    steps: tuple[Step, ...] = ()  # version 1 is the shape before versions existed


_CREATE_COMPLETED = (
    "create table if not exists activation_completed "
    "(destination varchar, list_name varchar, activated_at timestamp)"
)
_BEFORE = "timestamp '1970-01-01 00:00:00'"
_CRM_COMPLETED_BEFORE = (
    f"insert into activation_completed select 'crm', 'write-back', {_BEFORE} where not exists "
    "(select 1 from activation_completed where destination = 'crm')"
)

JOURNEY_TABLES: dict[str, dict[str, str]] = {
    "journey_enrolments": {
        "enrolment_id": T,
        "journey_id": T,
        "account_id": T,
        "buying_group_id": T,
        "entry_no": INT,
        "status": T,
        "node": T,
        "step_no": INT,
        "waiting_since": TS,
        "due_at": TS,
        "entered_at": TS,
        "ended_at": TS,
        "end_reason": T,
        "test": B,
    },
    "journey_step_log": {
        "step_key": T,
        "enrolment_id": T,
        "journey_id": T,
        "account_id": T,
        "node": T,
        "node_type": T,
        "person_id": T,
        "outcome": T,
        "detail": T,
        "happened_at": TS,
        "config_version": T,
    },
    "journey_outbox": {
        "message_id": T,
        "step_key": T,
        "journey_id": T,
        "enrolment_id": T,
        "account_id": T,
        "buying_group_id": T,
        "person_id": T,
        "channel": T,
        "to_address": T,
        "subject": T,
        "body_text": T,
        "body_html": T,
        "unsubscribe_url": T,
        "status": T,
        "hold_reason": T,
        "test": B,
        "created_at": TS,
        "sent_at": TS,
        "attempts": INT,
        "last_error": T,
    },
    "journey_account_lists": {
        "event_seq": INT,
        "step_key": T,
        "list_name": T,
        "account_id": T,
        "action": T,
        "journey_id": T,
        "happened_at": TS,
    },
    "linkedin_audience_additions": {
        "step_key": T,
        "audience": T,
        "account_id": T,
        "journey_id": T,
        "happened_at": TS,
    },
    "crm_field_updates": {
        "step_key": T,
        "account_id": T,
        "field": T,
        "value": T,
        "journey_id": T,
        "happened_at": TS,
    },
    "buying_group_status_history": {
        "event_seq": INT,
        "step_key": T,
        "buying_group_id": T,
        "status": T,
        "journey_id": T,
        "happened_at": TS,
    },
    "journey_member_events": {
        "event_seq": INT,
        "step_key": T,
        "buying_group_id": T,
        "person_id": T,
        "event": T,
        "role": T,
        "matched_condition": T,
        "happened_at": TS,
        "config_version": T,
    },
    "journey_stage_moves": {
        "event_seq": INT,
        "step_key": T,
        "buying_group_id": T,
        "stage_model": T,
        "from_stage": T,
        "to_stage": T,
        "actor_name": T,
        "reason": T,
        "changed_at": TS,
        "config_version": T,
    },
    "journey_stage_refusals": {
        "event_seq": INT,
        "step_key": T,
        "account_id": T,
        "solution_interest": T,
        "buying_group_id": T,
        "from_stage": T,
        "to_stage": T,
        "actor_name": T,
        "reason": T,
        "refused_at": TS,
        "config_version": T,
    },
    "journey_score_adjustments": {
        "step_key": T,
        "person_id": T,
        "points": F,
        "journey_id": T,
        "node": T,
        "reason": T,
        "happened_at": TS,
    },
    "journey_runs": {"journey_id": T, "status": T, "live_since": TS, "last_run_at": TS},
    "journey_attribute_values": {"journey_id": T, "account_id": T, "value": T},
}

# The sales alerts' memory: which rule is armed for which group, and every alert fired; and their
# own outbox, in the journeys' outbox's shape (delivery sends from both).
SALES_ALERT_TABLES: dict[str, dict[str, str]] = {
    "sales_alert_outbox": dict(JOURNEY_TABLES["journey_outbox"]),
    "sales_alert_state": {
        "rule": T,
        "buying_group_id": T,
        "armed": B,
        "fired": B,
        "seq": INT,
        "definition": T,
    },
    "sales_alert_log": {
        "rule": T,
        "buying_group_id": T,
        "reason": T,
        "routed_to": T,
        "routed_by": T,
        "message_id": T,
        "fired_at": TS,
        "config_version": T,
    },
}

JOURNEY_INDEXES = {
    "journey_outbox": (Index("journey_outbox_key", "message_id"),),
    "sales_alert_outbox": (Index("sales_alert_outbox_key", "message_id"),),
    "journey_enrolments": (Index("journey_enrolments_key", "enrolment_id"),),
}
# A journey table's upgrade steps go here, by table name, as for the tables below.
JOURNEY_STEPS: dict[str, tuple[Step, ...]] = {
    # The sales alerts queued their messages here before they had their own outbox: the standing
    # rules' alerts, whose step keys start with alert/ (alerts/send.py, rule_message).
    "journey_outbox": (
        Step(2, "the sales alerts' messages kept in their own outbox, sales_alert_outbox", (
            "create table if not exists sales_alert_outbox as select * from journey_outbox where false",
            "insert into sales_alert_outbox select * from journey_outbox where step_key like 'alert/%'",
            "delete from journey_outbox where step_key like 'alert/%'",
        )),
    ),
}  # fmt: skip

_ACTIVATED = {"activated_at": TS}
_BATCHES = "batches numbered per raw table, unique (parallel steps ingest several objects at once)"
_LOGGED = {"happened_at": TS, "config_version": T}

TABLES: dict[str, Stateful] = {
    # Ingestion's ledgers: each file once per raw table, and the rows that did not load.
    "ingested_files": Stateful(
        {"batch_id": INT, "file": T, "checksum": T, "source_table": T, "rows_loaded": INT,
         "rows_quarantined": INT, "ingested_at": TS, "redacted_checksum": T, "file_size": INT,
         "file_mtime_ns": INT},
        # The same bytes count once per object, even when two runs race on PostgreSQL; batches are
        # numbered per raw table (parallel steps ingest several objects at once).
        (Index("ingested_files_once", "checksum, source_table", unique=True),
         Index("ingested_files_batch", "source_table, batch_id", unique=True)),
        (
            Step(2, _BATCHES, (
                "create unique index if not exists ingested_files_batch "
                "on ingested_files (source_table, batch_id)",
            )),
            Step(3, "a redacted file's new bytes kept apart from the unique checksum it arrived with", (
                "alter table ingested_files add column if not exists redacted_checksum varchar",
            )),
            Step(4, "each file's size and modification time when last seen: unchanged, not read again", (
                "alter table ingested_files add column if not exists file_size bigint",
                "alter table ingested_files add column if not exists file_mtime_ns bigint",
            )),
        ),
    ),
    "quarantine": Stateful(
        {"source_table": T, "file": T, "line": INT, "record_number": INT, "record_key": T, "reason": T,
         "raw_record": T, "ingested_at": TS},
    ),
    # Identity: the registry of stable person ids and the match state it is kept from.
    "person_registry": Stateful(),
    "person_id_history": Stateful(
        {"event": T, "person_id": T, "other_person_id": T, "happened_at": TS, "config_version": T,
         "cause": T},
        # Each creation, merge and split says what caused it. A creation always came from new
        # records; what merged or split persons before causes were kept is unknown (the model was
        # retrained on every build then): null.
        steps=(Step(2, "each event's cause: records, model <version> or decision", (
            "alter table person_id_history add column if not exists cause varchar",
            "update person_id_history set cause = 'records' where event = 'created' and cause is null",
        )),),
    ),
    "person_match_scored_records": Stateful(),
    # Each live record's own cleaning, kept so a build cleans only new and changed records
    # (identity/matching/cleaned.py); first_name_forms is its '|'-joined list.
    "person_match_cleaned_records": Stateful(
        {"source_key": T, "input_hash": T, **dict.fromkeys(
            ("first_name", "last_name", "first_name_canonical", "first_name_forms", "full_name",
             "email", "email_user", "email_letters", "email_domain", "phone", "mobile", "company",
             "city", "country", "title", "title_job", "cleaned_hash"), T)},
    ),
    "person_match_scored_pairs": Stateful(),
    # Each live record as matching compares it, brought up to date by each build: only the rows
    # that can have moved (identity/matching/records.py).
    "person_match_records": Stateful(),
    # The deterministic graph's components and the edges they were computed from, brought up to
    # date by each build where nodes or edges changed (identity/matching/components.py).
    "person_match_deterministic_components": Stateful(),
    "person_match_deterministic_edges": Stateful(),
    # Per person, a hash of what its account links read, so a build links only the persons whose
    # clues changed (identity/link_inputs.py).
    "person_account_link_inputs": Stateful({"person_id": T, "inputs_hash": T}),
    "person_match_scoring": Stateful(),
    "person_match_models": Stateful(),  # one row per model version, appended as frames
    # Audiences and buying groups: append-only histories.
    "account_audience_history": Stateful(
        {"audience_id": T, "account_id": T, "event": T, **_LOGGED},
    ),
    "buying_group_member_events": Stateful(
        {"event_seq": INT, "buying_group_id": T, "person_id": T, "event": T, "role": T, "actor": T,
         "matched_condition": T, **_LOGGED, "request_key": T},
        # A journey's change arrives from journey_member_events, keyed by its step (once only).
        steps=(Step(2, "a journey's changes keep their step key", (
            "alter table buying_group_member_events add column if not exists request_key varchar",
        )),),
    ),
    "buying_group_stage_history": Stateful(
        {"change_seq": INT, "buying_group_id": T, "stage_model": T, "from_stage": T, "to_stage": T,
         "actor": T, "actor_name": T, "reason": T, "request_key": T, "changed_at": TS, "config_version": T},
    ),
    "buying_group_stage_refusals": Stateful(
        {"account_id": T, "solution_interest": T, "buying_group_id": T, "from_stage": T, "to_stage": T,
         "actor": T, "actor_name": T, "reason": T, "request_key": T, "row_in_file": INT,
         "refused_at": TS, "config_version": T},
    ),
    # Both completeness figures beside completeness_score; earlier snapshots have none.
    "buying_group_snapshots": Stateful(steps=(
        Step(2, "suites and weighted completeness side by side", (
            "alter table buying_group_snapshots add column if not exists suites_completeness double",
            "alter table buying_group_snapshots add column if not exists weighted_completeness double",
        )),
    )),
    # Journeys: state, log, outbox and their effects on accounts, buying groups and scores
    # (delivery updates messages one by one; re-runs replace enrolments: both by their key).
    **{
        name: Stateful(columns, JOURNEY_INDEXES.get(name, ()), JOURNEY_STEPS.get(name, ()))
        for name, columns in {**JOURNEY_TABLES, **SALES_ALERT_TABLES}.items()
    },
    # Scoring reads the journeys' score adjustments as the previous run left them, as a copy it
    # makes (the journeys run after scoring). Journeys appended to it before they had their own.
    "person_score_adjustments": Stateful(steps=(
        Step(2, "journeys' adjustments kept in their own table, journey_score_adjustments", (
            "create table if not exists journey_score_adjustments as select * from person_score_adjustments",
        )),
    )),
    # Activation: what each activation handed out, per as-of, and which completed
    # (activation/state.py). What the release before kept becomes a completed activation: its own
    # as-of for list members, 1970 for the CRM's hashes and field updates (which had none), so the
    # next run's deltas are against it, as before.
    "activation_members": Stateful(
        {"destination": T, "list_name": T, "key": T, **_ACTIVATED},
        steps=(Step(2, "list members kept per as-of, with completed activations", (
            _CREATE_COMPLETED,
            "insert into activation_completed select distinct destination, list_name, activated_at "
            "from activation_members as m where not exists (select 1 from activation_completed as c "
            "where c.destination = m.destination and c.list_name = m.list_name)",
        )),),
    ),
    "activation_completed": Stateful({"destination": T, "list_name": T, **_ACTIVATED}),
    "crm_writeback_sent": Stateful(
        {"buying_group_id": T, "row_hash": T, **_ACTIVATED},
        steps=(Step(2, "row hashes kept per as-of", (
            _CREATE_COMPLETED,
            "alter table crm_writeback_sent add column if not exists activated_at timestamp",
            f"update crm_writeback_sent set activated_at = {_BEFORE} where activated_at is null",
            _CRM_COMPLETED_BEFORE,
        )),),
    ),
    "crm_field_updates_sent": Stateful(
        {"step_key": T, **_ACTIVATED},
        steps=(Step(2, "field updates written out kept per as-of", (
            _CREATE_COMPLETED,
            "alter table crm_field_updates_sent add column if not exists activated_at timestamp",
            f"update crm_field_updates_sent set activated_at = {_BEFORE} where activated_at is null",
            _CRM_COMPLETED_BEFORE,
        )),),
    ),
    "qualification_models": Stateful(),  # one row per readiness-model version, appended as frames
    # Governance: the erasure audit (hashes and counts only) and the identifiers forgotten.
    "forget_requests": Stateful(
        {"request_hash": T, "requested_at": TS, "origin": T, "persons": INT, "rows_deleted": INT,
         "rows_redacted": INT, "files_changed": INT, "detail": T},
    ),
    "forgotten_identifiers": Stateful({"kind": T, "sha256": T, "forgotten_at": TS}),
}  # fmt: skip


# Who writes each stateful table that is not an asset itself: one asset (a key of the step that
# writes it), shown in the UI beside it (catalog.py). `test_writes.py` fails on a write by any other.
WRITERS: dict[str, str] = {
    "person_id_history": "person_registry",
    "person_account_link_inputs": "person_account_links",
    **dict.fromkeys(
        (
            "person_match_scored_records",
            "person_match_scored_pairs",
            "person_match_scoring",
            "person_match_cleaned_records",
            "person_match_records",
            "person_match_deterministic_components",
            "person_match_deterministic_edges",
        ),
        "person_match_models",
    ),
    "journey_runs": "journey_enrolments",
    "journey_attribute_values": "journey_enrolments",
    **dict.fromkeys(SALES_ALERT_TABLES, "sales_alerts"),
    **dict.fromkeys(("crm_writeback_sent", "crm_field_updates_sent"), "crm_buying_group_writeback"),
    **dict.fromkeys(("forget_requests", "forgotten_identifiers"), "deletion_requests"),
}
# The declared exceptions to one writer per table: table -> (the assets that write it, as names or
# fnmatch patterns, and why).
ACTIVATIONS = ("linkedin_audiences", "marketo_static_lists", "crm_buying_group_writeback")
SHARED_WRITES: dict[str, tuple[tuple[str, ...], str]] = {
    "ingested_files": (("raw_*",), "the file ledger: each source asset records the files it loaded"),
    "quarantine": (("raw_*",), "each source asset keeps the rows it could not load, with the reason"),
    "activation_members": (ACTIVATIONS, "each destination records what it handed out per as-of"),
    "activation_completed": (ACTIVATIONS, "each destination records its completed activations"),
    "journey_outbox": (("journey_deliveries",), "delivery updates each message's status as it sends"),
    "sales_alert_outbox": (("journey_deliveries",), "delivery updates each alert's status as it sends"),
}


def shared_writer(table: str, asset: str) -> bool:
    """Whether `asset` is one of the declared other writers of `table`."""
    writers, _ = SHARED_WRITES.get(table, ((), ""))
    return any(fnmatch.fnmatchcase(asset, pattern) for pattern in writers)


# Maintenance that reaches into every layer's tables: deleting and redacting rows, never creating.
MAINTENANCE = {
    "retention": "deletes rows past the retention periods (docs/governance.md)",
    "deletion_requests": "erases a person's rows everywhere (docs/governance.md)",
}


def empty_select(name: str) -> str:
    """A query of no rows with the table's listed columns and types (both warehouses)."""
    typed = ", ".join(f"cast(null as {kind}) as {column}" for column, kind in TABLES[name].columns.items())
    return f"select {typed} where false"


def create(session: Session, *names: str) -> None:
    """Create the named tables and their indexes where they do not exist yet."""
    for name in names:
        table = TABLES[name]
        if table.columns is None:
            raise ValueError(f"{name} is shaped by its writer, not created from the registry")
        body = ", ".join(f"{column} {kind}" for column, kind in table.columns.items())
        session.execute(f"create table if not exists {name} ({body})")
        for index in table.indexes:
            unique = "unique " if index.unique else ""
            session.execute(f"create {unique}index if not exists {index.name} on {name} ({index.columns})")
