"""A user's config removes shipped entries (`name: null`) and replaces sections (`replace:`); what
still refers to a removed name is an error naming the referring file and key and the remover."""

from __future__ import annotations

import re

import pytest

from blueprint_pipeline.core.errors import ConfigError
from blueprint_pipeline.core.paths import DEFAULT_CONFIG_DIR
from blueprint_pipeline.resources import load_config

SECURITY_GONE = """
personas: {security_leader: null}
role_templates: {security: null}
solution_interests: {security_add_on: null}
"""


def write(directory, **files) -> None:
    for name, text in files.items():
        (directory / f"{name}.yaml").write_text(text)


def test_null_removes_shipped_entries_and_keeps_the_rest(tmp_path):
    write(
        tmp_path,
        buying_groups=SECURITY_GONE,
        audiences="audiences: {security_prospects: null}\n",
        alerts="rules: {engagement_rising: null}\n",
    )
    config = load_config(tmp_path).config
    assert sorted(config.buying_groups.solution_interests) == ["data_platform"]
    assert sorted(config.buying_groups.role_templates) == ["standard"]
    assert "security_leader" not in config.buying_groups.personas
    assert "executive" in config.buying_groups.personas  # the rest is merged as before
    assert sorted(config.audiences.audiences) == ["target_accounts"]
    assert sorted(config.alerts.rules) == ["group_qualified", "sales_ready"]
    assert load_config(tmp_path).version != load_config().version


def test_null_for_a_setting_is_none_where_the_setting_has_one(tmp_path):
    """`null` on a setting is its value "none", not its built-in default: a limit of null is no
    limit (the built-in is 1 a day); a setting without a "none" says so."""
    write(tmp_path, journeys="limits: {email_per_person_per_day: null}\n")
    limits = load_config(tmp_path).config.journeys.limits
    assert (limits.email_per_person_per_day, limits.email_per_person_per_7_days) == (None, 3)
    write(tmp_path, buying_groups="completeness: {complete_at: null, method: weighted}\n")
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path)
    assert str(caught.value) == (
        f"{tmp_path / 'buying_groups.yaml'}: key 'completeness.complete_at': null is not a value this "
        "setting takes; leave the key out for its built-in default"
    )


def test_a_journey_naming_a_removed_interest_is_refused_naming_both_files(tmp_path):
    write(
        tmp_path,
        buying_groups=SECURITY_GONE,
        journeys=(
            "journeys:\n  sec:\n    name: Sec\n    solution_interest: security_add_on\n    start: done\n"
            "    entry: {audience: target_accounts}\n"
            "    nodes: {done: {type: exit}}\n"
        ),
    )
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path)
    assert str(caught.value) == (
        f"{tmp_path / 'journeys.yaml'}: key 'journeys.sec.solution_interest': 'security_add_on' is not a "
        "solution interest (['data_platform']); 'security_add_on' was removed by "
        f"{tmp_path / 'buying_groups.yaml'} (solution_interests.security_add_on: null)"
    )


def test_a_shipped_entry_naming_a_removed_interest_says_it_is_shipped(tmp_path):
    write(tmp_path, buying_groups="solution_interests: {data_platform: null}\n")
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path)
    assert str(caught.value).startswith(
        f"{DEFAULT_CONFIG_DIR / 'activation.yaml'}: key "
        "'linkedin.company_lists.platform_missing_roles.missing_roles_of': 'data_platform' is not a "
        "solution interest"
    )
    assert str(caught.value).endswith(
        f"'data_platform' was removed by {tmp_path / 'buying_groups.yaml'} "
        "(solution_interests.data_platform: null); what refers to it is shipped: drop it too "
        "(`name: null` in your own activation.yaml)"
    )
    # Dropping the shipped lists that use it too makes the config consistent.
    write(
        tmp_path,
        activation="linkedin:\n  company_lists: {platform_missing_roles: null}\n"
        "  contact_lists: {platform_members: null}\n",
    )
    assert sorted(load_config(tmp_path).config.buying_groups.solution_interests) == ["security_add_on"]


@pytest.mark.parametrize(
    ("files", "message"),
    [
        (  # a template naming a removed persona
            {"buying_groups": "personas: {security_leader: null}\n"},
            "buying_groups.yaml: role_templates.security: role 'Decision Maker' names unknown personas "
            "['security_leader']; 'security_leader' was removed by {d}/buying_groups.yaml "
            "(personas.security_leader: null)",
        ),
        (  # an interest naming a removed template
            {"buying_groups": "role_templates: {security: null}\n"},
            "buying_groups.yaml: solution_interests.security_add_on: role_template 'security' is not one "
            "of ['standard']; 'security' was removed by {d}/buying_groups.yaml (role_templates.security: null)",
        ),
        (  # an interest naming a removed audience
            {"audiences": "audiences: {security_prospects: null}\n"},
            "buying_groups.yaml: key 'solution_interests.security_add_on.audience': 'security_prospects' "
            "is not an audience in audiences.yaml (['target_accounts']); 'security_prospects' was removed "
            "by {d}/audiences.yaml (audiences.security_prospects: null)",
        ),
        (  # an alert rule naming a removed interest
            {
                "buying_groups": SECURITY_GONE,
                "alerts": "rules: {sec: {type: milestone, milestone: qualified, "
                "solution_interests: [security_add_on]}}\n",
            },
            "alerts.yaml: key 'rules.sec.solution_interests': 'security_add_on' is not a solution interest "
            "(['data_platform']); 'security_add_on' was removed by {d}/buying_groups.yaml "
            "(solution_interests.security_add_on: null)",
        ),
    ],
)
def test_what_refers_to_a_removed_name_is_refused(tmp_path, files, message):
    write(tmp_path, **files)
    with pytest.raises(ConfigError, match=re.escape(message.format(d=tmp_path))):
        load_config(tmp_path)


MY_SECTION = """
replace: true
personas:
  cio: {titles: [chief information officer]}
role_templates:
  small:
    roles:
      - {name: Decision Maker, conditions: {personas: [cio]}}
      - {name: Champion, conditions: {seniorities: [director]}}
solution_interests:
  data_platform: {name: Data Platform, audience: target_accounts, role_template: small}
"""


def test_replace_true_makes_the_file_the_whole_section(tmp_path):
    write(tmp_path, buying_groups=MY_SECTION)
    config = load_config(tmp_path).config.buying_groups
    assert list(config.personas) == ["cio"]
    assert list(config.role_templates) == ["small"]
    assert list(config.solution_interests) == ["data_platform"]
    assert config.completeness.complete_at == 0.8  # a setting it leaves out: the built-in default
    # Roles in list order: their priority is their place.
    assert [(r.name, r.priority) for r in config.role_templates["small"].roles] == [
        ("Decision Maker", 1),
        ("Champion", 2),
    ]


def test_replace_a_list_of_keys_replaces_those_and_merges_the_rest(tmp_path):
    write(
        tmp_path,
        buying_groups=MY_SECTION.replace("replace: true", "replace: [solution_interests]").replace(
            "personas:\n  cio", "personas:\n  cio_too"
        ),
    )
    with pytest.raises(ConfigError, match=r"names unknown personas \['cio'\]"):
        load_config(tmp_path)
    write(tmp_path, buying_groups=MY_SECTION.replace("replace: true", "replace: [solution_interests]"))
    config = load_config(tmp_path).config.buying_groups
    assert list(config.solution_interests) == ["data_platform"]  # replaced
    assert {"cio", "executive", "security_leader"} <= set(config.personas)  # merged
    assert sorted(config.role_templates) == ["security", "small", "standard"]


def test_a_replacement_that_drops_a_referenced_name_says_so(tmp_path):
    one = "{filter: {field: employees, op: gte, value: 1}}"
    write(tmp_path, audiences=f"replace: true\naudiences:\n  target_accounts: {one}\n  mine: {one}\n")
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path)
    assert (
        "'security_prospects' is not an audience in audiences.yaml (['mine', 'target_accounts']); "
        f"'security_prospects' was removed by {tmp_path / 'audiences.yaml'} "
        "(its `replace`, without audiences.security_prospects)"
    ) in str(caught.value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("replace: all\npersonas: {}\n", r"expected true .* or a list of key paths"),
        ("replace: [personas]\n", r"'personas' is not a mapping this file gives"),
        (
            "replace: [personas.cio.titles]\npersonas: {cio: {titles: [cio]}}\n",
            r"'personas.cio.titles' is not a mapping",
        ),
    ],
)
def test_a_bad_replace_names_file_and_key(tmp_path, text, message):
    write(tmp_path, buying_groups=text)
    with pytest.raises(ConfigError, match=rf"buying_groups.yaml: key 'replace': {message}"):
        load_config(tmp_path)


@pytest.mark.parametrize(
    ("section", "text", "expected"),
    [
        (
            "buying_groups",
            "solution_interests: {securty_add_on: null}\n",
            "key 'solution_interests.securty_add_on': null removes an entry, and there is no "
            "'securty_add_on' to remove (there are ['data_platform', 'security_add_on']): a misspelt name?",
        ),
        (
            "alerts",
            "rules: {group_qualifed: null}\n",
            "key 'rules.group_qualifed': null removes an entry, and there is no 'group_qualifed' to remove "
            "(there are ['engagement_rising', 'group_qualified', 'sales_ready']): a misspelt name?",
        ),
        (
            "journeys",
            "limits: null\n",  # a block of settings has no "none": not silently the shipped limits
            "key 'limits': null is not a value this setting takes; leave the key out for its built-in default",
        ),
    ],
)
def test_a_null_that_removes_nothing_is_refused(tmp_path, section, text, expected):
    write(tmp_path, **{section: text})
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path)
    assert str(caught.value) == f"{tmp_path / f'{section}.yaml'}: {expected}"


def test_a_copy_of_every_shipped_file_loads_as_the_shipped_config(tmp_path):
    """The shipped files hold nulls (a retention of null: kept for ever) in entries nothing set
    before them: a copy of them must load, and mean what the shipped defaults mean."""
    from blueprint_pipeline.core.paths import DEFAULT_CONFIG_DIR

    for path in DEFAULT_CONFIG_DIR.glob("*.yaml"):
        (tmp_path / path.name).write_text(path.read_text())
    assert load_config(tmp_path).version == load_config(None).version
