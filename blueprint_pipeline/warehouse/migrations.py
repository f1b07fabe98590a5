"""Schema versions of the stateful tables, upgraded in place (docs/reliability.md#migrations).

Most tables are rebuilt by every run and need no migration. These are not: they carry state from
run to run (journey state, histories, ledgers, the id registry), so a release that changes their
shape must upgrade what is there. `schema_versions` holds each one's version; every run, before its
first step and under the run lock, applies the steps above it in order, all in one transaction
with their version rows.

A table that does not exist yet is recorded at its latest version (this release's code will create
it in that shape); one that exists without a row was created by a release before versions existed:
it is at version 1. Steps are idempotent (`if not exists`) all the same. Steps are SQL in DuckDB's
dialect, like every statement here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from blueprint_pipeline.errors import WarehouseError
from blueprint_pipeline.warehouse.base import Warehouse, quote

VERSIONS_TABLE = "schema_versions"


@dataclass(frozen=True)
class Step:
    version: int
    why: str
    statements: tuple[str, ...]


_CREATE_COMPLETED = (
    "create table if not exists activation_completed "
    "(destination varchar, list_name varchar, activated_at timestamp)"
)
_BEFORE = "timestamp '1970-01-01 00:00:00'"
_CRM_COMPLETED_BEFORE = (
    f"insert into activation_completed select 'crm', 'write-back', {_BEFORE} where not exists "
    "(select 1 from activation_completed where destination = 'crm')"
)

# Table -> its upgrade steps (version 1 is the shape before versions existed).
STEPS: dict[str, tuple[Step, ...]] = {
    "ingested_files": (
        Step(
            2,
            "batches numbered per raw table, unique (parallel steps ingest several objects at once)",
            (
                "create unique index if not exists ingested_files_batch "
                "on ingested_files (source_table, batch_id)",
            ),
        ),
        Step(
            3,
            "a redacted file's new bytes kept apart from the unique checksum it arrived with (issue 21)",
            ("alter table ingested_files add column if not exists redacted_checksum varchar",),
        ),
    ),
    **{
        table: ()
        for table in (
            # Version 1 and nothing to upgrade yet: registered so that the next change has a place.
            "journey_enrolments", "journey_step_log", "journey_outbox", "journey_runs",
            "journey_account_lists", "journey_attribute_values", "buying_group_stage_history",
            "buying_group_member_events", "buying_group_stage_refusals", "account_audience_history",
            "person_registry", "person_match_scored_records", "person_match_scored_pairs",
            "person_match_scoring", "quarantine", "forget_requests", "forgotten_identifiers",
            "activation_completed",
        )
    },
    # Issue 22: each creation, merge and split says what caused it. A creation always came from new
    # records; what merged or split persons before causes were kept is unknown (the model was
    # retrained on every build then): null.
    "person_id_history": (
        Step(2, "each event's cause: records, model <version> or decision", (
            "alter table person_id_history add column if not exists cause varchar",
            "update person_id_history set cause = 'records' where event = 'created' and cause is null",
        )),
    ),
    # Issue 21: activation state kept per as-of, deltas against the last completed activation
    # before a run's as-of (blueprint_pipeline/activation/state.py). What the previous release kept
    # becomes a completed activation: its own as-of for list members, 1970 for the CRM's hashes and
    # field updates (which had none), so the next run's deltas are against it, as before.
    "activation_members": (
        Step(2, "list members kept per as-of, with completed activations", (
            _CREATE_COMPLETED,
            "insert into activation_completed select distinct destination, list_name, activated_at "
            "from activation_members as m where not exists (select 1 from activation_completed as c "
            "where c.destination = m.destination and c.list_name = m.list_name)",
        )),
    ),
    "crm_writeback_sent": (
        Step(2, "row hashes kept per as-of", (
            _CREATE_COMPLETED,
            "alter table crm_writeback_sent add column if not exists activated_at timestamp",
            f"update crm_writeback_sent set activated_at = {_BEFORE} where activated_at is null",
            _CRM_COMPLETED_BEFORE,
        )),
    ),
    # Issue 23 (b): both completeness figures beside completeness_score; earlier snapshots have none.
    "buying_group_snapshots": (
        Step(2, "suites and weighted completeness side by side", (
            "alter table buying_group_snapshots add column if not exists suites_completeness double",
            "alter table buying_group_snapshots add column if not exists weighted_completeness double",
        )),
    ),
    "crm_field_updates_sent": (
        Step(2, "field updates written out kept per as-of", (
            _CREATE_COMPLETED,
            "alter table crm_field_updates_sent add column if not exists activated_at timestamp",
            f"update crm_field_updates_sent set activated_at = {_BEFORE} where activated_at is null",
            _CRM_COMPLETED_BEFORE,
        )),
    ),
}  # fmt: skip


def latest(table: str) -> int:
    return max((step.version for step in STEPS[table]), default=1)


def migrate(warehouse: Warehouse) -> list[str]:
    """Bring every stateful table that exists to its latest version: what was done, as lines.

    One transaction, so the upgrade is all or nothing, and on DuckDB a second process waits for it
    (on PostgreSQL the run lock already keeps two runs apart)."""
    done = []
    with warehouse.transaction() as session:
        session.execute(
            f"create table if not exists {VERSIONS_TABLE} (table_name varchar, version bigint, "
            "migrated_at timestamp, why varchar)"
        )
        present = set(session.list_tables())
        versions = dict(
            session.fetchall(f"select table_name, max(version) from {VERSIONS_TABLE} group by table_name")
        )
        for table, steps in STEPS.items():
            if table not in present:
                if table not in versions:  # this release's code will create it in its latest shape
                    _record(session, table, latest(table), "created in this shape")
                continue
            current = start = int(versions.get(table, 1))
            for step in (s for s in steps if s.version > current):
                try:
                    for statement in step.statements:
                        session.execute(statement)
                except Exception as exc:  # noqa: BLE001 - named and re-raised: the run must not start
                    raise WarehouseError(
                        f"upgrading table {table} from version {current} to {step.version} ({step.why}) "
                        f"failed: {exc}"
                    ) from exc
                _record(session, table, step.version, step.why)
                done.append(f"{table}: version {current} -> {step.version} ({step.why})")
                current = step.version
            if table not in versions and current == start:
                _record(session, table, current, "version recorded")
    return done


def _record(session, table: str, version: int, why: str) -> None:
    session.execute(
        f"insert into {quote(VERSIONS_TABLE)} values ($table, $version, $at, $why)",
        {"table": table, "version": version, "at": datetime.now(UTC).replace(tzinfo=None), "why": why},
    )
