"""Title normalisation, role matching, completeness and the overrides file, on small hand-made
frames (no warehouse)."""

from __future__ import annotations

import pandas as pd
import pytest

from blueprint_pipeline.buying_groups.groups import completeness, read_overrides
from blueprint_pipeline.buying_groups.roles import assign_roles
from blueprint_pipeline.buying_groups.title_parser import parse_title
from blueprint_pipeline.buying_groups.titles import normalise_title
from blueprint_pipeline.config.buying_groups import BuyingGroupsConfig
from blueprint_pipeline.core.errors import ConfigError
from blueprint_pipeline.resources import load_config


@pytest.mark.parametrize(
    ("title", "normal", "level"),
    [
        ("V.P. Eng", "vice president engineering", "vp"),
        ("VP of Engineering", "vice president engineering", "vp"),
        ("Vice President, Engineering", "vice president engineering", "vp"),
        ("C.E.O.", "chief executive officer", "c_level"),
        ("Dir. IT", "director information technology", "director"),
        ("Head of Data & Analytics", "head data analytics", "head"),
        ("Sr. Data Engineer", "senior data engineer", "senior"),
        ("Mgr, Procurement", "manager procurement", "manager"),
        ("Geschäftsführer", "managing director", "c_level"),
        ("Directeur Général", "chief executive officer", "c_level"),
        ("Responsable Informatique", "head information technology", "head"),
        ("Jefe de Compras", "head procurement", "head"),
        ("SVP Sales", "senior vice president sales", "vp"),
        ("President", "president", "c_level"),
        ("Vice-President", "vice president", "vp"),
        ("Consultant", "consultant", "individual"),
        ("Sr Software Eng.", "senior software engineer", "senior"),  # Eng after a job is the engineer
        ("Eng. Manager", "engineering manager", "manager"),  # ... first or after a rank, engineering
        (None, "", "individual"),
    ],
)
def test_titles(title, normal, level):
    assert normalise_title(title) == normal
    assert parse_title(title).seniority == level


def persons(*rows) -> pd.DataFrame:
    """rows: (person_id, title, department, country)"""
    return pd.DataFrame(rows, columns=["person_id", "title", "department", "country"])


CONFIG = BuyingGroupsConfig.model_validate(
    {
        "personas": {"it_boss": {"titles": ["CIO", "VP IT"]}},
        "role_templates": {
            "t": {
                "roles": [
                    {"name": "DM", "priority": 2, "required": True, "conditions": {"personas": ["it_boss"]}},
                    {"name": "Sponsor", "priority": 1, "weight": "vital", "conditions": {"seniorities": ["c_level"], "countries": ["de"]}},
                    {"name": "Ops", "priority": 3, "weight": 50, "members_required": 3, "conditions": {"departments": [" operations "]}},
                    {"name": "Nobody", "priority": 4, "required": True},
                ]
            }
        },
    }
)  # fmt: skip


def test_priority_decides_and_every_condition_must_match():
    found = assign_roles(
        persons(
            (
                "a",
                "Chief Information Officer",
                "IT",
                " DE ",
            ),  # DM (persona) and Sponsor (c_level in DE): Sponsor
            ("b", "CIO", "IT", "US"),  # DM only: the Sponsor needs DE too
            ("c", "Ops Manager", "Operations", None),  # department compares ignoring case and spaces
            ("d", None, None, None),  # nothing: no role
        ),
        CONFIG,
    )
    assert found[["person_id", "role"]].values.tolist() == [["a", "Sponsor"], ["b", "DM"], ["c", "Ops"]]
    reason = found.set_index("person_id")["matched_condition"]
    assert reason["a"] == "country DE; seniority c_level (title 'Chief Information Officer')"
    assert reason["b"] == "persona it_boss (title 'CIO')"


def test_completeness_per_solution_interest_both_figures_side_by_side():
    # Four interests on template t, one group each, the same members: DM 2 of 1 -> 1; Sponsor 0;
    # Ops 1 of 3 -> 1/3; Nobody 0 (required). Worked by hand:
    #   suites over all roles: (1 + 0 + 1/3 + 0) / 4 = 1/3; over required (DM, Nobody): (1 + 0) / 2 = 0.5;
    #   weighted: (60x1 + 100x0 + 50x1/3 + 60x0) / 270 = 76.667 / 270 = 0.283951.
    # The section says suites, all roles, complete at 0.3; a keeps it, b counts required roles,
    # c weighs (complete at 0.25), d weighs with the section's 0.3 (so is not complete).
    interest = {"name": "X", "audience": "aud", "role_template": "t"}
    config = BuyingGroupsConfig.model_validate(
        {
            **CONFIG.model_dump(),
            "solution_interests": {
                "a": interest,
                "b": {**interest, "completeness": {"roles": "required"}},
                "c": {**interest, "completeness": {"method": "weighted", "complete_at": 0.25}},
                "d": {**interest, "completeness": {"method": "weighted"}},
            },
            "completeness": {"method": "suites", "roles": "all", "complete_at": 0.3},
        }
    )
    groups = pd.DataFrame(
        {"buying_group_id": ["ga", "gb", "gc", "gd"], "solution_interest": list("abcd"), "role_template": "t"}
    )
    members = pd.DataFrame(
        {
            "buying_group_id": [g for g in groups["buying_group_id"] for _ in range(3)],
            "role": ["DM", "DM", "Ops"] * 4,
        }
    )
    out, status = completeness(config, groups, members)
    columns = [
        "suites_completeness",
        "weighted_completeness",
        "completeness_score",
        "is_complete",
        "completeness_method",
    ]
    found = [
        tuple(round(v, 6) if isinstance(v, float) else v for v in row)
        for row in out[columns].itertuples(index=False)
    ]
    assert found == [
        (0.333333, 0.283951, 0.333333, True, "suites (all roles)"),
        (0.5, 0.283951, 0.5, True, "suites (required roles)"),
        (0.333333, 0.283951, 0.283951, True, "weighted (all roles)"),
        (0.333333, 0.283951, 0.283951, False, "weighted (all roles)"),
    ]
    assert set(out["missing_required_roles"]) == {"Nobody"}
    assert status[status["buying_group_id"] == "ga"].set_index("role")["role_completeness"].round(6).to_dict() == {
        "DM": 1.0, "Sponsor": 0.0, "Ops": 0.333333, "Nobody": 0.0,
    }  # fmt: skip


def test_roles_in_list_order_take_their_priority_from_it():
    roles = [
        {"name": "Sponsor", "conditions": {"seniorities": ["c_level"]}},
        {"name": "DM", "conditions": {"personas": ["it_boss"]}},
    ]
    config = BuyingGroupsConfig.model_validate(
        {"personas": CONFIG.model_dump()["personas"], "role_templates": {"t": {"roles": roles}}}
    )
    assert [(r.name, r.priority) for r in config.role_templates["t"].roles] == [("Sponsor", 1), ("DM", 2)]
    # A CIO fits both; the first in the list wins. Reversed, the other does.
    found = assign_roles(persons(("a", "CIO", "IT", "US")), config)
    assert found["role"].tolist() == ["Sponsor"]
    reversed_config = BuyingGroupsConfig.model_validate(
        {"personas": CONFIG.model_dump()["personas"], "role_templates": {"t": {"roles": roles[::-1]}}}
    )
    assert assign_roles(persons(("a", "CIO", "IT", "US")), reversed_config)["role"].tolist() == ["DM"]


def test_some_priorities_given_and_some_not_is_refused():
    with pytest.raises(ValueError, match=r"roles \['DM'\] have no priority while others do"):
        BuyingGroupsConfig.model_validate(
            {"role_templates": {"t": {"roles": [{"name": "Sponsor", "priority": 1}, {"name": "DM"}]}}}
        )


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (
            "data_platform,A,p1,promote,Champion,sam",
            r"row 2: field action is 'promote'; expected assign or remove",
        ),
        (
            "data_platform,A,p1,assign,Boss,sam",
            r"row 2: field role is 'Boss'; expected one of \['Decision Maker'",
        ),
        (
            "crm,A,p1,remove,,sam",
            r"row 2: field solution_interest is 'crm'; expected one of \['data_platform'",
        ),
        ("data_platform,A,p1,remove,,", r"row 2: field actor is empty"),
    ],
)
def test_bad_override_lines(tmp_path, line, message):
    path = tmp_path / "buying_group_overrides.csv"
    path.write_text("solution_interest,account_id,person_id,action,role,actor\n" + line + "\n")
    with pytest.raises(ConfigError, match=message):
        read_overrides(path, load_config().config.buying_groups)


def test_custom_fields_match_any_record_ignoring_case_and_spaces():
    from blueprint_pipeline.buying_groups.roles import custom_fields_by_person

    custom = custom_fields_by_person(
        pd.DataFrame(
            {
                "person_id": ["a", "a", "b", "c"],
                "fields": [
                    '{"Persona__c": " Economic Buyer "}',
                    '{"Region": "EMEA"}',
                    '{"persona__c": "User"}',
                    "[]",
                ],
            }
        )
    )
    assert custom == {
        "a": {"persona__c": {"economic buyer"}, "region": {"emea"}},
        "b": {"persona__c": {"user"}},
    }
    config = BuyingGroupsConfig.model_validate(
        {"role_templates": {"t": {"roles": [
            {"name": "Buyer", "priority": 1, "conditions": {"custom_fields": {"Persona__c": ["economic buyer"], "region": ["EMEA", "APAC"]}}},
        ]}}}
    )  # fmt: skip
    frame = persons(("a", None, None, None), ("b", None, None, None), ("c", None, None, None))
    frame["custom"] = [custom.get(p, {}) for p in frame["person_id"]]
    found = assign_roles(frame, config)
    assert found[["person_id", "role", "matched_condition"]].values.tolist() == [
        ["a", "Buyer", "Persona__c economic buyer; region emea (title '')"]
    ]


def test_no_audience_members_make_empty_tables():
    from blueprint_pipeline.buying_groups.groups import build_groups

    config = load_config().config.buying_groups
    empty = pd.DataFrame({"audience_id": pd.Series(dtype=object), "account_id": pd.Series(dtype=object)})
    no_accounts = pd.DataFrame(
        {"account_id": pd.Series(dtype=object), "account_name": pd.Series(dtype=object)}
    )
    no_persons = pd.DataFrame({"person_id": pd.Series(dtype=object), "account_id": pd.Series(dtype=object)})
    roles = assign_roles(persons(), config)
    result = build_groups(config, empty, no_accounts, no_persons, roles, read_overrides(None, config))
    assert result.groups.empty and result.members.empty
    groups, status = completeness(config, result.groups, result.members)
    assert groups.empty and status.empty


def test_a_vice_president_is_not_the_president():
    from blueprint_pipeline.buying_groups.titles import contains_phrase

    assert not contains_phrase("vice president marketing", "president")
    assert contains_phrase("president chief executive officer", "president")
    assert contains_phrase("senior vice president sales", "vice president")


def test_same_named_accounts_get_their_ids_in_group_names():
    from blueprint_pipeline.buying_groups.groups import build_groups

    config = load_config().config.buying_groups
    audience = pd.DataFrame({"audience_id": ["target_accounts"] * 3, "account_id": ["A", "B", "C"]})
    accounts = pd.DataFrame(
        {"account_id": ["A", "B", "C"], "account_name": ["Summit Ltd", "Summit Ltd", "Peak"]}
    )
    no_persons = pd.DataFrame({"person_id": pd.Series(dtype=object), "account_id": pd.Series(dtype=object)})
    result = build_groups(
        config, audience, accounts, no_persons, assign_roles(persons(), config), read_overrides(None, config)
    )
    assert sorted(result.groups["buying_group_name"]) == [
        "Data Platform for Peak", "Data Platform for Summit Ltd (A)", "Data Platform for Summit Ltd (B)",
    ]  # fmt: skip


def test_an_empty_id_in_a_one_column_list_is_an_error(tmp_path):
    from blueprint_pipeline.audiences.membership import read_static_list

    path = tmp_path / "vip.csv"
    path.write_text('account_id\n001A\n\n""\n')
    with pytest.raises(ConfigError, match=r"vip.csv row 4: field account_id is empty"):
        read_static_list(path)


def test_precedence_manual_over_journey_over_rule(tmp_path):
    """Rules make p1 Decision Maker, p2 Champion and p3 Influencer of data_platform:A. A journey
    moved p1 to Champion and removed p2; sales (the overrides file) assign p1 as Other. So p1 is
    Other (manual wins), p2 stays out (the journey's removal holds against the rule), p3 keeps the
    rule's role, and p4, whom a journey added but whose primary account is B, is not a member."""
    from blueprint_pipeline.buying_groups.groups import build_groups

    config = load_config().config.buying_groups
    audience = pd.DataFrame({"audience_id": ["target_accounts"] * 2, "account_id": ["A", "B"]})
    accounts = pd.DataFrame({"account_id": ["A", "B"], "account_name": ["Alpha", "Beta"]})
    people = pd.DataFrame({"person_id": ["p1", "p2", "p3", "p4"], "account_id": ["A", "A", "A", "B"]})
    roles = pd.DataFrame(
        [("standard", "p1", "Decision Maker", 1, "r"), ("standard", "p2", "Champion", 3, "r"),
         ("standard", "p3", "Influencer", 5, "r")],
        columns=["role_template", "person_id", "role", "priority", "matched_condition"],
    )  # fmt: skip
    journey = pd.DataFrame(
        [("data_platform:A", "p1", "changed", "Champion", "journey j, node n"),
         ("data_platform:A", "p2", "removed", "Champion", "journey j, node m"),
         ("data_platform:A", "p4", "added", "Influencer", "journey j, node n")],
        columns=["buying_group_id", "person_id", "event", "role", "matched_condition"],
    )  # fmt: skip
    (tmp_path / "overrides.csv").write_text(
        "solution_interest,account_id,person_id,action,role,actor,note,decided_at\n"
        "data_platform,A,p1,assign,Other,sam,,2026-03-01\n"
    )
    overrides = read_overrides(tmp_path / "overrides.csv", config)
    result = build_groups(config, audience, accounts, people, roles, overrides, journey)
    members = result.members[result.members["buying_group_id"] == "data_platform:A"]
    assert sorted(zip(members["person_id"], members["role"], members["actor"], strict=True)) == [
        ("p1", "Other", "manual"),
        ("p3", "Influencer", "rule"),
    ]


@pytest.mark.parametrize(
    ("titles", "role"),
    [
        (
            [
                "IT Director",
                "Director of IT",
                "Dir. IT",
                "Leiter IT",
                "Directeur informatique",
                "Diretor de TI",
            ],
            "Decision Maker",
        ),
        (["Chief Technical Officer", "CTO", "VP, Engineering", "Hoofd ICT"], "Decision Maker"),
        (["Data Engineering Director", "Director of Data Engineering", "Head of Data Eng."], "Champion"),
        (["CMO", "Chief Marketing Officer", "SVP Sales"], "Executive Steering Committee"),
        (
            ["Procurement Manager", "Einkaufsleiter", "Responsable des achats", "Jefe de Compras", "Inkoper"],
            "Other",
        ),
        (["Marketing Manager", "Head of Sales", "Data Team Lead"], "Influencer"),
        (
            ["Sr. Data Engineer", "Softwareentwickler", "Systems Administrator", "Analista de Dados"],
            "Practitioner",
        ),
    ],
)
def test_shipped_roles_agree_across_word_orders_and_languages(titles, role):
    """One job, one role, however the title is written (the shipped template reads the
    parsed title: "IT Director" was an Influencer and "Director of IT" a Decision Maker)."""
    config = load_config().config.buying_groups
    found = assign_roles(persons(*[(t, t, None, None) for t in titles]), config)
    assert dict(zip(found["person_id"], found["role"], strict=True)) == dict.fromkeys(titles, role)


def test_a_person_without_a_parsable_title_has_no_shipped_role():
    config = load_config().config.buying_groups
    assert assign_roles(persons(("a", "Consultant", None, None), ("b", None, None, None)), config).empty
