"""Python assets' data tests (python_models.yml) run by the SQL models' test runner inside the
asset's transaction, on both warehouses.

Hand-worked answers, against the tests python_models.yml declares:
  unified_accounts, previous build: a0 (no parent).
    new rows a1, a1 (twice), a2 whose parent zz is no account:
      unique__account_id 2 (both a1 rows), not_null__account_id 0, parents_exist 1 (a2)
      -> blocking tests failed: the previous build (a0 alone) stays.
    new rows a1, a2 with parent a1: every test 0 -> written.
  person_account_links, accounts a1 a2, personal domain gmail.com:
    p1 a1 primary, p1 a2 primary          -> one_primary_per_person 2 (where is_primary: both rows)
    p2 a1 not primary (p2 has no primary) -> expression__primary_link_for_each_person 1
    p3 a1 primary by email_domain gmail.com -> expression__no_personal_domain_link 1
    p4 a9 primary (a9 is no account)      -> accounts_exist 1
    p5 a2 primary, method and clue null   -> passes every test (a NULL method is no domain link)
"""

from __future__ import annotations

import pandas as pd
import pytest

from blueprint_pipeline.core.errors import SqlModelError
from blueprint_pipeline.sql_models.checks import checked_transaction, declared_checks

ACCOUNT_COLUMNS = ["account_id", "parent_account_id"]


def _accounts(rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=ACCOUNT_COLUMNS).astype("object")


def _failing(checked) -> dict[str, int]:
    return {result.test.name: result.failing_rows for _, result in checked.results}


def test_a_failed_blocking_test_rolls_the_writes_back(warehouse):
    with warehouse.transaction() as session:
        session.replace_table("unified_accounts", _accounts([("a0", None)]))
    with checked_transaction(warehouse, "unified_accounts") as (session, checked):
        session.replace_table("unified_accounts", _accounts([("a1", None), ("a1", None), ("a2", "zz")]))
    assert _failing(checked) == {"unique__account_id": 2, "not_null__account_id": 0, "parents_exist": 1}
    assert warehouse.fetchall("select account_id from unified_accounts") == [("a0",)]
    reported = checked.reported(object())  # a materialization is never reported for rolled-back writes
    checks = [next(reported) for _ in range(3)]
    assert [(c.check_name, c.passed) for c in checks] == [
        ("unique__account_id", False),
        ("not_null__account_id", True),
        ("parents_exist", False),
    ]
    with pytest.raises(SqlModelError, match=r"unified_accounts\.unique__account_id \(2 failing rows\)"):
        next(reported)


def test_passing_tests_commit_and_report_after_the_materialization(warehouse):
    with checked_transaction(warehouse, "unified_accounts") as (session, checked):
        session.replace_table("unified_accounts", _accounts([("a1", None), ("a2", "a1")]))
    assert sorted(warehouse.fetchall("select account_id from unified_accounts")) == [("a1",), ("a2",)]
    materialization = object()
    reported = list(checked.reported(materialization))
    assert reported[0] is materialization
    assert all(c.passed for c in reported[1:]) and len(reported) == 4  # and 3 checks


def test_where_config_and_expressions_on_person_links(warehouse):
    with warehouse.transaction() as session:
        session.replace_table("unified_accounts", _accounts([("a1", None), ("a2", None)]))
        session.replace_table("identity_personal_domains", pd.DataFrame({"domain": ["gmail.com"]}))
    links = pd.DataFrame(
        [
            ("p1", "a1", True, "crm_account_id", "a1"),
            ("p1", "a2", True, "crm_account_id", "a2"),
            ("p2", "a1", False, "company_name", "Acme"),
            ("p3", "a1", True, "email_domain", "gmail.com"),
            ("p4", "a9", True, "crm_account_id", "a9"),
            ("p5", "a2", True, None, None),
        ],
        columns=["person_id", "account_id", "is_primary", "method", "clue"],
    )
    with checked_transaction(warehouse, "person_account_links") as (session, checked):
        session.replace_table("person_account_links", links)
    assert _failing(checked) == {
        "accounts_exist": 1,
        "one_primary_per_person": 2,
        "expression__no_personal_domain_link": 1,
        "expression__primary_link_for_each_person": 1,
    }
    with warehouse.session() as session:
        assert not session.table_exists("person_account_links")  # rolled back: never written


def test_every_declared_test_is_an_asset_check_of_its_table():
    specs = {(s.asset_key.path[-1], s.name, s.blocking) for s in declared_checks("unified_accounts")}
    assert specs == {
        ("unified_accounts", "unique__account_id", True),
        ("unified_accounts", "not_null__account_id", True),
        ("unified_accounts", "parents_exist", True),
    }
    with pytest.raises(SqlModelError, match="not declared in .*python_models.yml"):
        declared_checks("no_such_table")
