"""The account merge and person-to-account matching rules on small hand-made frames (pure pandas,
no warehouse): the awkward cases the worked example in test_unified.py does not reach."""

from __future__ import annotations

import pandas as pd
import pytest

from blueprint_pipeline.config.models import AccountLinkPolicy
from blueprint_pipeline.core.errors import ConfigError
from blueprint_pipeline.identity.accounts import unify
from blueprint_pipeline.identity.links import Decisions, domain_name, link, normalise_name, read_decisions

NO_MERGES = pd.DataFrame({"record_id": pd.Series(dtype=str), "master_record_id": pd.Series(dtype=str)})


def accounts(*rows) -> pd.DataFrame:
    """rows: (id, domain, parent, created year)"""
    return pd.DataFrame(
        [
            {
                "account_id": i,
                "account_name": f"Account {i}",
                "website_domain": d,
                "parent_account_id": p,
                "created_at": pd.Timestamp(f"{y}-01-01"),
                "last_modified_at": pd.Timestamp(f"{2030 - y}-01-01"),
                "industry": None,
                "employees": None,
                "annual_revenue": None,
                "billing_country": None,
                "billing_state": None,
                "account_type": None,
                "owner_user_id": None,
            }
            for i, d, p, y in rows
        ]
    )


def merged(result) -> dict[str, str]:
    return dict(zip(result.aliases["alias_account_id"], result.aliases["account_id"], strict=True))


def test_hierarchy_member_survives_and_a_standalone_duplicate_merges_into_it():
    # P parent of C, both d.com; S standalone d.com and older than both: S merges into P (an
    # account in a hierarchy survives first); C stays (same hierarchy as P).
    result = unify(accounts(("P", "d.com", None, 2020), ("C", "d.com", "P", 2021), ("S", "d.com", None, 2010)),
                   NO_MERGES, set(), "oldest")  # fmt: skip
    assert merged(result) == {"S": "P"}
    assert sorted(result.accounts["account_id"]) == ["C", "P"]


def test_two_hierarchies_with_two_accounts_each_at_one_domain_merge_nothing():
    rows = [("P1", "d.com", None, 2020), ("C1", "d.com", "P1", 2021)]
    rows += [("P2", "d.com", None, 2019), ("C2", "d.com", "P2", 2022)]
    result = unify(accounts(*rows), NO_MERGES, set(), "oldest")
    assert merged(result) == {}
    assert len(result.accounts) == 4


def test_children_of_a_merged_account_move_to_the_survivor():
    # S (d.com, child Z) and X (d.com, child Y) head two hierarchies; each has one account at
    # d.com, so X merges into the older S; Y's parent becomes S, one level below it.
    rows = [("S", "d.com", None, 2010), ("Z", "z.com", "S", 2011)]
    rows += [("X", "d.com", None, 2015), ("Y", "e.com", "X", 2016)]
    result = unify(accounts(*rows), NO_MERGES, set(), "oldest")
    assert merged(result) == {"X": "S"}
    y = result.accounts.set_index("account_id").loc["Y"]
    assert (y["parent_account_id"], y["ultimate_parent_id"], y["hierarchy_level"]) == ("S", "S", 1)


def test_survivor_by_latest_modification_and_parent_cycles_terminate():
    # A and B are each other's parent (bad CRM data): one hierarchy, no endless walk.
    rows = [
        ("A", "a.com", "B", 2010),
        ("B", "b.com", "A", 2011),
        ("O", "o.com", None, 2000),
        ("N", "o.com", None, 2005),
    ]
    result = unify(accounts(*rows), NO_MERGES, set(), "most_recently_modified")
    # O (created 2000) was modified in 2030, N (2005) in 2025: the latest modified, O, survives.
    assert merged(result) == {"N": "O"}
    levels = result.accounts.set_index("account_id")["hierarchy_level"]
    assert {"A", "B"} <= set(levels.index) and levels.max() <= 50


def test_a_parent_outside_the_export_is_dropped_and_counted():
    result = unify(
        accounts(("C", "c.com", "001MISSING", 2010), ("D", "d.com", "D", 2010)), NO_MERGES, set(), "oldest"
    )
    assert result.accounts["parent_account_id"].isna().all()
    assert result.unknown_parents == 1  # D naming itself is no parent, and not unknown either


def test_personal_domains_are_no_domain():
    result = unify(
        accounts(("G1", "gmail.com", None, 2010), ("G2", "gmail.com", None, 2011)),
        NO_MERGES,
        {"gmail.com"},
        "oldest",
    )
    assert merged(result) == {}
    assert result.accounts["domain"].isna().all()


@pytest.mark.parametrize(
    ("raw", "normal"),
    [("The ACME Corp., Inc.", "acme"), ("Beta-Labs GmbH", "beta labs"), ("Group", "group"), ("  ", "")],
)
def test_normalise_name(raw, normal):
    assert normalise_name(raw) == normal


@pytest.mark.parametrize(
    ("domain", "name"),
    [("acme.com", "acme"), ("acme.co.uk", "acme"), ("eu.acme.com", "acme"), ("localhost", "localhost")],
)
def test_domain_name(domain, name):
    assert domain_name(domain) == name


def unified(*rows) -> pd.DataFrame:
    """rows: (id, name, domain)"""
    return pd.DataFrame(
        [{"account_id": i, "account_name": n, "domain": d, "hierarchy_level": 0, "created_at": pd.Timestamp("2020-01-01")}
         for i, n, d in rows]
    )  # fmt: skip


def clues(*rows) -> pd.DataFrame:
    """rows: (person, method, value)"""
    return pd.DataFrame(
        [{"person_id": p, "source_key": f"{p}@prod.Marketo", "method": m, "value": v, "observed_at": None}
         for p, m, v in rows]
    )  # fmt: skip


NO_ALIASES = pd.DataFrame({"alias_account_id": pd.Series(dtype=str), "account_id": pd.Series(dtype=str)})
POLICY = AccountLinkPolicy()


def test_equally_good_names_are_ambiguous_and_reviewed():
    result = link(
        clues(("p1", "company_name", "Acme Labs")),
        unified(("A", "Acme Labs", None), ("B", "ACME Labs Ltd", None)),
        NO_ALIASES,
        set(),
        POLICY,
    )
    assert result.links.empty
    assert sorted(result.review["account_id"]) == ["A", "B"]
    assert set(result.review["reason"]) == {"several accounts match equally"}


def test_names_of_common_words_meet_on_a_rarer_pair_of_words():
    # "glob" and "data" each start the names of 502 accounts (over the blocking cap of 500); the
    # pair "data|glob" is one account's: the match is still found.
    crowd = [(f"G{i}", f"Global Foo{i}", None) for i in range(501)]
    crowd += [(f"D{i}", f"Bar{i} Data", None) for i in range(501)]
    result = link(
        clues(("p1", "company_name", "Global Data Inc")),
        unified(*crowd, ("T", "Global Data", None)),
        NO_ALIASES,
        set(),
        POLICY,
    )
    assert list(result.links["account_id"]) == ["T"]


def test_a_linked_person_is_not_reviewed_and_a_rejected_link_is_not_made():
    evidence = clues(
        ("p1", "crm_account_id", "A"),
        ("p1", "company_name", "Acme Lab"),  # ~ "Acme Labs" (B): 0.9 x 94% < 0.85, but p1 is linked
        ("p2", "email_domain", "b.com"),  # 0.9, rejected below
    )
    decisions = Decisions(
        pd.DataFrame([{"person_id": "p2", "account_id": "B", "decision": "reject", "decided_by": "x", "decided_at": "", "note": ""}])
    )  # fmt: skip
    result = link(
        evidence,
        unified(("A", "Other", "a.com"), ("B", "Acme Labs", "b.com")),
        NO_ALIASES,
        set(),
        POLICY,
        decisions,
    )
    assert list(zip(result.links["person_id"], result.links["account_id"], strict=True)) == [("p1", "A")]
    assert result.review.empty
    assert result.stats["rejected"] == 1


def test_personal_domain_never_links_even_when_an_account_has_it():
    result = link(
        clues(("p1", "email_domain", "gmail.com")),
        unified(("G", "Gmail", "gmail.com")),
        NO_ALIASES,
        {"gmail.com"},
        POLICY,
    )
    assert result.links.empty and result.review.empty


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("person_id,account_id,decision,decided_by\np1,A,approve,me\np2,B,maybe,me\n",
         r"account_link_decisions.csv row 3: field decision is 'maybe'; expected approve or reject"),
        ("person_id,decision\np1,approve\n", r"missing column\(s\) \['account_id', 'decided_by'\]"),
        ("person_id,account_id,decision,decided_by\np1,A,approve,me,extra\n", r"row 2: 5 fields; the header has 4"),
        ("person_id,account_id,decision,decided_by\np1,A,approve,\n", r"row 2: field decided_by is empty"),
        ("person_id,account_id,decision,decided_by,decided_at\np1,A,approve,me,yesterday\n",
         r"row 2: field decided_at is 'yesterday'; expected an ISO date"),
    ],
)  # fmt: skip
def test_a_bad_decisions_row_names_the_file_row_and_field(tmp_path, text, message):
    path = tmp_path / "account_link_decisions.csv"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message):
        read_decisions(path)


def test_decisions_ignore_case_and_blank_lines_and_the_last_line_wins(tmp_path):
    path = tmp_path / "account_link_decisions.csv"
    path.write_text("person_id,account_id,decision,decided_by\np1,A,Approve,me\n\np1,A,REJECT,you\n")
    assert read_decisions(path).frame[["decision", "decided_by"]].values.tolist() == [["reject", "you"]]
    assert read_decisions(tmp_path / "absent.csv").frame.empty


def test_an_exact_company_name_meets_a_threshold_equal_to_its_confidence():
    # rapidfuzz scores are float32: 0.9 x 100% must be 0.9, not 0.8999999761, or threshold 0.9 drops it.
    policy = AccountLinkPolicy(threshold=0.9)
    result = link(
        clues(("p1", "company_name", "Beta Labs")),
        unified(("B", "Beta Labs Inc", None)),
        NO_ALIASES,
        set(),
        policy,
    )
    assert result.links["confidence"].tolist() == [0.9] and result.review.empty


def test_undecided_pairs_still_link_when_a_decisions_file_exists(tmp_path):
    # The file's columns are text with missing values for undecided pairs: those must stay links.
    path = tmp_path / "account_link_decisions.csv"
    path.write_text("person_id,account_id,decision,decided_by\np2,B,reject,me\n")
    evidence = clues(("p1", "crm_account_id", "A"), ("p2", "crm_account_id", "B"))
    accounts = unified(("A", "Alpha", None), ("B", "Beta", None))
    result = link(evidence, accounts, NO_ALIASES, set(), POLICY, read_decisions(path))
    assert result.links["person_id"].tolist() == ["p1"] and result.stats["rejected"] == 1


def test_country_spellings_become_one():
    frame = accounts(("A", "a.com", None, 2010), ("B", "b.com", None, 2010), ("C", "c.com", None, 2010))
    frame["billing_country"] = [" USA ", "Deutschland", "Atlantis"]
    names = {"usa": "United States", "deutschland": "Germany"}
    result = unify(frame, NO_MERGES, set(), "oldest", names)
    assert result.accounts["billing_country"].tolist() == ["United States", "Germany", "Atlantis"]


def test_links_do_not_depend_on_the_order_clues_arrive_in():
    evidence = clues(("p1", "email_domain", "a.com"), ("p1", "company_name", "Alpha"))
    evidence = pd.concat([evidence, evidence.assign(source_key="0@prod.Salesforce")], ignore_index=True)
    accounts = unified(("A", "Alpha", "a.com"))
    first = link(evidence, accounts, NO_ALIASES, set(), POLICY).links
    again = link(evidence.iloc[::-1], accounts, NO_ALIASES, set(), POLICY).links
    assert first.equals(again)
    assert first["evidence"].iloc[0] == "0@prod.Salesforce email domain a.com is the account domain"


def test_crm_merges_are_followed_to_the_live_survivor():
    # The CRM merged B into A, then A into C; only C is live: both B and A are aliases of C.
    merges = pd.DataFrame({"record_id": ["B", "A"], "master_record_id": ["A", "C"]})
    result = unify(accounts(("C", "c.com", None, 2010)), merges, set(), "oldest")
    assert merged(result) == {"A": "C", "B": "C"}


def test_a_rejected_domain_link_leaves_the_company_name_to_try(tmp_path):
    path = tmp_path / "account_link_decisions.csv"
    path.write_text("person_id,account_id,decision,decided_by\np1,A,reject,me\n")
    evidence = clues(("p1", "email_domain", "a.com"), ("p1", "company_name", "Beta Labs"))
    accounts = unified(("A", "Alpha", "a.com"), ("B", "Beta Labs Inc", None))
    result = link(evidence, accounts, NO_ALIASES, set(), POLICY, read_decisions(path))
    assert result.links[["person_id", "account_id", "method"]].values.tolist() == [
        ["p1", "B", "company_name"]
    ]


def test_a_clue_without_a_person_keeps_nobody_else_from_a_link_or_a_review():
    """A clue with no person id (dirty evidence) is a person of its own, as pandas' isin had
    it: its confident id link must not settle everyone (SQL's `not in` over a null would), and
    p2's ambiguous name match still reaches review. An id clue naming no value counts as unknown."""
    evidence = clues(
        (None, "crm_account_id", "A"),
        ("p1", "company_name", "Beta Labs"),
        ("p2", "company_name", "Delta Labs"),
        ("p3", "crm_account_id", None),
    )
    accounts = unified(
        ("A", "Alpha", None),
        ("B", "Beta Labs Inc", None),
        ("D1", "Delta Labs", None),
        ("D2", "DELTA Labs Ltd", None),
    )
    result = link(evidence, accounts, NO_ALIASES, set(), POLICY)
    assert sorted(result.links["person_id"].dropna()) == ["p1"]
    assert result.links["person_id"].isna().sum() == 1
    # Two equally good accounts make the name ambiguous; Beta Labs is a weaker candidate beside them.
    assert result.review[["person_id", "account_id"]].values.tolist() == [
        ["p2", "D1"],
        ["p2", "D2"],
        ["p2", "B"],
    ]
    assert result.stats["ids_to_unknown_accounts"] == 1


def test_one_record_with_two_spellings_of_a_name_shows_the_first_spelling():
    evidence = clues(("p1", "company_name", "BETA LABS"), ("p1", "company_name", "Beta Labs Inc"))
    result = link(evidence, unified(("B", "Beta Labs", None)), NO_ALIASES, set(), POLICY)
    assert result.links["clue"].tolist() == ["BETA LABS"]  # byte order: capitals first
