"""Account links worked out again only for the persons whose clues changed (identity/link_inputs.py),
on both warehouses, to the same tables as linking everyone.

Hand-worked case. Accounts: A1 Acme (acme.com), B1 Beta Labs (beta.io).
Build 1 clues: pa: CRM AccountId A1 and the domain acme.com; pb: the domain beta.io;
pd: the company "Beta Labs Inc."; pe: the domain acme.co.uk (related: to review).
  links: pa -> A1 (crm_account_id, primary; acme.com also names it), pb -> B1 (email_domain),
  pd -> B1 (company_name, 0.9); review: pe -> A1 (0.7, below threshold).
Build 2: pa's domain is now beta.io (a second link, to B1), pb is gone (its record left), pc is new
with acme.com; pd and pe unchanged. Changed: pa, pb, pc (3); pd's and pe's rows are not touched.
  links: pa -> A1 (primary), pa -> B1, pc -> A1, pd -> B1; review: pe -> A1.
A new account (what every person reads) changes every person's hash: all 4 are linked again.
"""

from __future__ import annotations

import pandas as pd

from blueprint_pipeline.config.models import AccountLinkPolicy
from blueprint_pipeline.identity.link_inputs import (
    ALL_EVIDENCE,
    CHANGED,
    CHANGED_EVIDENCE,
    changed_persons,
    context_key,
    keep_all,
    link_source,
    replace_changed,
)
from blueprint_pipeline.identity.links import Decisions, link
from blueprint_pipeline.warehouse.duckdb import DuckDBSession

POLICY = AccountLinkPolicy()
ACCOUNTS = pd.DataFrame(
    [("A1", "Acme", "acme.com", 0, pd.Timestamp("2026-01-01")),
     ("B1", "Beta Labs", "beta.io", 0, pd.Timestamp("2026-01-01"))],
    columns=["account_id", "account_name", "domain", "hierarchy_level", "created_at"],
)  # fmt: skip
ALIASES = pd.DataFrame(columns=["alias_account_id", "account_id"], dtype=object)
BUILD1 = [
    ("pa", "c1", "crm_account_id", "A1"), ("pa", "c1", "email_domain", "acme.com"),
    ("pb", "m2", "email_domain", "beta.io"), ("pd", "m4", "company_name", "Beta Labs Inc."),
    ("pe", "m5", "email_domain", "acme.co.uk"),
]  # fmt: skip
BUILD2 = [
    ("pa", "c1", "crm_account_id", "A1"), ("pa", "c1", "email_domain", "beta.io"),
    ("pc", "m3", "email_domain", "acme.com"), ("pd", "m4", "company_name", "Beta Labs Inc."),
    ("pe", "m5", "email_domain", "acme.co.uk"),
]  # fmt: skip
LINKS = "select person_id, account_id, method, is_primary from person_account_links"


def _evidence(session, rows) -> pd.DataFrame:
    session.execute("drop table if exists int_person_account_evidence")
    session.execute(
        "create table int_person_account_evidence "
        "(person_id varchar, source_key varchar, method varchar, value varchar)"
    )
    for row in rows:
        session.execute(
            "insert into int_person_account_evidence values ($p, $s, $m, $v)",
            dict(zip("psmv", row, strict=True)),
        )
    return pd.DataFrame(rows, columns=["person_id", "source_key", "method", "value"])


def _linked_all(session, key: str) -> None:
    # As the asset links: on DuckDB in the warehouse's own engine, on PostgreSQL in an embedded one.
    evidence, engine = link_source(session, ALL_EVIDENCE)
    result = link(evidence, ACCOUNTS, ALIASES, set(), POLICY, Decisions(), engine)
    _nothing_left(session)
    session.replace_table("person_account_links", result.links)
    session.replace_table("person_account_review", result.review)
    keep_all(session, key)


def _nothing_left(session) -> None:
    """link() in the warehouse's engine leaves none of its tables, views or registrations."""
    if isinstance(session, DuckDBSession):
        left = session.fetchall(
            "select table_name from duckdb_tables() where temporary union all "
            "select view_name from duckdb_views() where temporary and not internal"
        )
        assert [name for (name,) in left if name != CHANGED] == []


def _table(warehouse, sql: str) -> list[tuple]:
    return sorted(tuple(r) for r in warehouse.fetchall(sql))


def test_only_the_persons_whose_clues_changed_are_linked_again(warehouse):
    key = context_key(ACCOUNTS, ALIASES, set(), POLICY, Decisions().frame)
    with warehouse.transaction() as session:
        _evidence(session, BUILD1)
        _linked_all(session, key)
    assert _table(warehouse, LINKS) == [
        ("pa", "A1", "crm_account_id", True), ("pb", "B1", "email_domain", True),
        ("pd", "B1", "company_name", True),
    ]  # fmt: skip
    assert _table(warehouse, "select person_id, account_id, reason from person_account_review") == [
        ("pe", "A1", "below threshold")
    ]

    with warehouse.transaction() as session:
        _evidence(session, BUILD2)
        assert changed_persons(session, key, full=False) == 3
        found = session.fetch_df(CHANGED_EVIDENCE)
        assert sorted(found["person_id"].unique()) == ["pa", "pc"]  # pb has no clue left
        evidence, engine = link_source(session, CHANGED_EVIDENCE)
        result = link(evidence, ACCOUNTS, ALIASES, set(), POLICY, Decisions(), engine)
        _nothing_left(session)
        replace_changed(
            session, {"person_account_links": result.links, "person_account_review": result.review}
        )
    incremental = (_table(warehouse, "select * from person_account_links"),
                   _table(warehouse, "select * from person_account_review"))  # fmt: skip
    assert _table(warehouse, LINKS) == [
        ("pa", "A1", "crm_account_id", True), ("pa", "B1", "email_domain", False),
        ("pc", "A1", "email_domain", True), ("pd", "B1", "company_name", True),
    ]  # fmt: skip

    # Linking everyone gives the same rows; the kept inputs are the same too.
    kept = _table(warehouse, "select * from person_account_link_inputs")
    with warehouse.transaction() as session:
        _linked_all(session, key)
    assert (_table(warehouse, "select * from person_account_links"),
            _table(warehouse, "select * from person_account_review")) == incremental  # fmt: skip
    assert _table(warehouse, "select * from person_account_link_inputs") == kept
    with warehouse.transaction() as session:
        assert changed_persons(session, key, full=False) == 0  # nothing changed since

        # What every person reads changed (a new account): every person is linked again.
        grown = pd.concat([ACCOUNTS, ACCOUNTS.head(1).assign(account_id="C1", domain="c.com")])
        other = context_key(grown, ALIASES, set(), POLICY, Decisions().frame)
        assert other != key and changed_persons(session, other, full=False) == 4
        assert changed_persons(session, key, full=True) is None


def test_the_context_key_reads_decisions_policy_and_personal_domains():
    key = context_key(ACCOUNTS, ALIASES, set(), POLICY, Decisions().frame)
    decided = pd.DataFrame(
        [("pe", "A1", "approve", "maria@example.com", "2026-03-02", "")],
        columns=["person_id", "account_id", "decision", "decided_by", "decided_at", "note"],
    )
    assert context_key(ACCOUNTS, ALIASES, set(), POLICY, decided) != key
    assert context_key(ACCOUNTS, ALIASES, {"gmail.com"}, POLICY, Decisions().frame) != key
    stricter = AccountLinkPolicy(threshold=0.95)
    assert context_key(ACCOUNTS, ALIASES, set(), stricter, Decisions().frame) != key
    shuffled = ACCOUNTS.iloc[::-1].reset_index(drop=True)  # row order is not a change
    assert context_key(shuffled, ALIASES, set(), POLICY, Decisions().frame) == key
