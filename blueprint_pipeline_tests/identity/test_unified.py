"""Unified persons, unified accounts and person-to-account links on hand-made data,
on DuckDB and PostgreSQL. The worked answer is in docs/identity.md; in short:

Accounts (fixtures/identity_unified/salesforce/Account.csv):
  AC1 "Acme Corp" www.acme.com (2020) and AC2 "ACME, Inc." acme.com/about (2022): one domain, no
    hierarchy -> AC2 merges into AC1 (the older); AC1 has no industry, so it takes AC2's.
  GL1 Globex globex.com and GL2 Globex EMEA globex.com/emea, child of GL1: one hierarchy -> kept.
  GM1 "Google Mail (junk)" www.gmail.com: a personal domain, so no domain at all.
  DL1 deleted, MasterRecordId AC2 -> alias of AC2's survivor, AC1 (crm_merge).
Persons:
  Ann: CRM contact (AccountId AC2, merged), converted lead, Marketo 100 (unsubscribed, SMS yes),
    LinkedIn urn:1 ("Annie", title "Chief Marketing Officer"). First name from the contact (source
    order), title from LinkedIn (title's own order), country from the lead (the only one, " usa "
    -> United States by the seed country_names), email
    opt-out true (Marketo), SMS opt-in true. Link AC1 by crm_account_id (1.0).
  Dee: lead DD1 + Marketo 300 (SMS yes, title Analyst) + 301 (same email, SMS no, Senior Analyst,
    the same updatedAt): SMS opt-in false (a no anywhere); title tie -> smallest key, 300: Analyst.
    X Corp matches no account: not linked.
  Carol: Marketo 400 (Engineer, Jan) and 402 (Lead Engineer, Mar; email in other case): one
    person, title "Lead Engineer" (recency). Linked by email domain only: globex.com is GL1's and
    GL2's domain -> GL1, the top of the hierarchy (0.9).
  Zed: zed@emea.globex.com, under globex.com -> GL1 (0.9).
  Bob: bob@gmail.com (personal: never a link, and GM1 has no domain) but company "Beta Labs" =
    "Beta Labs Inc" -> BT1 by company_name (0.9).
  Frank: company "Initec" ~ "Initech" (token_sort_ratio 92.3) -> 0.9 x 0.923 = 0.831 < 0.85:
    review; approved in the decisions file -> linked, decided_by recorded.
  Eve: eve@acme.co.uk ~ acme.com (same name, other suffix) -> 0.7: review; rejected -> gone.
"""

from __future__ import annotations

import shutil

import pytest

from blueprint_pipeline.identity.stable_ids import new_person_id
from blueprint_pipeline_tests.conftest import FIXTURES, copy_of, shared_warehouse
from blueprint_pipeline_tests.ingestion.test_two_drops import build, rows

AC1, AC2, GL1, GL2 = (f"001000000000{x}AAA" for x in ("AC1", "AC2", "GL1", "GL2"))
BT1, IN1, GM1, DL1 = (f"001000000000{x}AAA" for x in ("BT1", "IN1", "GM1", "DL1"))


def pid(smallest_source_key: str) -> str:
    return new_person_id(smallest_source_key, set())


ANN = pid("003000000000AN1AAA@prod.Salesforce")
DEE = pid("00Q000000000DD1AAA@prod.Salesforce")
CAROL = pid("400@prod.Marketo")
ZED = pid("410@prod.Marketo")
EVE = pid("500@prod.Marketo")
BOB = pid("urn:2@prod.LinkedIn")
FRANK = pid("urn:4@prod.LinkedIn")


@pytest.fixture(scope="module", params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def unified(request, tmp_path_factory):
    """The fixture built once per engine, for the tests that read it (and a copy for one that
    builds on it)."""
    folder = tmp_path_factory.mktemp("unified")
    landing = shutil.copytree(FIXTURES / "identity_unified", folder / "landing")
    with shared_warehouse(request.param, folder) as warehouse:
        with pytest.MonkeyPatch.context() as monkeypatch:  # the build's settings, for the build only
            assert build(landing, warehouse, monkeypatch).success
        yield warehouse


def test_unified_accounts_merge_duplicates_and_keep_hierarchies(unified):
    warehouse = unified
    assert rows(
        warehouse,
        "select account_id, account_name, domain, industry, employees, parent_account_id, "
        "ultimate_parent_id, hierarchy_level from unified_accounts order by account_id",
    ) == [
        (AC1, "Acme Corp", "acme.com", "Manufacturing", 500, None, AC1, 0),
        (BT1, "Beta Labs Inc", "betalabs.io", "Software", 50, None, BT1, 0),
        (GL1, "Globex", "globex.com", "Energy", 10000, None, GL1, 0),
        (GL2, "Globex EMEA", "globex.com", "Energy", 2000, GL1, GL1, 1),
        (GM1, "Google Mail (junk)", None, None, None, None, GM1, 0),
        (IN1, "Initech", "initech.com", "Software", 300, None, IN1, 0),
    ]
    assert rows(warehouse, "select * from account_aliases order by alias_account_id") == [
        (AC2, AC1, "same_domain"),
        (DL1, AC1, "crm_merge"),
    ]
    assert warehouse.scalar(f"select source_keys from unified_accounts where account_id = '{AC1}'") == (
        f"{AC1}@prod.Salesforce,{AC2}@prod.Salesforce"
    )


def test_unified_persons_follow_the_merge_policy(unified):
    warehouse = unified
    found = {
        r[0]: r[1:]
        for r in rows(
            warehouse,
            "select person_id, email, first_name, title, department, country, phone, company, "
            "email_opt_out, sms_opt_in, source_records from unified_persons",
        )
    }
    assert found == {
        ANN: (
            "ann.lee@acme.com", "Ann", "Chief Marketing Officer", "Marketing", "United States",
            "+1 555 0100", "Acme", True, True, 4,
        ),
        DEE: ("d@x.com", "Dee", "Analyst", None, "Canada", None, "X Corp", False, False, 3),
        CAROL: ("carol@globex.com", "Carol", "Lead Engineer", None, None, None, None, False, False, 2),
        ZED: ("zed@emea.globex.com", "Zed", None, None, None, None, None, False, False, 1),
        EVE: ("eve@acme.co.uk", "Eve", None, None, None, None, None, False, False, 1),
        BOB: ("bob@gmail.com", "Bob", "CTO", None, None, None, "Beta Labs", False, False, 1),
        FRANK: ("frank@frankhale.net", "Frank", "IT Director", None, None, None, "Initec", False, False, 1),
    }  # fmt: skip
    assert warehouse.scalar(f"select source_keys from unified_persons where person_id = '{ANN}'") == (
        "003000000000AN1AAA@prod.Salesforce,00Q000000000AN1AAA@prod.Salesforce,"
        "100@prod.Marketo,urn:1@prod.LinkedIn"
    )


def test_links_review_and_decisions(unified, monkeypatch, tmp_path, request):
    landing = shutil.copytree(FIXTURES / "identity_unified", tmp_path / "landing")
    if unified.dialect == "duckdb":
        warehouse = copy_of(unified, tmp_path)  # built as `unified` was; this test builds again
    else:
        warehouse = request.getfixturevalue("postgres_warehouse")
        assert build(landing, warehouse, monkeypatch).success
    links_sql = (
        "select person_id, account_id, method, round(confidence, 3), is_primary, clue, decided_by "
        "from person_account_links order by person_id, account_id"
    )
    expected = sorted(
        [
            (ANN, AC1, "crm_account_id", 1.0, True, AC2, None),
            (CAROL, GL1, "email_domain", 0.9, True, "globex.com", None),
            (ZED, GL1, "email_domain", 0.9, True, "emea.globex.com", None),
            (BOB, BT1, "company_name", 0.9, True, "Beta Labs", None),
        ]
    )
    assert rows(warehouse, links_sql) == expected
    evidence = warehouse.scalar(f"select evidence from person_account_links where person_id = '{ANN}'")
    assert f"003000000000AN1AAA@prod.Salesforce names account {AC2} (merged into {AC1})" in evidence
    assert "lead_conversion" not in evidence  # evidence is text; the method is the strongest clue
    review_sql = (
        "select person_id, account_id, method, round(confidence, 3), clue, reason "
        "from person_account_review order by person_id"
    )
    assert rows(warehouse, review_sql) == sorted(
        [
            (FRANK, IN1, "company_name", 0.831, "Initec", "below threshold"),
            (EVE, AC1, "email_domain", 0.7, "acme.co.uk", "below threshold"),
        ]
    )

    config = tmp_path / "config"
    config.mkdir()
    (config / "account_link_decisions.csv").write_text(
        "person_id,account_id,decision,decided_by,decided_at,note\n"
        f"{FRANK},{IN1},approve,maria@example.com,2026-03-02,Initec is Initech\n"
        f"{EVE},{AC1},reject,maria@example.com,2026-03-02,acme.co.uk is another company\n"
    )
    monkeypatch.setenv("BLUEPRINT_CONFIG_DIR", str(config))
    assert build(landing, warehouse, monkeypatch, keep_config=True).success
    assert rows(warehouse, links_sql) == sorted(
        [*expected, (FRANK, IN1, "company_name", 0.831, True, "Initec", "maria@example.com")]
    )
    assert rows(warehouse, review_sql) == []
