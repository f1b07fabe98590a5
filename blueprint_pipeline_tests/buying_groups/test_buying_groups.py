"""Buying groups, members, completeness and overrides on hand-made data, on DuckDB and PostgreSQL.
The worked answer is in docs/buying-groups.md; in short (fixtures identity_unified plus
buying_groups_extra: Gia "VP, IT" (unsubscribed), Hal "Sr. Data Engineer", Ivy "Head of Data",
all @globex.com, so linked to Globex GL1 by email domain):

Template t: Decision Maker (vital 100, required, persona it_boss), Champion (important 80,
required, title has "head"), Practitioner (minor 40, 3 members required, persona data_people),
Budget (normal 60, required, persona finance: nobody fits).
Audiences: platform = domain in (globex.com, acme.com) -> AC1, GL1, GL2; security = employees
>= 5000 -> GL1. Two solution interests over GL1: Gia, Hal and Ivy sit in both groups.
  Gia -> Decision Maker (opted out of email: still a member); Hal -> Practitioner;
  Ivy fits Champion (priority 2) and Practitioner (priority 3, "head data" is a data_people
  spelling) -> Champion.
  platform:GL1, suites over all roles: (1 + 1 + 1/3 + 0) / 4 = 0.583333; required roles
  (DM, Champion, Budget): 2/3; missing: Budget. Weighted, stored beside it:
  (100x1 + 80x1 + 40x1/3 + 60x0) / 280 = 193.333 / 280 = 0.690476.
  security:GL1 has the same members, but its interest weighs (its own method) and is complete at
  0.7 (its own threshold): completeness_score 0.690476, not complete.
Build 2 adds overrides (Hal -> Champion in platform by sales; Gia removed from security) and the
weighted method: platform:GL1 = (100x1 + 80x1 + 40x0 + 60x0) / 280 = 0.642857 (Champion has 2 of
1 required: still 1).
Build 3 (drop 2: Globex down to 4000 employees): GL1 leaves the security audience, its group goes,
Hal and Ivy are recorded as removed from it.
"""

from __future__ import annotations

import shutil
from datetime import datetime

import pandas as pd
import pytest

from blueprint_pipeline.defs.buying_groups.assets import apply_journey_changes
from blueprint_pipeline.journeys.tables import append
from blueprint_pipeline.warehouse.stateful import create
from blueprint_pipeline_tests.conftest import FIXTURES
from blueprint_pipeline_tests.identity.test_unified import AC1, GL1, GL2, pid
from blueprint_pipeline_tests.ingestion.test_two_drops import build

GIA, HAL, IVY = pid("420@prod.Marketo"), pid("421@prod.Marketo"), pid("422@prod.Marketo")

AUDIENCES = """
audiences:
  platform_audience: {filter: {field: domain, op: in, value: [globex.com, acme.com]}}
  security_audience: {filter: {field: employees, op: gte, value: 5000}}
"""
BUYING_GROUPS = """
personas:
  it_boss: {titles: [chief information officer, VP IT]}
  data_people: {titles: [data engineer, head of data]}
  finance: {titles: [CFO]}
role_templates:
  t:
    roles:
      - {name: Decision Maker, weight: vital, required: true, priority: 1, conditions: {personas: [it_boss]}}
      - {name: Champion, weight: important, required: true, priority: 2, conditions: {title_patterns: [head]}}
      - {name: Practitioner, weight: minor, members_required: 3, priority: 3, conditions: {personas: [data_people]}}
      - {name: Budget, weight: normal, required: true, priority: 4, conditions: {personas: [finance]}}
solution_interests:
  platform: {name: Platform, audience: platform_audience, role_template: t}
  security:
    {name: Security, audience: security_audience, role_template: t, completeness: {method: weighted, complete_at: 0.7}}
completeness: {method: METHOD, roles: all, complete_at: 0.5}
"""
MINE = "(buying_group_id like 'platform:%' or buying_group_id like 'security:%')"


@pytest.fixture
def setup(tmp_path, monkeypatch):
    landing = tmp_path / "landing"
    shutil.copytree(FIXTURES / "identity_unified", landing)
    shutil.copytree(FIXTURES / "buying_groups_extra", landing, dirs_exist_ok=True)
    config = tmp_path / "config"
    config.mkdir()
    (config / "audiences.yaml").write_text(AUDIENCES)
    (config / "buying_groups.yaml").write_text(BUYING_GROUPS.replace("METHOD", "suites"))
    monkeypatch.setenv("BLUEPRINT_CONFIG_DIR", str(config))
    return landing, config


def rows(warehouse, sql):
    return [tuple(round(v, 6) if isinstance(v, float) else v for v in r) for r in warehouse.fetchall(sql)]


def test_groups_members_completeness_overrides_and_history(warehouse, setup, monkeypatch):
    landing, config = setup
    assert build(landing, warehouse, monkeypatch, keep_config=True).success

    groups_sql = (
        "select buying_group_id, buying_group_name, members, completeness_score, "
        f"required_roles_completeness, missing_required_roles, is_complete from buying_groups where {MINE} order by 1"
    )
    # Complete at 0.5 (security: at 0.7); missing roles joined with "; " as every output's lists.
    assert rows(warehouse, groups_sql) == [
        (f"platform:{AC1}", "Platform for Acme Corp", 0, 0.0, 0.0, "Decision Maker; Champion; Budget", False),
        (f"platform:{GL1}", "Platform for Globex", 3, 0.583333, 0.666667, "Budget", True),
        (
            f"platform:{GL2}",
            "Platform for Globex EMEA",
            0,
            0.0,
            0.0,
            "Decision Maker; Champion; Budget",
            False,
        ),
        (f"security:{GL1}", "Security for Globex", 3, 0.690476, 0.666667, "Budget", False),
    ]
    both_sql = (
        "select buying_group_id, suites_completeness, weighted_completeness, completeness_method "
        f"from buying_groups where buying_group_id in ('platform:{GL1}', 'security:{GL1}') order by 1"
    )
    assert rows(warehouse, both_sql) == [
        (f"platform:{GL1}", 0.583333, 0.690476, "suites (all roles)"),
        (f"security:{GL1}", 0.583333, 0.690476, "weighted (all roles)"),
    ]
    members_sql = (
        "select buying_group_id, person_id, role, actor, matched_condition from buying_group_members "
        f"where {MINE} order by 1, 2"
    )
    expected_rule = [
        (GIA, "Decision Maker", "rule", "persona it_boss (title 'VP, IT')"),
        (HAL, "Practitioner", "rule", "persona data_people (title 'Sr. Data Engineer')"),
        (IVY, "Champion", "rule", "title has 'head' (title 'Head of Data')"),
    ]
    assert rows(warehouse, members_sql) == sorted(
        [(f"{group}:{GL1}", *member) for group in ("platform", "security") for member in expected_rule]
    )
    # The member row shows the parsed title beside the rule (title_parser.py).
    assert rows(
        warehouse,
        "select person_id, title_function, title_seniority from buying_group_members "
        f"where buying_group_id = 'platform:{GL1}' order by 1",
    ) == sorted([(GIA, "it", "vp"), (HAL, "data", "senior"), (IVY, "data", "head")])
    assert rows(
        warehouse,
        f"select role, assigned, members_required, role_completeness from buying_group_roles "
        f"where buying_group_id = 'platform:{GL1}' order by role",
    ) == [
        ("Budget", 0, 1, 0.0),
        ("Champion", 1, 1, 1.0),
        ("Decision Maker", 1, 1, 1.0),
        ("Practitioner", 1, 3, 0.333333),
    ]

    # A column the Marketo contract does not name (buyerRole) is packed into the lead's custom fields.
    assert rows(warehouse, "select person_id, fields from int_person_custom_fields order by 1") == sorted(
        [(GIA, '{"buyerRole":" Budget Holder "}'), (HAL, '{"buyerRole":null}'), (IVY, '{"buyerRole":null}')]
    )

    # Build 2: sales overrides the rules; the weighted method.
    (config / "buying_group_overrides.csv").write_text(
        "solution_interest,account_id,person_id,action,role,actor,decided_at,note\n"
        f"platform,{GL1},{HAL},assign,Champion,sam@sales.example,2026-02-20,runs the POC\n"
        f"security,{GL1},{GIA},remove,,sam@sales.example,2026-02-20,not in security\n"
    )
    (config / "buying_groups.yaml").write_text(BUYING_GROUPS.replace("METHOD", "weighted"))
    assert build(landing, warehouse, monkeypatch, keep_config=True).success
    assert rows(
        warehouse,
        f"select person_id, role, actor, matched_condition from buying_group_members where buying_group_id = 'platform:{GL1}' order by 1",
    ) == sorted(
        [
            (GIA, "Decision Maker", "rule", "persona it_boss (title 'VP, IT')"),
            (HAL, "Champion", "manual", "assigned by sam@sales.example: runs the POC"),
            (IVY, "Champion", "rule", "title has 'head' (title 'Head of Data')"),
        ]
    )
    assert (
        warehouse.scalar(
            f"select count(*) from buying_group_members where buying_group_id = 'security:{GL1}'"
        )
        == 2
    )
    assert rows(
        warehouse, f"select completeness_score from buying_groups where buying_group_id = 'platform:{GL1}'"
    ) == [(0.642857,)]

    # Build 3: Globex leaves the security audience.
    shutil.copytree(FIXTURES / "buying_groups_drop2", landing, dirs_exist_ok=True)
    assert build(landing, warehouse, monkeypatch, keep_config=True).success
    assert (
        warehouse.scalar(f"select count(*) from buying_groups where buying_group_id = 'security:{GL1}'") == 0
    )
    history = rows(
        warehouse,
        f"select buying_group_id, person_id, event, role, actor, matched_condition from buying_group_member_events where {MINE} "
        "and event <> 'added' order by event_seq",
    )
    assert history == [
        (
            f"platform:{GL1}",
            HAL,
            "changed",
            "Champion",
            "manual",
            "assigned by sam@sales.example: runs the POC",
        ),
        (
            f"security:{GL1}",
            GIA,
            "removed",
            "Decision Maker",
            "manual",
            "removed by sam@sales.example: not in security",
        ),
        (
            f"security:{GL1}",
            HAL,
            "removed",
            "Practitioner",
            "rule",
            "the account left the solution interest's audience",
        ),
        (
            f"security:{GL1}",
            IVY,
            "removed",
            "Champion",
            "rule",
            "the account left the solution interest's audience",
        ),
    ]


PARSED_ROLES = """
personas:
  it_leader: {functions: [it, engineering], seniorities: [c_level, vp, head, director]}
role_templates:
  t:
    roles:
      - {name: Decision Maker, priority: 1, conditions: {personas: [it_leader]}}
      - {name: Champion, priority: 2, conditions: {functions: [data], seniorities: [head, director]}}
      - {name: Practitioner, priority: 3, conditions: {functions: [data], levels: [staff]}}
solution_interests:
  platform: {name: Platform, audience: platform_audience, role_template: t}
"""


def test_roles_on_the_parsed_title(warehouse, setup, monkeypatch):
    """Gia "VP, IT" is an it vp (the it_leader persona by function and seniority); Ivy "Head of
    Data" a data head (Champion by function and seniority); Hal "Sr. Data Engineer" a data senior,
    level staff (Practitioner); a person without a title is function other."""
    landing, config = setup
    (config / "buying_groups.yaml").write_text(PARSED_ROLES)
    assert build(landing, warehouse, monkeypatch, keep_config=True).success
    assert rows(
        warehouse,
        "select person_id, role, matched_condition, title_function, title_seniority from buying_group_members "
        f"where buying_group_id = 'platform:{GL1}' order by 1",
    ) == sorted(
        [
            (GIA, "Decision Maker", "persona it_leader (title 'VP, IT')", "it", "vp"),
            (HAL, "Practitioner", "function data; level staff (title 'Sr. Data Engineer')", "data", "senior"),
            (IVY, "Champion", "function data; seniority head (title 'Head of Data')", "data", "head"),
        ]
    )


def test_journey_changes_join_the_history_once_in_their_order(warehouse):
    """The journeys' membership changes (journey_member_events, their own effect table) join the
    history at the buying groups' next run. Worked by hand: the history holds a rule event (seq 4);
    the journeys changed p2 then removed p1 (their seqs 1, 2) on 03-02 and added p3 later (03-09,
    after this run's as-of, so not yet). The run appends seq 5 (p2) and 6 (p1) as actor journey
    with their step keys; a second call appends nothing."""
    with warehouse.transaction() as session:
        create(session, "buying_group_member_events", "journey_member_events")
        session.execute(
            "insert into buying_group_member_events (event_seq, buying_group_id, person_id, event, role, actor, "
            "matched_condition, happened_at, config_version) values "
            "(4, 'g1', 'p1', 'added', 'Champion', 'rule', 'title', '2026-03-01', 'v1')"
        )
        changes = [
            ("k2", "p2", "changed", "Influencer", "2026-03-02"),
            ("k1", "p1", "removed", "Champion", "2026-03-02"),
            ("k3", "p3", "added", "User", "2026-03-09"),
        ]
        append(
            session,
            "journey_member_events",
            [
                {"step_key": k, "buying_group_id": "g1", "person_id": p, "event": e, "role": r,
                 "matched_condition": "journey j, node n", "happened_at": pd.Timestamp(at), "config_version": "v1"}
                for k, p, e, r, at in changes
            ],
            sequence="event_seq",
        )  # fmt: skip
    as_of = datetime(2026, 3, 5)
    for expected in (2, 0):
        with warehouse.transaction() as session:
            assert apply_journey_changes(session, as_of) == expected
    assert warehouse.fetchall(
        "select event_seq, person_id, event, actor, request_key from buying_group_member_events order by event_seq"
    ) == [
        (4, "p1", "added", "rule", None),
        (5, "p2", "changed", "journey", "k2"),
        (6, "p1", "removed", "journey", "k1"),
    ]
