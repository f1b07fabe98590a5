"""The journeys asset on DuckDB and PostgreSQL: the worked journey of test_engine.py, with the
world as warehouse tables, run at three as-of times and once more at the last (nothing new)."""

from __future__ import annotations

from datetime import datetime

import dagster as dg
import pandas as pd

from blueprint_pipeline.defs.buying_groups.assets import EVENTS_TABLE
from blueprint_pipeline.defs.journeys.assets import journeys
from blueprint_pipeline.defs.scoring.rules import scoring_model_tables
from blueprint_pipeline.defs.scoring.stages import _create_logs
from blueprint_pipeline_tests.builds import materialized
from blueprint_pipeline_tests.journeys.test_engine import JOURNEYS

GROUPS = [("A1", 25.0, "Engaged"), ("A2", 5.0, "Engaged"), ("A3", 1.0, "Awareness")]
MEMBERS = [("A1", "p11", "Decision Maker"), ("A1", "p12", "Champion"), ("A2", "p21", "Decision Maker"),
           ("A2", "p22", "Champion"), ("A3", "p31", "Practitioner")]  # fmt: skip


def _tables() -> dict[str, pd.DataFrame]:
    gid = [f"data_platform:{a}" for a, _, _ in GROUPS]
    persons = [p for _, p, _ in MEMBERS]
    return {
        "unified_accounts": pd.DataFrame(
            {"account_id": ["A1", "A2", "A3"], "account_name": ["Acme A1", "Acme A2", "Acme A3"], "domain": "acme.com",
             "industry": "Software", "employees": 100, "billing_country": "DE", "owner_user_id": ["005U1", None, None]}
        ),
        # A1's owner gets its sales alert; the others go to the default address (alerts.yaml routing).
        "stg_salesforce__users": pd.DataFrame(
            {"user_id": ["005U1"], "user_name": ["Olga Owner"], "email": ["olga@example.com"], "is_active": [True]}
        ),
        "person_engagement_contributions": pd.DataFrame(
            {"person_id": ["p11"], "kind": ["form_fill"], "activity_day": [datetime(2026, 3, 1)], "counted": [1],
             "contribution": [9.5]}
        ),
        "buying_groups": pd.DataFrame(
            {"buying_group_id": gid, "buying_group_name": [f"Data Platform for Acme {a}" for a, _, _ in GROUPS],
             "solution_interest": "data_platform", "account_id": [a for a, _, _ in GROUPS], "members": 2,
             "completeness_score": 0.5, "is_complete": False, "missing_required_roles": ""}
        ),
        "buying_group_stages": pd.DataFrame({"buying_group_id": gid, "stage": [s for _, _, s in GROUPS]}),
        "buying_group_engagement": pd.DataFrame({"buying_group_id": gid, "score": [s for _, s, _ in GROUPS]}),
        "buying_group_members": pd.DataFrame(
            {"buying_group_id": [f"data_platform:{a}" for a, _, _ in MEMBERS], "person_id": persons,
             "role": [r for _, _, r in MEMBERS]}
        ),
        "person_engagement_scores": pd.DataFrame({"person_id": persons, "score": 1.0}),
        "unified_persons": pd.DataFrame(
            {"person_id": persons, "first_name": [p.upper() for p in persons], "last_name": "X",
             "email": [None if p == "p22" else f"{p}@example.com" for p in persons], "email_domain": "example.com", "title": "",
             "phone": None, "department": None, "country": None, "email_opt_out": [p == "p12" for p in persons], "email_bounced": False,
             "sms_opt_in": False}
        ).astype({"phone": "string", "department": "string", "country": "string"}),
        "person_account_links": pd.DataFrame(
            {"person_id": persons, "account_id": [a for a, _, _ in MEMBERS], "is_primary": True}
        ),
        "int_person_activities": pd.DataFrame(
            {"person_id": ["p31"], "kind": ["form_fill"], "activity_at": [datetime(2026, 3, 5, 8)]}
        ),
        "stg_salesforce__opportunities": pd.DataFrame(
            {"account_id": pd.Series([], dtype="string"), "created_at": pd.Series([], dtype="datetime64[us]")}
        ),
        "account_audience_members": pd.DataFrame({"audience_id": "target_accounts", "account_id": ["A1", "A2", "A3"]}),
    }  # fmt: skip


def _run(warehouse, config_dir, at: str, instance=None):
    result = materialized([journeys], warehouse, config_dir, at, instance)
    assert all(c.passed for c in result.get_asset_check_evaluations())


def _table_exists(warehouse, table: str) -> bool:
    with warehouse.session() as session:
        return session.table_exists(table)


def _setup(warehouse, tmp_path):
    (tmp_path / "journeys.yaml").write_text(JOURNEYS)
    with warehouse.transaction() as session:
        for name, frame in _tables().items():
            session.replace_table(name, frame)
        _create_logs(session)
        session.execute(
            f"create table {EVENTS_TABLE} (event_seq bigint, buying_group_id varchar, person_id varchar, "
            "event varchar, role varchar, actor varchar, matched_condition varchar, happened_at timestamp, "
            "config_version varchar)"
        )


def test_journey_runs_in_the_warehouse(warehouse, tmp_path):
    _setup(warehouse, tmp_path)
    for at in ("2026-03-02T09:00:00", "2026-03-04T10:00:00", "2026-03-05T10:00:00", "2026-03-05T10:00:00"):
        _run(warehouse, tmp_path, at)

    outcomes = warehouse.fetchall(
        "select account_id, node, outcome from journey_step_log where account_id = 'A3' order by happened_at, step_key"
    )
    assert outcomes == [
        ("A3", "intro", "entered"), ("A3", "intro", "no recipients"), ("A3", "wait2", "waiting"),
        ("A3", "wait2", "waited"), ("A3", "triage", "path other"), ("A3", "await_form", "listening"),
        ("A3", "await_form", "heard"), ("A3", "alert", "queued"), ("A3", "promote", "refused"),
        ("A3", "done", "finished"),
    ]  # fmt: skip
    # run 1: 4 + 4 + 3 steps; run 2: A1 5, A2 9, A3 3; run 3: A3 4; run 4 (the same time again): none
    assert warehouse.scalar("select count(*) from journey_step_log") == 11 + 17 + 4
    assert warehouse.fetchall(
        "select channel, status, count(*) from journey_outbox group by channel, status order by channel, status"
    ) == [("email", "held", 2), ("email", "pending", 3), ("sales_alert", "pending", 2)]
    # The journey's sales alerts: routed to A1's owner, A3's to the default; the standard content
    # with the node's template as subject and note.
    alerts = warehouse.fetchall(
        "select account_id, to_address, subject, body_text from journey_outbox where channel = 'sales_alert' "
        "order by account_id"
    )
    assert [(a, to, subject) for a, to, subject, _ in alerts] == [
        ("A1", "olga@example.com", "Data Platform for Acme A1 is ready"),
        ("A3", "sales@localhost", "Data Platform for Acme A3 is ready"),
    ]
    body = alerts[0][3]
    assert body.startswith("score 25.0\n\nData Platform for Acme A1: Nurture: alert")
    assert "Stage:              Engaged" in body and "- P11 X, Decision Maker" in body
    assert "2026-03-01  P11 X: 1 x form_fill, 9.50 points" in body
    # p22 has no address (NULL): held, never an email "To: nan" (a new user found that one)
    assert warehouse.fetchall(
        "select person_id, hold_reason from journey_outbox where person_id = 'p22'"
    ) == [("p22", "no email address")]
    assert warehouse.fetchall(
        "select account_id, status, node from journey_enrolments order by account_id"
    ) == [
        ("A1", "finished", "done"),
        ("A2", "finished", "done"),
        ("A3", "finished", "done"),
    ]
    # The stage move and the refusal wait in the journeys' own tables for the stage asset's next
    # run (scoring/test_stages.py runs that step).
    assert warehouse.fetchall(
        "select buying_group_id, from_stage, to_stage, actor_name from journey_stage_moves"
    ) == [("data_platform:A1", "Engaged", "Marketing Qualified", "nurture")]
    assert warehouse.fetchall("select buying_group_id, reason from journey_stage_refusals") == [
        ("data_platform:A3", "the model does not allow 'Awareness' -> 'Marketing Qualified'")
    ]
    assert warehouse.scalar("select count(*) from buying_group_stage_history") == 0
    assert warehouse.scalar("select count(*) from buying_group_stage_refusals") == 0
    assert warehouse.fetchall("select person_id, points from journey_score_adjustments") == [("p22", 5.0)]
    # The loop back to scoring: the next run's scoring copies what the journeys added.
    assert not _table_exists(warehouse, "person_score_adjustments")
    materialized([scoring_model_tables], warehouse, tmp_path, "2026-03-06T10:00:00")
    assert warehouse.fetchall("select person_id, points from person_score_adjustments") == [("p22", 5.0)]
    assert warehouse.fetchall("select buying_group_id, status from buying_group_status_history") == [
        ("data_platform:A2", "nurturing")
    ]
    assert warehouse.fetchall(
        "select node, outcome, accounts from journey_node_counts where node = 'triage' order by outcome"
    ) == [("triage", "path hot", 1), ("triage", "path mid", 1), ("triage", "path other", 1)]


def test_the_sensor_runs_journeys_when_a_step_falls_due(duckdb_warehouse, tmp_path, monkeypatch):
    """After run 1 every account waits until 03-04 09:00: the sensor skips before that (from the
    run's metadata, without the warehouse) and asks for one run, once, after it."""
    from blueprint_pipeline.defs.journeys import sensors

    _setup(duckdb_warehouse, tmp_path)
    instance = dg.DagsterInstance.ephemeral()
    context = dg.build_sensor_context(instance=instance)
    assert "have not run yet" in sensors.journey_steps_sensor(context).skip_message
    _run(duckdb_warehouse, tmp_path, "2026-03-02T09:00:00", instance)
    monkeypatch.setattr(sensors, "now", lambda: datetime(2026, 3, 4, 8, 59))
    assert sensors.journey_steps_sensor(context).skip_message == "next step due at 2026-03-04T09:00:00 UTC"
    monkeypatch.setattr(sensors, "now", lambda: datetime(2026, 3, 4, 9, 1))
    request = sensors.journey_steps_sensor(context)
    assert request.run_key.startswith("journeys-due-2026-03-04T09:00:00-")


def test_a_journey_taken_out_of_the_config_does_not_hold_the_sensor(duckdb_warehouse, tmp_path, monkeypatch):
    from blueprint_pipeline.defs.journeys import sensors

    _setup(duckdb_warehouse, tmp_path)
    instance = dg.DagsterInstance.ephemeral()
    _run(duckdb_warehouse, tmp_path, "2026-03-02T09:00:00", instance)
    (tmp_path / "journeys.yaml").write_text("journeys: {}\n")
    _run(duckdb_warehouse, tmp_path, "2026-03-03T09:00:00", instance)
    event = instance.get_latest_materialization_event(dg.AssetKey("journey_enrolments"))
    metadata = event.asset_materialization.metadata
    assert metadata["next_due_at"].value == "" and metadata["active_enrolments"].value == 0
    assert (
        "nurture (3 active enrolments left as they were)"
        in metadata["summary/journeys not in the config"].value
    )
    monkeypatch.setattr(sensors, "now", lambda: datetime(2026, 3, 5))
    assert sensors.journey_steps_sensor(dg.build_sensor_context(instance=instance)).skip_message == (
        "no enrolment waits for a time"
    )
