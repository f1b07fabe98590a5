"""The journey layer's tables: state, log, outbox and the effects journeys have on accounts,
buying groups and scores. Created here (and by the scoring layer for the score adjustments it
reads) so that every writer and reader agrees on the columns."""

from __future__ import annotations

import pandas as pd

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


def _frame(rows: list[dict], table: str) -> pd.DataFrame:
    columns = TABLES[table]
    frame = pd.DataFrame(rows, columns=[c for c in columns if c in (rows[0] if rows else columns)])
    for name in frame.columns:
        kind = columns[name]
        if kind == TS:
            frame[name] = pd.to_datetime(frame[name])
        elif kind == B:
            frame[name] = frame[name].astype(bool)
        elif kind == INT:
            frame[name] = frame[name].astype("int64")
        elif kind == F:
            frame[name] = frame[name].astype("float64")
        else:
            frame[name] = frame[name].astype("string")
    return frame


def append(session: Session, table: str, rows: list[dict], sequence: str | None = None) -> int:
    if not rows:
        return 0
    if sequence:
        first = int(session.scalar(f"select coalesce(max({sequence}), 0) from {table}")) + 1
        rows = [{sequence: first + i, **row} for i, row in enumerate(rows)]
    frame = _frame(rows, table)
    session.insert_from_local_query(table, list(frame.columns), "select * from rows", frames={"rows": frame})
    return len(frame)
