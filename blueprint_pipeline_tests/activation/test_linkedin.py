"""LinkedIn matched-audience files on hand-made tables, DuckDB and PostgreSQL.

Build 1: audience `targets` = A1, A2, A3 -> company list of 3 records, split at 2 records per
file -> full-0001.csv (A1, A2) and full-0002.csv (A3); all 3 are adds. Members of data_platform:
p1 (A1), p2 (A2, opted out: never listed), p3 (A3) -> contact list p1, p3, emails SHA-256-hashed.
Group of A3 misses Champion -> missing-roles list A3, targeting Engineering / Director.
Build 2: A2 leaves the audience, A4 joins -> 3 records, adds A4, removes A2.
Both lists are under 300 records: each warns.
"""

from __future__ import annotations

import csv
import hashlib
import json

import dagster as dg
import pandas as pd

from blueprint_pipeline.core.run_facts import AS_OF_TAG
from blueprint_pipeline.defs.activation.linkedin import linkedin_audiences
from blueprint_pipeline.resources import ActivationResource, BlueprintConfigResource

CONFIG = """
linkedin:
  max_records_per_file: 2
  hash_emails: true
  company_lists:
    targets: {audience: target_accounts}
    missing: {missing_roles_of: data_platform}
    target_accounts: null             # the shipped lists, removed
    platform_missing_roles: null
  contact_lists:
    members: {members_of: data_platform}
    platform_members: null
  role_targeting:
    Champion: {job_functions: [Engineering], seniorities: [Director]}
"""


def _tables(audience: list[str]) -> dict[str, pd.DataFrame]:
    accounts = ["A1", "A2", "A3", "A4"]
    persons = ["p1", "p2", "p3"]
    return {
        "unified_accounts": pd.DataFrame(
            {"account_id": accounts, "account_name": [f"Acme {a}" for a in accounts], "domain": [f"{a.lower()}.com" for a in accounts],
             "industry": "Software", "billing_state": "", "billing_country": "DE"}
        ),
        "account_audience_members": pd.DataFrame({"audience_id": "target_accounts", "account_id": audience}),
        "buying_groups": pd.DataFrame(
            {"buying_group_id": [f"dp:{a}" for a in ("A1", "A2", "A3")], "account_id": ["A1", "A2", "A3"],
             "solution_interest": "data_platform", "missing_required_roles": ["", "", "Champion"]}
        ),
        "buying_group_members": pd.DataFrame(
            {"buying_group_id": ["dp:A1", "dp:A2", "dp:A3"], "person_id": persons, "solution_interest": "data_platform",
             "role": "Decision Maker"}
        ),
        "unified_persons": pd.DataFrame(
            {"person_id": persons, "email": [f"{p.upper()}@Example.com " for p in persons], "first_name": persons,
             "last_name": "X", "title": "CIO", "country": "DE", "email_opt_out": [False, True, False],
             "email_bounced": False}
        ),
        "person_account_links": pd.DataFrame({"person_id": persons, "account_id": ["A1", "A2", "A3"], "is_primary": True}),
    }  # fmt: skip


def _build(warehouse, tmp_path, audience, at):
    with warehouse.transaction() as session:
        for name, frame in _tables(audience).items():
            session.replace_table(name, frame)
    result = dg.materialize(
        [linkedin_audiences],
        resources={"warehouse": warehouse, "blueprint_config": BlueprintConfigResource(config_dir=str(tmp_path)),
                   "activation": ActivationResource(path=str(tmp_path / "out"))},
        tags={AS_OF_TAG: at},
    )  # fmt: skip
    assert result.success


def _rows(path):
    with path.open(newline="") as handle:
        return list(csv.reader(handle))


def test_lists_adds_removes_split_and_opt_outs(warehouse, tmp_path):
    (tmp_path / "activation.yaml").write_text(CONFIG)
    _build(warehouse, tmp_path, ["A1", "A2", "A3"], "2026-03-01T00:00:00")
    first = tmp_path / "out" / "linkedin" / "targets" / "20260301T000000"
    header = "companyname,companywebsite,companyemaildomain,linkedincompanypageurl,stocksymbol,industry,city,state,companycountry,zipcode"
    assert _rows(first / "full-0001.csv")[0] == header.split(",")
    assert [r[0] for r in _rows(first / "full-0001.csv")[1:]] == ["Acme A1", "Acme A2"]
    assert [r[0] for r in _rows(first / "full-0002.csv")[1:]] == ["Acme A3"]
    manifest = json.loads((first / "manifest.json").read_text())
    assert (manifest["records"], manifest["adds"], manifest["removes"]) == (3, 3, 0)
    assert manifest["warning"] == "3 records: LinkedIn needs at least 300 to match"
    assert (
        manifest["files"]["full-0001.csv"]["sha256"]
        == hashlib.sha256((first / "full-0001.csv").read_bytes()).hexdigest()
    )

    members = tmp_path / "out" / "linkedin" / "members" / "20260301T000000"
    contacts = _rows(members / "full-0001.csv")
    assert contacts[0] == [
        "email",
        "firstname",
        "lastname",
        "jobtitle",
        "employeecompany",
        "country",
        "googleaid",
    ]
    expected = [hashlib.sha256(f"{p}@example.com".encode()).hexdigest() for p in ("p1", "p3")]
    assert [r[0] for r in contacts[1:]] == expected  # p2 opted out: never listed; trimmed, lower-cased
    targeting = _rows(tmp_path / "out" / "linkedin" / "missing" / "20260301T000000" / "targeting.csv")
    assert targeting == [
        ["account_id", "company", "missing_roles", "job_functions", "seniorities"],
        ["A3", "Acme A3", "Champion", "Engineering", "Director"],
    ]

    _build(warehouse, tmp_path, ["A1", "A3", "A4"], "2026-03-02T00:00:00")
    second = tmp_path / "out" / "linkedin" / "targets" / "20260302T000000"
    assert [r[0] for r in _rows(second / "adds.csv")[1:]] == ["Acme A4"]
    assert _rows(second / "removes.csv") == [["account_id"], ["A2"]]
    assert json.loads((second / "manifest.json").read_text())["records"] == 3


def test_list_definitions_are_checked(tmp_path):
    import pytest

    from blueprint_pipeline.core.errors import ConfigError
    from blueprint_pipeline.resources import load_config

    (tmp_path / "activation.yaml").write_text("linkedin: {company_lists: {x: {audience: nobody}}}\n")
    with pytest.raises(
        ConfigError, match="key 'linkedin.company_lists.x.audience': 'nobody' is not an audience"
    ):
        load_config(tmp_path)
    (tmp_path / "activation.yaml").write_text(
        "linkedin: {contact_lists: {x: {members_of: data_platform, roles: [Boss]}}}\n"
    )
    with pytest.raises(ConfigError, match="'Boss' is not a role of template 'standard'"):
        load_config(tmp_path)
    (tmp_path / "activation.yaml").write_text(
        "linkedin: {company_lists: {x: {audience: target_accounts, missing_roles_of: data_platform}}}\n"
    )
    with pytest.raises(ConfigError, match="give exactly one of audience or missing_roles_of"):
        load_config(tmp_path)


def test_marketo_static_lists(warehouse, tmp_path):
    """Members of data_platform (p2 opted out: left out) and the persons of audience accounts
    A1, A3 (build 1); then A1 leaves the audience: p1 is removed."""
    from blueprint_pipeline.defs.activation.marketo import marketo_static_lists

    (tmp_path / "activation.yaml").write_text(
        "marketo:\n  static_lists:\n    members: {members_of: data_platform}\n    targets: {audience: target_accounts}\n"
    )

    def build(audience, at):
        with warehouse.transaction() as session:
            for name, frame in _tables(audience).items():
                session.replace_table(name, frame)
        resources = {"warehouse": warehouse, "blueprint_config": BlueprintConfigResource(config_dir=str(tmp_path)),
                     "activation": ActivationResource(path=str(tmp_path / "out"))}  # fmt: skip
        assert dg.materialize([marketo_static_lists], resources=resources, tags={AS_OF_TAG: at}).success
        return tmp_path / "out" / "marketo"

    out = build(["A1", "A3"], "2026-03-01T00:00:00")
    members = _rows(out / "members" / "20260301T000000" / "full-0001.csv")
    assert members == [
        ["email", "firstName", "lastName", "title", "company", "country"],
        ["p1@example.com", "p1", "X", "CIO", "Acme A1", "DE"],
        ["p3@example.com", "p3", "X", "CIO", "Acme A3", "DE"],
    ]
    out = build(["A3"], "2026-03-02T00:00:00")
    assert _rows(out / "targets" / "20260302T000000" / "removes.csv") == [["person_id"], ["p1"]]


def test_adds_and_removes_against_the_baseline(tmp_path):
    """write_list's delta, worked by hand: keys a, b now; the baseline handed out a and gone (and
    a NULL key a damaged state row could hold, which names nobody): b added, gone removed."""
    from blueprint_pipeline.activation.linkedin import CONTACT_COLUMNS, write_list
    from blueprint_pipeline.config.activation import LinkedIn

    frame = pd.DataFrame({"key": ["a", "b"], **{c: ["x", "y"] for c in CONTACT_COLUMNS}})
    written = write_list(
        tmp_path, "contact", "l", frame, {"a", "gone", None}, LinkedIn(), {}, "20260101T000000"
    )
    assert (written.records, written.adds, written.removes) == (2, 1, 1)
    out = tmp_path / "l" / "20260101T000000"
    assert (out / "adds.csv").read_text().splitlines()[1:] == [",".join(["y"] * len(CONTACT_COLUMNS))]
    assert (out / "removes.csv").read_text() == "person_id\ngone\n"
