"""Each KPI on hand-made tables, answers worked by hand, DuckDB and PostgreSQL.

Groups: g1 (A1) and g2 (A2) of data_platform (opportunity type "Data Platform"), g3 (A3) of
security_add_on. Weeks start on Monday: W1 = 2026-11-02, W2 = 2026-11-09.

Snapshots (date: required roles missing, completeness, complete (at 80%), score, stage); the week's
last counts:
  g1: 11-03 (1, 0.5, no, 10, Awareness), 11-06 (0, 1.0, yes, 30, Marketing Qualified),
      11-10 (1, 0.75, no, 20, Engaged)
  g2: 11-05 (2, 0.25, no, 5, Awareness), 11-12 (0, 1.0, yes, 40, Marketing Qualified)
  g3: 11-05 (1, 0.8, yes, 50, Sales Ready)
- completeness W1 dp: g1 complete, g2 not -> 1/2 = 0.5, mean (1.0 + 0.25) / 2 = 0.625; W1 security
  1/1 (complete as is_complete says, though a required role is missing: docs/figures.md); W2 dp:
  g2 only -> 0.5, mean (0.75 + 1.0) / 2 = 0.875.
- engagement W1 dp mean (30 + 5) / 2 = 17.5; W1 security 50; W2 dp (20 + 40) / 2 = 30.
- MQA (qualified: Marketing Qualified, Sales Ready) W1 dp 1/2; W1 security 1/1; W2 dp 1/2.
Created (first stage history): g1 11-03, g2 11-05, g3 11-05. Opportunities:
  o1 A1 Data Platform 11-13 closed won; o2 A1 Data Platform 11-20 closed lost (not g1's first);
  o3 A2 Security Add-on (A2 has no security group); o4 A3 Security Add-on 11-01 closed lost
  (before g3); o5 A2 Data Platform 11-12 12:00 open.
- velocity W2 dp: o5 7.5 days, o1 10 days -> 2, mean 8.75, median 8.75.
- win rate: o1 and o2 see g1's 11-10 snapshot (0.75 -> 75%-100%, 20 -> 10-25): 2 closed, 1 won;
  o4 has no snapshot before -> 1 closed, 0 won.
Roles (members per snapshot): g1 11-03 1 (not the week's last), 11-06 1 + 2, 11-10 2; g2 11-05 1,
11-12 3. Primary links: A1 4 persons, A2 5 (and one non-primary).
- qualification W1 dp (3 + 1) / 9 = 0.4444; W2 dp (2 + 3) / 9 = 0.5556.
Alerts (7-day window): g1 11-06 09:00, Task on A1 11-10 -> responded; g2 11-05, only o5 at 11-12
12:00 (7.5 days) -> not; g3 11-10, nothing -> not. W1 dp 1/2; W2 security 0/1.
Journey j1 (W1): exited; finished at an exit node; finished with no path; active; a test one
(left out) -> 2/4. Emails: m1, m2, m3 sent, m4 held, an SMS; m1 opened twice and clicked, m2
opened -> sent 3, opened 2 (0.6667), clicked 1 (0.3333).
Sales feedback: a rejection of A2's group on 11-04 ("Too early "), one the file could not use ->
W1 dp 1 decision, 0 accepted, 1 rejected, 0.0, "too early".
A KPI whose input table is missing fails its build, naming the table; the others are built.
"""

from __future__ import annotations

from datetime import date, datetime

import dagster as dg
import pandas as pd

from blueprint_pipeline.core.run_facts import AS_OF_TAG
from blueprint_pipeline.defs.reporting.kpis import kpis
from blueprint_pipeline.resources import BlueprintConfigResource

D = datetime.fromisoformat


def _tables() -> dict[str, pd.DataFrame]:
    snap = [
        ("g1", "A1", "data_platform", "2026-11-03", 1, 0.5, False, 10, "Awareness"),
        ("g1", "A1", "data_platform", "2026-11-06", 0, 1.0, True, 30, "Marketing Qualified"),
        ("g1", "A1", "data_platform", "2026-11-10", 1, 0.75, False, 20, "Engaged"),
        ("g2", "A2", "data_platform", "2026-11-05", 2, 0.25, False, 5, "Awareness"),
        ("g2", "A2", "data_platform", "2026-11-12", 0, 1.0, True, 40, "Marketing Qualified"),
        ("g3", "A3", "security_add_on", "2026-11-05", 1, 0.8, True, 50, "Sales Ready"),
    ]
    roles = [
        ("g1", "2026-11-03", "DM", 1),
        ("g1", "2026-11-06", "DM", 1),
        ("g1", "2026-11-06", "Champion", 2),
        ("g1", "2026-11-10", "DM", 2),
        ("g2", "2026-11-05", "DM", 1),
        ("g2", "2026-11-12", "DM", 3),
    ]
    links = [(f"p{a}{i}", a, True) for a, n in (("A1", 4), ("A2", 5)) for i in range(n)] + [
        ("px", "A2", False)
    ]
    opps = [
        ("o1", "A1", "Data Platform", "2026-11-13", True, True),
        ("o2", "A1", "Data Platform", "2026-11-20", True, False),
        ("o3", "A2", "Security Add-on", "2026-11-14", False, False),
        ("o4", "A3", "Security Add-on", "2026-11-01", True, False),
        ("o5", "A2", "Data Platform", "2026-11-12T12:00", False, False),
    ]
    enrol = [
        ("e1", "exited", "stage reached: Sales Ready", "2026-11-03", False),
        ("e2", "finished", "exit node done", "2026-11-04", False),
        ("e3", "finished", "no path at split", "2026-11-05", False),
        ("e4", "active", None, "2026-11-05", False),
        ("e5", "exited", "x", "2026-11-05", True),
    ]
    outbox = [
        ("<m1@x.com>", "email", "sent", "2026-11-03"),
        ("<m2@x.com>", "email", "sent", "2026-11-04"),
        ("<m3@x.com>", "email", "sent", "2026-11-05"),
        ("<m4@x.com>", "email", "held", None),
        ("<m6@x.com>", "sms", "sent", "2026-11-05"),
    ]
    return {
        "buying_groups": pd.DataFrame({"buying_group_id": ["g1", "g2", "g3"], "account_id": ["A1", "A2", "A3"],
                                       "solution_interest": ["data_platform", "data_platform", "security_add_on"]}),
        "buying_group_snapshots": pd.DataFrame(
            [(g, a, i, D(d), m, c, done, s, st) for g, a, i, d, m, c, done, s, st in snap],
            columns=["buying_group_id", "account_id", "solution_interest", "snapshot_date",
                     "required_roles_missing", "completeness_score", "is_complete", "score", "stage"]),
        "buying_group_role_snapshots": pd.DataFrame(
            [(g, D(d), r, m) for g, d, r, m in roles],
            columns=["buying_group_id", "snapshot_date", "role", "members"]),
        "buying_group_stage_history": pd.DataFrame(
            {"buying_group_id": ["g1", "g1", "g2", "g3"],
             "changed_at": [D("2026-11-03"), D("2026-11-06"), D("2026-11-05"), D("2026-11-05")]}),
        "person_account_links": pd.DataFrame(links, columns=["person_id", "account_id", "is_primary"]),
        "account_aliases": pd.DataFrame({"alias_account_id": ["Z9"], "account_id": ["A1"]}),
        "stg_salesforce__opportunities": pd.DataFrame(
            [(o, a, t, D(c), cl, w) for o, a, t, c, cl, w in opps],
            columns=["opportunity_id", "account_id", "opportunity_type", "created_at", "is_closed", "is_won"]),
        "stg_salesforce__tasks": pd.DataFrame({"account_id": ["A1"], "what_id": [None],
                                               "created_at": [D("2026-11-10")]}),
        "sales_alert_log": pd.DataFrame({"buying_group_id": ["g1", "g2", "g3"],
                                         "fired_at": [D("2026-11-06T09:00"), D("2026-11-05"), D("2026-11-10")]}),
        "journey_enrolments": pd.DataFrame(
            [("j1", e, s, r, D(t), test) for e, s, r, t, test in enrol],
            columns=["journey_id", "enrolment_id", "status", "end_reason", "entered_at", "test"]),
        "journey_outbox": pd.DataFrame(
            [("j1", m, c, s, D(t) if t else None, False) for m, c, s, t in outbox],
            columns=["journey_id", "message_id", "channel", "status", "sent_at", "test"]),
        "stg_tracking__events": pd.DataFrame({"message_token": ["m1", "m1", "m1", "m2"],
                                              "event": ["open", "open", "click", "open"]}),
        "sales_feedback": pd.DataFrame(
            {"solution_interest": ["data_platform", "data_platform"], "decision": ["rejected", "maybe"],
             "reason": ["Too early ", None], "decided_at": [D("2026-11-04"), D("2026-11-05")],
             "problem": ["", "field decision: expected accepted or rejected"]}),
    }  # fmt: skip


def _kpi(warehouse, table: str) -> list[tuple]:
    with warehouse.session() as session:
        frame = session.fetch_df(f"select * from {table}")
    frame = frame.sort_values(list(frame.columns[:3])).reset_index(drop=True)
    return [tuple(None if pd.isna(v) else (str(v)[:10] if isinstance(v, date | pd.Timestamp) else
            (round(float(v), 4) if isinstance(v, float) else v)) for v in row) for row in frame.itertuples(index=False)]  # fmt: skip


def _build_kpis(warehouse, config_dir, **options):
    """The kpis asset over the tables in the warehouse, at the fixtures' as-of."""
    resources = {
        "warehouse": warehouse,
        "blueprint_config": BlueprintConfigResource(config_dir=str(config_dir)),
    }
    return dg.materialize([kpis], resources=resources, tags={AS_OF_TAG: "2026-11-25T00:00:00"}, **options)


def test_every_kpi_by_hand(warehouse, tmp_path):
    with warehouse.transaction() as session:
        for name, frame in _tables().items():
            session.replace_table(name, frame)
    result = _build_kpis(warehouse, tmp_path)
    assert result.success
    with warehouse.session() as session:
        weeks = {
            t: dict(session.columns(t)).get("week") for t in session.list_tables() if t.startswith("kpi_")
        }
    # Every KPI's week is one type, a timestamp (kpi_mqa_acceptance's was once text).
    assert {t: w for t, w in weeks.items() if w is not None and not w.lower().startswith("timestamp")} == {}
    assert _kpi(warehouse, "kpi_buying_group_completeness") == [
        ("2026-11-02", "data_platform", 2, 1, 0.5, 0.625),
        ("2026-11-02", "security_add_on", 1, 1, 1.0, 0.8),
        ("2026-11-09", "data_platform", 2, 1, 0.5, 0.875),
    ]
    # Its scores are group scores: the metadata says so, with their scale (docs/figures.md).
    [engagement] = [
        m for m in result.get_asset_materialization_events() if m.asset_key.path[-1].endswith("_engagement")
    ]
    assert engagement.materialization.metadata["figure"].value == (
        "Group engagement score (points, role-weighted mean of members)"
    )
    assert _kpi(warehouse, "kpi_buying_group_engagement") == [
        ("2026-11-02", "data_platform", 2, 17.5, 17.5),
        ("2026-11-02", "security_add_on", 1, 50.0, 50.0),
        ("2026-11-09", "data_platform", 2, 30.0, 30.0),
    ]
    assert _kpi(warehouse, "kpi_mqa_rate") == [
        ("2026-11-02", "data_platform", 2, 1, 0.5),
        ("2026-11-02", "security_add_on", 1, 1, 1.0),
        ("2026-11-09", "data_platform", 2, 1, 0.5),
    ]
    assert _kpi(warehouse, "kpi_pipeline_velocity") == [("2026-11-09", "data_platform", 2, 8.75, 8.75)]
    assert _kpi(warehouse, "kpi_lead_qualification_rate") == [
        ("2026-11-02", "data_platform", 9, 4, 0.4444),
        ("2026-11-09", "data_platform", 9, 5, 0.5556),
    ]
    assert _kpi(warehouse, "kpi_sales_alert_response_rate") == [
        ("2026-11-02", "data_platform", 2, 1, 0.5),
        ("2026-11-09", "security_add_on", 1, 0, 0.0),
    ]
    assert _kpi(warehouse, "kpi_journey_completion_rate") == [("2026-11-02", "j1", 4, 2, 0.5)]
    assert _kpi(warehouse, "kpi_email_engagement_rate") == [("2026-11-02", "j1", 3, 2, 1, 0.6667, 0.3333)]
    assert _kpi(warehouse, "kpi_mqa_acceptance") == [
        ("2026-11-02", "data_platform", 1, 0, 1, 0.0, "too early")
    ]
    assert _kpi(warehouse, "kpi_win_rate_by_band") == [
        ("data_platform", "completeness", "75%-100%", 2, 1, 0.5),
        ("data_platform", "score", "10-25", 2, 1, 0.5),
        ("security_add_on", "completeness", "no snapshot before", 1, 0, 0.0),
        ("security_add_on", "score", "no snapshot before", 1, 0, 0.0),
    ]


def test_a_missing_input_fails_loudly(warehouse, tmp_path):
    """Not an empty KPI: the build of the KPI that reads the missing table fails, and says which."""
    with warehouse.transaction() as session:
        for name, frame in _tables().items():
            if name != "stg_tracking__events":
                session.replace_table(name, frame)
        session.execute("drop table if exists stg_tracking__events")
    result = _build_kpis(warehouse, tmp_path, raise_on_error=False)
    assert not result.success
    [failure] = [e for e in result.all_events if e.is_step_failure]
    message = failure.step_failure_data.error.to_string()  # with its cause
    assert "kpi_email_engagement_rate" in message and "stg_tracking__events" in message
    built = {m.asset_key.path[-1] for m in result.get_asset_materialization_events()}
    assert "kpi_email_engagement_rate" not in built and "kpi_journey_completion_rate" in built
