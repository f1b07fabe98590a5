"""The journey layer's tables: state, log, outbox and the effects journeys have on accounts,
buying groups and scores. Created here (and by the scoring layer for the score adjustments it
reads) so that every writer and reader agrees on the columns."""

from __future__ import annotations

from blueprint_pipeline.warehouse import Session

T, TS, B, INT, F = "varchar", "timestamp", "boolean", "bigint", "double"
TABLES: dict[str, dict[str, str]] = {
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
    "person_score_adjustments": {
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


INDEXED = {"journey_outbox": "message_id", "journey_enrolments": "enrolment_id"}


def create_tables(session: Session, tables: list[str] | None = None) -> None:
    for table in tables or list(TABLES):
        columns = TABLES[table]
        body = ", ".join(f"{name} {kind}" for name, kind in columns.items())
        session.execute(f"create table if not exists {table} ({body})")
        if table in INDEXED:  # delivery updates messages one by one; re-runs replace enrolments
            session.execute(f"create index if not exists {table}_key on {table} ({INDEXED[table]})")
