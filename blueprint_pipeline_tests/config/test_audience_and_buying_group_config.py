"""Config sections `audiences` and `buying_groups`: the shipped defaults load, and each mistake a
user makes is one error naming the file, the key path and what was expected."""

from __future__ import annotations

import pytest

from blueprint_pipeline.config.audiences import AllOf, AnyOf, EngagementFilter, FieldFilter, NotOf
from blueprint_pipeline.core.errors import ConfigError
from blueprint_pipeline.resources import load_config


def test_shipped_defaults():
    config = load_config().config
    target = config.audiences.audiences["target_accounts"].filter
    assert isinstance(target, AnyOf)
    assert isinstance(target.any[0], AllOf) and isinstance(target.any[1], EngagementFilter)
    template = config.buying_groups.role_templates["standard"]
    assert [r.name for r in template.roles] == [
        "Decision Maker", "Executive Steering Committee", "Champion", "Other", "Influencer", "Practitioner",
    ]  # fmt: skip
    assert [r.weight_value for r in template.roles] == [100, 80, 80, 20, 60, 40]
    assert config.buying_groups.solution_interests["data_platform"].audience == "target_accounts"


def test_a_nested_filter_with_not_parses(tmp_path):
    (tmp_path / "audiences.yaml").write_text(
        "audiences:\n  x:\n    filter:\n      not:\n        any:\n"
        "          - {field: billing_country, op: in, value: [US, CA]}\n"
        "          - {field: employees, op: between, value: [10, 50]}\n"
    )
    x = load_config(tmp_path).config.audiences.audiences["x"].filter
    assert isinstance(x, NotOf) and isinstance(x.not_, AnyOf)
    assert x.not_.any[1] == FieldFilter(field="employees", op="between", value=[10, 50])


@pytest.mark.parametrize(
    ("file", "text", "message"),
    [
        (
            "audiences.yaml",
            "audiences:\n  x:\n    filter: {any: [{all: [{field: industry, op: eq, value: [1]}]}]}\n",
            r"audiences.yaml: key 'audiences.x.filter.any.0.all.0.field': op eq takes one value",
        ),
        (
            # a column name a config file could use to inject SQL is no field at all
            "audiences.yaml",
            'audiences:\n  x:\n    filter: {field: "industry; drop table accounts", op: eq, value: a}\n',
            r"key 'audiences.x.filter.field': Input should be 'account_id', ",
        ),
        (
            "audiences.yaml",
            "audiences:\n  x:\n    filter: {field: employees, op: gte, value: lots}\n",
            r"field employees is a number; got 'lots'",
        ),
        (
            "audiences.yaml",
            "audiences:\n  x:\n    filter: {engagement: {activity_types: [], within_days: 30}}\n",
            r"key 'audiences.x.filter.engagement.activity_types': List should have at least 1 item",
        ),
        (
            "audiences.yaml",
            "audiences:\n  x: {description: nothing}\n",
            r"key 'audiences.x': give exactly one of filter or static_list",
        ),
        ("audiences.yaml", "audiences:\n  Top Accounts: {static_list: a.csv}\n", r"not snake_case names"),
        (
            "buying_groups.yaml",
            "role_templates:\n  big:\n    roles:\n"
            + "".join(f"      - {{name: r{i}, priority: {i}}}\n" for i in range(1, 22)),
            r"buying_groups.yaml: key 'role_templates.big.roles': a role template has at most 20 roles "
            r"\(the suites' limit\); got 21",
        ),
        (
            "buying_groups.yaml",
            "role_templates:\n  t:\n    roles:\n      - {name: A, priority: 1, weight: huge}\n",
            r"key 'role_templates.t.roles.0.weight",
        ),
        (
            "buying_groups.yaml",
            "role_templates:\n  t:\n    roles:\n      - {name: A, priority: 1}\n      - {name: B, priority: 1}\n",
            r"priorities \[1\] appear more than once",
        ),
        (
            "buying_groups.yaml",
            "role_templates:\n  t:\n    roles:\n      - {name: A, priority: 1, conditions: {personas: [cfo]}}\n",
            r"role 'A' names unknown personas \['cfo'\]",
        ),
        (
            "buying_groups.yaml",
            "solution_interests:\n  crm: {name: CRM, audience: target_accounts, role_template: nope}\n",
            r"solution_interests.crm: role_template 'nope' is not one of \['security', 'standard'\]",
        ),
        (
            "buying_groups.yaml",
            "solution_interests:\n  crm: {name: CRM, audience: everyone, role_template: standard}\n",
            r"buying_groups.yaml: key 'solution_interests.crm.audience': 'everyone' is not an audience",
        ),
        (
            "buying_groups.yaml",
            "completeness: {method: average}\n",
            r"key 'completeness.method': Input should be 'suites' or 'weighted'",
        ),
    ],
)
def test_mistakes_name_file_and_key(tmp_path, file, text, message):
    (tmp_path / file).write_text(text)
    with pytest.raises(ConfigError, match=message):
        load_config(tmp_path)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("explainable: {points: {Form Fill: 10}}\n", r"key 'explainable.points': kinds \['Form Fill'\] are not snake_case"),
        ("suite_compatible: {weights: {form_fill: -5}}\n", r"key 'suite_compatible.weights': weights of \['form_fill'\] are negative"),
        ("explainable: {points: {journey_adjustment: 5}}\n", r"kind 'journey_adjustment' is the points journeys add"),
        ("activity_kinds: {marketo_activity_types: {Fill Out Form: journey_adjustment}}\n", r"key 'activity_kinds.marketo_activity_types': .*'journey_adjustment' is the points journeys add"),
        ("activity_kinds: {linkedin_form_response: journey_adjustment}\n", r"'journey_adjustment' is the points journeys add"),
        ("explainable: {decay: {window_days: 30}}\n", r"give exactly one of half_life_days or window_days \(set the other to null\)"),
        ("explainable: {decay: {half_life_days: 0.0001}}\n", r"key 'explainable.decay.half_life_days': .*greater than or equal to 0.0416"),
        # One hour over a year's lookback: 8,760 halvings, an underflow PostgreSQL raises on.
        ("explainable: {decay: {half_life_days: 0.0416667}}\n", r"halves points 8,760 times over the 365-day lookback; at most 1000 .*at least 0.365"),
    ],
)  # fmt: skip
def test_scoring_mistakes_name_file_and_key(tmp_path, text, message):
    (tmp_path / "scoring.yaml").write_text(text)
    with pytest.raises(ConfigError, match=message):
        load_config(tmp_path)
