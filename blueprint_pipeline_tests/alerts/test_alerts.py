"""Sales alerts: each rule type on hand-made groups, hysteresis at the
threshold, a new rule starting quiet, routing by each rule, and the asset on both warehouses.

Rules: q milestone qualified (stages Marketing Qualified / Sales Ready), c milestone complete,
h milestone highly engaged (score >= 20), t score threshold above 30 re-armed below 20, s stage
transition to Sales Ready. Worked answer, build by build:
  1. Every rule is new: g1 (MQ, 35, complete) is remembered as qualified, complete, highly
     engaged and over the threshold; the three stage moves so far are remembered. No alert.
  2. g2 reaches MQ -> q; g3's score 31 -> t ("group score 31.0 reached 30") and h; g1 moves MQ -> Sales
     Ready (move 4) -> s. g1 stays at 35: t already fired for it, nothing.
  3. g3 at 25: inside the band (20-30): nothing.   4. g3 at 31 again: still not re-armed: nothing.
  5. g3 at 15: below 20, re-armed, no alert.       6. g3 at 30: t fires again.
"""

from __future__ import annotations

from datetime import datetime

import pandas as pd
import pytest

from blueprint_pipeline.alerts.content import route
from blueprint_pipeline.alerts.rules import evaluate
from blueprint_pipeline.config.alerts import AlertsConfig, Routing
from blueprint_pipeline.defs.journeys.alerts import sales_alerts
from blueprint_pipeline.resources import load_config
from blueprint_pipeline_tests.builds import materialized

RULES = {
    "q": {"type": "milestone", "milestone": "qualified"},
    "c": {"type": "milestone", "milestone": "complete"},
    "h": {"type": "milestone", "milestone": "highly_engaged"},
    "t": {"type": "score_threshold", "above": 30, "rearm_below": 20},
    "s": {"type": "stage_transition", "to_stage": "Sales Ready"},
}


def _groups(rows):
    return pd.DataFrame(
        [
            (g, "data_platform", stage, float(score), complete, 1.0 if complete else 0.5)
            for g, stage, score, complete in rows
        ],
        columns=["buying_group_id", "solution_interest", "stage", "score", "is_complete", "completeness"],
    )


def _moves(rows):
    return pd.DataFrame(
        [(seq, g, "data_platform", f, t) for seq, g, f, t in rows],
        columns=["change_seq", "buying_group_id", "solution_interest", "from_stage", "to_stage"],
    )


def _build_alerts(warehouse, config_dir, at: str) -> dict:
    """The asset alone at `at` on the tables already in `warehouse`; its metadata."""
    return (
        materialized([sales_alerts], warehouse, config_dir, at)
        .asset_materializations_for_node("sales_alerts")[0]
        .metadata
    )


def test_rule_types_hysteresis_and_a_quiet_start():
    config = AlertsConfig.model_validate({"rules": RULES, "milestones": {"highly_engaged_score": 20}})
    moves = [
        (1, "g1", None, "Awareness"),
        (2, "g1", "Awareness", "Engaged"),
        (3, "g1", "Engaged", "Marketing Qualified"),
    ]
    g1 = ("g1", "Marketing Qualified", 35, True)
    first = evaluate(
        config, _groups([g1, ("g2", "Engaged", 5, False), ("g3", "Awareness", 2, False)]), _moves(moves), {}
    )
    assert first.fired == []
    moves.append((4, "g1", "Marketing Qualified", "Sales Ready"))
    g1 = ("g1", "Sales Ready", 35, True)
    second = evaluate(
        config,
        _groups([g1, ("g2", "Marketing Qualified", 8, False), ("g3", "Engaged", 31, False)]),
        _moves(moves),
        first.state,
    )
    assert sorted((f.rule, f.buying_group_id, f.reason) for f in second.fired) == [
        ("h", "g3", "highly engaged: group score 31.0 >= 20"),
        ("q", "g2", "qualified: reached Marketing Qualified"),
        ("s", "g1", "moved Marketing Qualified -> Sales Ready"),
        ("t", "g3", "group score 31.0 reached 30"),
    ]
    state, fired = second.state, []
    for score in (25, 31, 15, 30):
        result = evaluate(config, _groups([g1, ("g3", "Engaged", score, False)]), _moves(moves), state)
        state = result.state
        fired.append([(f.rule, f.reason) for f in result.fired])
    assert fired == [[], [], [], [("t", "group score 30.0 reached 30")]]


def test_a_rule_added_later_starts_quiet():
    config = AlertsConfig.model_validate({"rules": {"q": RULES["q"]}})
    state = evaluate(config, _groups([("g1", "Engaged", 1, False)]), _moves([]), {}).state
    later = AlertsConfig.model_validate({"rules": {"q": RULES["q"], "t": RULES["t"]}})
    result = evaluate(later, _groups([("g1", "Marketing Qualified", 40, False)]), _moves([]), state)
    assert [(f.rule, f.buying_group_id) for f in result.fired] == [("q", "g1")]  # t is new: quiet


@pytest.mark.parametrize(
    ("owner", "territory", "interest", "order", "expected"),
    [
        (
            "olga@example.com",
            ("dach", "dach@example.com"),
            "data_platform",
            None,
            ("olga@example.com", "owner"),
        ),
        ("", ("dach", "dach@example.com"), "data_platform", None, ("dach@example.com", "territory dach")),
        ("", None, "data_platform", None, ("platform@example.com", "solution_interest")),
        ("", None, "security_add_on", None, ("sales@example.com", "default_to")),
        (
            "olga@example.com",
            None,
            "data_platform",
            ["solution_interest", "owner"],
            ("platform@example.com", "solution_interest"),
        ),
    ],
)
def test_routing(owner, territory, interest, order, expected):
    routing = Routing.model_validate(
        {
            "solution_interests": {"data_platform": "platform@example.com"},
            "default_to": "sales@example.com",
            **({"order": order} if order else {}),
        }
    )
    found = route(routing, {"owner_email": owner, "solution_interest_key": interest}, territory)
    assert (found.to, found.by) == expected


def test_rule_config_errors(tmp_path):
    from blueprint_pipeline.core.errors import ConfigError
    from blueprint_pipeline.resources import load_config

    (tmp_path / "alerts.yaml").write_text("rules: {t: {type: score_threshold, above: 20, rearm_below: 25}}\n")
    with pytest.raises(ConfigError, match="rearm_below .25. must be below above .20."):
        load_config(tmp_path)
    (tmp_path / "alerts.yaml").write_text("rules: {s: {type: stage_transition, to_stage: Closed}}\n")
    with pytest.raises(ConfigError, match="key 'rules.s': 'Closed' is not a stage of any stage model"):
        load_config(tmp_path)


def test_the_asset_queues_routed_alerts(warehouse, tmp_path):
    """Two builds on hand-made tables: the first is quiet (new rules), then A2's group reaches
    Marketing Qualified: the shipped rule group_qualified fires, routed to the territory of German
    accounts, with the standard content."""
    from blueprint_pipeline_tests.journeys.test_journey_asset import _tables

    (tmp_path / "alerts.yaml").write_text(
        "routing:\n  territories: [{name: dach, when: {field: billing_country, op: eq, value: DE}, to: dach@example.com}]\n"
        "  order: [territory]\n"
    )
    tables = _tables()
    tables["buying_groups"]["is_complete"] = False
    tables["buying_group_stage_history"] = pd.DataFrame(
        {
            "change_seq": [1, 2, 3],
            "buying_group_id": [f"data_platform:{a}" for a in ("A1", "A2", "A3")],
            "from_stage": [None, None, None],
            "to_stage": ["Engaged", "Engaged", "Awareness"],
        }
    ).astype({"from_stage": "string"})
    tables["readiness_scores"] = pd.DataFrame(
        {
            "buying_group_id": ["data_platform:A2"],
            "probability": [0.7234],
            "tier": ["fast_track"],
            "explanation": [
                "12 activities in the last 90 days (raises readiness by 18 points); "
                "1 people known at the account (lowers readiness by 4 points)"
            ],
        }
    )
    with warehouse.transaction() as session:
        for name, frame in tables.items():
            session.replace_table(name, frame)

    _build_alerts(warehouse, tmp_path, "2026-03-01T00:00:00")
    assert warehouse.scalar("select count(*) from sales_alert_log") == 0
    with warehouse.transaction() as session:
        session.execute(
            "update buying_group_stages set stage = 'Marketing Qualified' where buying_group_id = 'data_platform:A2'"
        )
    _build_alerts(warehouse, tmp_path, "2026-03-02T00:00:00")
    assert warehouse.fetchall(
        "select rule, buying_group_id, reason, routed_to, routed_by from sales_alert_log"
    ) == [
        (
            "group_qualified",
            "data_platform:A2",
            "qualified: reached Marketing Qualified",
            "dach@example.com",
            "territory dach",
        )
    ]
    subject, text, html = warehouse.fetchall(
        "select subject, body_text, body_html from sales_alert_outbox where channel = 'sales_alert'"
    )[0]
    assert subject == "Sales alert: Data Platform for Acme A2 (qualified: reached Marketing Qualified)"
    assert "Account:            Acme A2 (A2, acme.com)" in text and "Missing (required): none" in text
    # Each score says whose it is and its scale; "complete" as buying_groups.is_complete (docs/figures.md).
    score = warehouse.scalar(
        "select score from buying_group_engagement where buying_group_id = 'data_platform:A2'"
    )
    assert (
        f"Group score:        {score:.1f} (group engagement score, points, role-weighted mean of members)"
        in text
    )
    assert "Completeness:       50%, not complete (80% needed)" in text
    assert ": person score 1.0 points, " in text and ": person score 1.0 points, " in html
    # The group's readiness (readiness_scores), with its reasons in words.
    assert "Readiness:          fast_track (probability 72%)\n    - 12 activities in the last 90 days" in text
    assert "<li>1 people known at the account (lowers readiness by 4 points)</li>" in html
    assert "<h2" in html and "Acme A2" in html
    _build_alerts(warehouse, tmp_path, "2026-03-03T00:00:00")  # nothing new: a milestone alerts once
    assert warehouse.scalar("select count(*) from sales_alert_log") == 1


def test_a_changed_rule_starts_quiet_again_and_a_rule_can_be_removed(tmp_path):
    """Lowering a threshold from 30 to 11 with a group at 11.2 does not alert (its memory was
    of the old rule): what is true is remembered, as for a new rule. `name: null` removes a
    shipped rule."""
    config = AlertsConfig.model_validate({"rules": {"t": RULES["t"]}})
    state = evaluate(config, _groups([("g1", "Engaged", 11.2, False)]), _moves([]), {}).state
    lowered = AlertsConfig.model_validate({"rules": {"t": {**RULES["t"], "above": 11, "rearm_below": 5}}})
    result = evaluate(lowered, _groups([("g1", "Engaged", 11.2, False)]), _moves([]), state)
    assert result.fired == [] and result.quiet == {"t": "1 groups already true, remembered, not alerted"}

    from blueprint_pipeline.resources import load_config

    (tmp_path / "alerts.yaml").write_text("rules: {group_qualified: null}\n")
    assert sorted(load_config(tmp_path).config.alerts.rules) == ["engagement_rising", "sales_ready"]


def test_new_groups_start_quiet_unless_the_rule_says_otherwise():
    """A new solution interest's group g2 appears on build 2 already in Sales Ready at 40 (its
    moves 2 and 3), while the known g1 moves Engaged -> Sales Ready at 35 (move 4). Worked answer:
      build 2: g1 alerts on q, s, t and t_new; g2 only on t_new (alert_new_groups: true);
               q, s and t each say what they held back for the new group.
      build 3: g2 falls to 15, below rearm_below 20: re-armed, no alert.
      build 4: g2 back at 31 -> t (and t_new); g2 leaves Sales Ready and comes back (moves 5, 6)
               -> s: after its first evaluation a new group is like any other."""
    rules = {k: RULES[k] for k in ("q", "s", "t")} | {"t_new": RULES["t"] | {"alert_new_groups": True}}
    config = AlertsConfig.model_validate({"rules": rules})
    moves = [(1, "g1", None, "Engaged")]
    state = evaluate(config, _groups([("g1", "Engaged", 10, False)]), _moves(moves), {}).state
    moves += [
        (2, "g2", None, "Awareness"),
        (3, "g2", "Awareness", "Sales Ready"),
        (4, "g1", "Engaged", "Sales Ready"),
    ]
    second = evaluate(
        config,
        _groups([("g1", "Sales Ready", 35, False), ("g2", "Sales Ready", 40, False)]),
        _moves(moves),
        state,
    )
    assert sorted((f.rule, f.buying_group_id, f.reason) for f in second.fired) == [
        ("q", "g1", "qualified: reached Sales Ready"),
        ("s", "g1", "moved Engaged -> Sales Ready"),
        ("t", "g1", "group score 35.0 reached 30"),
        ("t_new", "g1", "group score 35.0 reached 30"),
        ("t_new", "g2", "group score 40.0 reached 30"),
    ]
    assert second.quiet == {
        "q": "new groups: 1 already true, remembered, not alerted",
        "s": "new groups: 1 stage moves, not alerted",
        "t": "new groups: 1 already true, remembered, not alerted",
    }
    third = evaluate(
        config,
        _groups([("g1", "Sales Ready", 35, False), ("g2", "Sales Ready", 15, False)]),
        _moves(moves),
        second.state,
    )
    assert third.fired == [] and third.quiet == {}
    moves += [(5, "g2", "Sales Ready", "Engaged"), (6, "g2", "Engaged", "Sales Ready")]
    fourth = evaluate(
        config,
        _groups([("g1", "Sales Ready", 35, False), ("g2", "Sales Ready", 31, False)]),
        _moves(moves),
        third.state,
    )
    assert sorted((f.rule, f.buying_group_id, f.reason) for f in fourth.fired) == [
        ("s", "g2", "moved Engaged -> Sales Ready"),
        ("t", "g2", "group score 31.0 reached 30"),
        ("t_new", "g2", "group score 31.0 reached 30"),
    ]


def test_switching_alert_new_groups_keeps_the_rules_memory():
    quiet = AlertsConfig.model_validate({"rules": {"t": RULES["t"]}})
    loud = AlertsConfig.model_validate({"rules": {"t": RULES["t"] | {"alert_new_groups": True}}})
    state = evaluate(quiet, _groups([("g1", "Engaged", 10, False)]), _moves([]), {}).state
    result = evaluate(loud, _groups([("g1", "Engaged", 35, False)]), _moves([]), state)
    assert [(f.rule, f.buying_group_id) for f in result.fired] == [("t", "g1")]  # not a new rule: alerts


def test_a_new_solution_interest_fires_no_burst(warehouse, tmp_path):
    """The asset on hand-made tables: build 1 is quiet (new rules). Build 2 brings a new solution
    interest whose group for A2 starts in Marketing Qualified at score 50, while the known A1's
    group reaches Marketing Qualified: only A1 alerts (group_qualified), and the run says what
    it held back for the new group (group_qualified, and engagement_rising: 50 is over 15)."""
    from blueprint_pipeline_tests.journeys.test_journey_asset import _tables

    tables = _tables()
    tables["buying_groups"]["is_complete"] = False
    tables["buying_group_stage_history"] = pd.DataFrame(
        {
            "change_seq": [1],
            "buying_group_id": ["data_platform:A1"],
            "from_stage": [None],
            "to_stage": ["Engaged"],
        }
    ).astype({"from_stage": "string"})
    with warehouse.transaction() as session:
        for name, frame in tables.items():
            session.replace_table(name, frame)

    _build_alerts(warehouse, tmp_path, "2026-03-01T00:00:00")
    new = "security_add_on:A2"
    with warehouse.transaction() as session:
        session.execute(
            "insert into buying_groups (buying_group_id, buying_group_name, solution_interest, account_id, "
            f"members, completeness_score, missing_required_roles, is_complete) values ('{new}', "
            "'Security for Acme A2', 'security_add_on', 'A2', 2, 0.5, '', false)"
        )
        session.execute(f"insert into buying_group_stages values ('{new}', 'Marketing Qualified')")
        session.execute(f"insert into buying_group_engagement values ('{new}', 50)")
        session.execute(
            "insert into buying_group_stage_history (change_seq, buying_group_id, from_stage, to_stage) "
            f"values (2, '{new}', null, 'Marketing Qualified'), "
            "(3, 'data_platform:A1', 'Engaged', 'Marketing Qualified')"
        )
        session.execute(
            "update buying_group_stages set stage = 'Marketing Qualified' where buying_group_id = 'data_platform:A1'"
        )
    metadata = _build_alerts(warehouse, tmp_path, "2026-03-02T00:00:00")
    assert warehouse.fetchall("select rule, buying_group_id from sales_alert_log") == [
        ("group_qualified", "data_platform:A1")
    ]
    assert metadata["summary/sales alerts held back"].value == (
        "engagement_rising (new groups: 1 already true, remembered, not alerted), "
        "group_qualified (new groups: 1 already true, remembered, not alerted)"
    )


@pytest.mark.parametrize("named", [20_000, 0])
def test_the_activities_behind_an_alert_by_named_members_or_whole(warehouse, monkeypatch, named):
    """The contributions behind a group's alert, read for its members by their ids (the view's
    scans filtered) or by a join when there are too many ids: the same facts either way. A1's
    member p11 has one form fill (9.5 points); A2's members none."""
    from blueprint_pipeline.alerts import content
    from blueprint_pipeline_tests.journeys.test_journey_asset import _tables

    with warehouse.transaction() as session:
        for name, frame in _tables().items():
            session.replace_table(name, frame)
    monkeypatch.setattr(content, "NAMED_PERSONS", named)
    with warehouse.session() as session:
        facts = content.load_facts(
            session, ["data_platform:A1", "data_platform:A2"], load_config().config, datetime(2026, 3, 2)
        )
    assert facts["data_platform:A1"]["activities"] == [
        {"day": "2026-03-01", "person": "P11 X", "count": 1, "kind": "form_fill", "points": "9.50"}
    ]
    assert facts["data_platform:A2"]["activities"] == []
