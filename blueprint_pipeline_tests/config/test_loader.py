"""Config loading: defaults, overrides, clear errors naming the file and key, the config version."""

from __future__ import annotations

import pytest
import yaml

from blueprint_pipeline.core.errors import ConfigError
from blueprint_pipeline.core.paths import DEFAULT_CONFIG_DIR
from blueprint_pipeline.resources import load_config


def test_defaults_load():
    loaded = load_config()
    assert loaded.config.sources.file_names["salesforce"]["accountData.csv"] == "Account"
    assert len(loaded.version) == 12


def test_override_merges_over_the_shipped_section_and_changes_the_version(tmp_path):
    (tmp_path / "sources.yaml").write_text(
        "file_names:\n  salesforce:\n    accts.csv: Account\n"
        "header_aliases:\n  linkedin:\n    lead_gen_responses:\n      Email address: [Work email]\n"
    )
    loaded = load_config(tmp_path)
    assert loaded.config.sources.file_names["salesforce"] == {
        "accountData.csv": "Account",
        "opportunityData.csv": "Opportunity",
        "accts.csv": "Account",
    }
    assert loaded.config.sources.aliases_for("linkedin", "lead_gen_responses") == {
        "Email address": ["Work email"]
    }
    assert loaded.config.sources.aliases_for("marketo", "leads") == {
        "smsConsent": ["smsOptIn"]
    }  # shipped, kept
    assert loaded.version != load_config().version
    assert loaded.sources["sources"] == str(tmp_path / "sources.yaml")


def test_same_meaning_same_version(tmp_path):
    # The shipped defaults reformatted, comments dropped, keys reordered: the same config.
    shipped = yaml.safe_load((DEFAULT_CONFIG_DIR / "sources.yaml").read_text())
    reordered = dict(reversed(list(shipped.items())))
    (tmp_path / "sources.yaml").write_text("# mine\n" + yaml.safe_dump(reordered, default_flow_style=True))
    assert load_config(tmp_path).version == load_config().version


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("file_names: [1, 2]\n", r"sources.yaml: key 'file_names': Input should be a valid dictionary"),
        ("filenames: {}\n", r"sources.yaml: key 'filenames': unknown key \(a typo\?"),
        ("file_names: {salesforce: {a.csv: [x]}}\n", r"key 'file_names.salesforce.a.csv'"),
        ("file_names: {salesforce: [\n", r"sources.yaml line 2: not valid YAML"),
    ],
)
def test_bad_file_names_file_and_key(tmp_path, text, message):
    (tmp_path / "sources.yaml").write_text(text)
    with pytest.raises(ConfigError, match=message):
        load_config(tmp_path)


def test_unknown_file_and_missing_dir(tmp_path):
    (tmp_path / "scorring.yaml").write_text("{}")
    with pytest.raises(
        ConfigError, match=r"scorring.yaml: unknown config file; expected one of sources.yaml"
    ):
        load_config(tmp_path)
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "nope")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("file_names: {hubspot: {x.csv: Y}}\n", "key 'file_names.hubspot': unknown system"),
        ("file_names: {salesforce: {accts.csv: Acount}}\n", "unknown salesforce object 'Acount'"),
        (
            "header_aliases: {marketo: {leads: {smsConsnet: [x]}}}\n",
            "key 'header_aliases.marketo.leads.smsConsnet': unknown field",
        ),
    ],
)
def test_sources_config_is_checked_against_the_contract(tmp_path, text, message):
    from blueprint_pipeline.core.paths import SQL_PROJECT_DIR
    from blueprint_pipeline.ingestion.landing import check_sources_config
    from blueprint_pipeline.sql_models.project import load_project

    (tmp_path / "sources.yaml").write_text(text)
    loaded = load_config(tmp_path)
    objects = list(load_project(SQL_PROJECT_DIR).sources.values())
    with pytest.raises(ConfigError, match=message):
        check_sources_config(loaded.config.sources, objects, loaded.sources["sources"])


def test_a_file_is_not_a_config_dir(tmp_path):
    (tmp_path / "sources.yaml").write_text("{}")
    with pytest.raises(ConfigError, match="expected a config directory"):
        load_config(tmp_path / "sources.yaml")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "account_links:\n  threshold: 1.5\n",
            r"identity.yaml: key 'account_links.threshold': .*less than or equal to 1",
        ),
        (
            "person_merge:\n  source_precedence: [salesforce_contact, hubspot]\n",
            r"identity.yaml: key 'person_merge.source_precedence.1': Input should be 'salesforce_contact'",
        ),
        (
            "person_merge:\n  field_precedence:\n    nickname: [marketo_lead]\n",
            r"key 'person_merge.field_precedence.nickname': Input should be 'email', .*; got 'nickname'",
        ),
        ("account_links:\n  review_floor: 0.9\n", r"review_floor 0.9 is above threshold 0.85"),
        (
            "person_merge:\n  source_precedence: [marketo_lead, marketo_lead]\n",
            r"lists \['marketo_lead'\] more than once",
        ),
        ("account_merge:\n  survivor: biggest\n", r"key 'account_merge.survivor': Input should be 'oldest'"),
    ],
)
def test_bad_identity_config_names_file_and_key(tmp_path, text, message):
    (tmp_path / "identity.yaml").write_text(text)
    with pytest.raises(ConfigError, match=message):
        load_config(tmp_path)


def test_identity_overrides_merge_and_order_every_source(tmp_path):
    (tmp_path / "identity.yaml").write_text(
        "person_merge:\n  field_precedence:\n    country: [marketo_lead]\n"
        "account_links:\n  method_confidence:\n    company_name: 0.8\n"
    )
    identity = load_config(tmp_path).config.identity
    # The shipped title order stays; country gets Marketo first, then the default order.
    assert identity.person_merge.order_for("title")[0] == "linkedin_response"
    assert identity.person_merge.order_for("country") == [
        "marketo_lead", "salesforce_contact", "salesforce_lead", "linkedin_response",
    ]  # fmt: skip
    assert identity.account_links.method_confidence["company_name"] == 0.8
    assert identity.account_links.method_confidence["crm_account_id"] == 1.0
