"""Data-usage labels and policies: the lineage check, worked by hand.

Lists (activation.yaml below): `targets` (company list of audience target_accounts, whose filter
tests employees, industry and account_type), `missing` (company list: accounts whose data_platform
group misses a role) and `members` (contact list of data_platform's members; it exports email,
names, title, company and country). The shipped role template tests titles only (personas and
seniorities); the shipped labels put I1 on emails and names.

1. `marketo.leads.title` labelled C2 (no third-party export); LinkedIn performs
   export_to_third_party, so policy restrict_third_party_export breaks where the title reaches:
   - targets: nowhere (no title exported, the audience tests account fields) -> allowed;
   - missing: through the group's role conditions -> 1 violation;
   - members: through the exported column jobtitle and through the role conditions -> 2.
2. `salesforce.Account.Industry` labelled C3 (never beside directly identifiable data): only an
   export carrying an I1 field performs combine_with_pii, so only `members` (emails) breaks
   restrict_combining_with_pii, through the audience filter on industry -> 1 violation; `targets`
   exports the industry but no I1 field -> allowed.
"""

from __future__ import annotations

import dagster as dg
import pytest

from blueprint_pipeline.core.errors import ConfigError
from blueprint_pipeline.core.paths import SQL_PROJECT_DIR
from blueprint_pipeline.core.run_facts import AS_OF_TAG
from blueprint_pipeline.defs.activation.linkedin import linkedin_audiences
from blueprint_pipeline.governance.lineage import check_labels, violations
from blueprint_pipeline.resources import ActivationResource, BlueprintConfigResource, load_config
from blueprint_pipeline.sql_models.project import load_project
from blueprint_pipeline_tests.activation.test_linkedin import CONFIG, _tables

TITLE_C2 = "field_labels:\n  marketo.leads.title: [C2]\n"
INDUSTRY_C3 = "field_labels:\n  salesforce.Account.Industry: [C3]\n"


def _config(tmp_path, governance: str):
    (tmp_path / "activation.yaml").write_text(CONFIG)
    (tmp_path / "governance.yaml").write_text(governance)
    return load_config(tmp_path).config


def _found(config, destination="linkedin"):
    return {
        name: sorted((v.policy, v.label, v.field, " > ".join(v.path)) for v in found)
        for name, found in violations(config, destination).items()
    }


def test_a_label_reaching_a_list_through_its_columns_or_its_definition(tmp_path):
    found = _found(_config(tmp_path, TITLE_C2))
    policy, label, field = "restrict_third_party_export", "C2", "marketo.leads.title"
    via_title = "marketo.leads.title > unified_persons.title"
    assert found == {
        "targets": [],
        "missing": [
            (policy, label, field, f"{via_title} > buying group data_platform > missing roles > linkedin list missing")
        ],
        "members": [
            (policy, label, field, f"{via_title} > buying group data_platform > linkedin list members"),
            (policy, label, field, f"{via_title} > column jobtitle > linkedin list members"),
        ],
    }  # fmt: skip
    # Marketo (data_export, email_targeting) and the CRM (data_export) may carry C2 data.
    assert _found(_config(tmp_path, TITLE_C2), "crm") == {"write-back": []}


def test_combining_with_identifiable_data_is_derived_from_the_export(tmp_path):
    found = _found(_config(tmp_path, INDUSTRY_C3))
    assert found == {
        "targets": [],
        "missing": [],
        "members": [
            ("restrict_combining_with_pii", "C3", "salesforce.Account.Industry",
             "salesforce.Account.Industry > unified_accounts.industry > audience target_accounts "
             "> buying group data_platform > linkedin list members"),
        ],
    }  # fmt: skip


def test_a_dataset_label_reaches_every_field_and_all_of_policies(tmp_path):
    """`match: all`: C9 (every Account field, from the dataset) and S1 (on billing_country, which
    only the company lists export) together break it; C9 alone does not."""
    policy = (
        "policies:\n  no_modelled_geo:\n    marketing_action: data_export\n    labels: [C9, S1]\n"
        "    match: all\n"
    )
    alone = _found(_config(tmp_path, "dataset_labels:\n  salesforce.Account: [C9]\n" + policy))
    assert alone == {"targets": [], "missing": [], "members": []}
    both = _found(
        _config(
            tmp_path,
            "dataset_labels:\n  salesforce.Account: [C9]\nfield_labels:\n  unified_accounts.billing_country: [S1]\n"
            + policy,
        )
    )
    # targets: C9 on its 6 exported columns (companywebsite and companyemaildomain both read the
    # domain) + the 3 fields its audience tests, and S1 on the country.
    assert [(p, label) for p, label, _, _ in both["targets"]].count(("no_modelled_geo", "S1")) == 1
    assert sum(label == "C9" for _, label, _, _ in both["targets"]) == 9
    assert ("no_modelled_geo", "C9", "salesforce.Account.BillingCountry",
            "dataset salesforce.Account > salesforce.Account.BillingCountry > unified_accounts.billing_country "
            "> column companycountry > linkedin list targets") in both["targets"]  # fmt: skip
    assert both["members"] == []  # exports no Account field but the name: no S1


def test_labels_on_unknown_names_are_config_errors(tmp_path):
    objects = list(load_project(SQL_PROJECT_DIR).sources.values())
    cases = [
        ("dataset_labels:\n  salesforce.Contacts: [C2]\n", "key 'dataset_labels.salesforce.Contacts': unknown dataset"),
        ("field_labels:\n  marketo.leads.Title: [C2]\n", "key 'field_labels.marketo.leads.Title': unknown field"),
    ]  # fmt: skip
    for text, message in cases:
        config = _config(tmp_path, text)
        with pytest.raises(ConfigError, match=message):
            check_labels(config, objects, "governance.yaml")
    for text, message in [
        ("field_labels:\n  marketo.leads.title: [C13]\n", "field_labels.marketo.leads.title: unknown labels"),
        ("destinations:\n  linkedin: [telepathy]\n", "destinations.linkedin: unknown marketing actions"),
        (
            "policies:\n  p: {marketing_action: email_targeting, labels: [C2], match: some}\n",
            "policies.p.match",
        ),
        ("custom_labels:\n  C2: mine\n", "are core labels"),
    ]:
        (tmp_path / "governance.yaml").write_text(text)
        with pytest.raises(ConfigError, match=message):
            load_config(tmp_path)


def test_a_blocked_list_writes_nothing(warehouse, tmp_path):
    """Config 1 on real tables: `targets` is written; `missing` and `members` are blocked (no
    folder, no remembered members); the check fails naming them. Without the label, the next build
    writes both, every member an add."""
    _config(tmp_path, TITLE_C2)
    out = tmp_path / "out"

    def build(at):
        with warehouse.transaction() as session:
            for name, frame in _tables(["A1", "A2", "A3"]).items():
                session.replace_table(name, frame)
        return dg.materialize(
            [linkedin_audiences],
            resources={"warehouse": warehouse, "blueprint_config": BlueprintConfigResource(config_dir=str(tmp_path)),
                       "activation": ActivationResource(path=str(out))},
            tags={AS_OF_TAG: at},
            raise_on_error=False,
        )  # fmt: skip

    result = build("2026-03-01T00:00:00")
    assert not result.success  # a failed blocking check fails the step: the run says so
    checks = {e.check_name: e for e in result.get_asset_check_evaluations()}
    assert not checks["no_forbidden_field"].passed
    metadata = checks["no_forbidden_field"].metadata
    assert metadata["blocked"].value == "members, missing"
    assert (
        "label C2 on marketo.leads.title breaks policy restrict_third_party_export"
        in metadata["violations"].value
    )
    assert sorted(p.name for p in (out / "linkedin").iterdir()) == ["targets"]
    with warehouse.session() as session:
        assert session.fetchall("select distinct list_name from activation_members") == [("targets",)]

    (tmp_path / "governance.yaml").write_text("")
    result = build("2026-03-02T00:00:00")
    assert result.success
    assert {e.check_name: e.passed for e in result.get_asset_check_evaluations()}["no_forbidden_field"]
    members = out / "linkedin" / "members" / "20260302T000000" / "manifest.json"
    assert '"adds": 2' in members.read_text()  # p1 and p3 (p2 opted out)


def test_validate_config_says_which_lists_a_policy_would_block(tmp_path, capsys):
    from blueprint_pipeline.runtime.cli import main

    _config(tmp_path, TITLE_C2)
    assert main(["validate-config", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert (
        "governance: 2 list(s) a policy would block: linkedin members (restrict_third_party_export: " in out
    )
    assert "linkedin missing (restrict_third_party_export: label C2 on marketo.leads.title)" in out
