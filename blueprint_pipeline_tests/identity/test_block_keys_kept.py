"""The compared records kept between builds (identity/matching/records.py build()), on both
warehouses: a build computes only the rows that can have moved (changed records, and the holders
of a key value whose count crossed the cap), and RECORDS then equals the whole SELECT run again.

Hand-worked, with a cap of 2 records per key value, everyone at Acme in Boston:
  build 1: a1 Ann Lee, a2 Ann Kim, b1 Bob Ray (sales.team@acme.com).
           company_first_key "acme|ann" has 2 holders: a1 and a2 keep it; first_city_key
           "ann|boston" likewise; a1's full_name_key is "ann lee".
  build 2: a3 Ann Lee arrives. "acme|ann" now has 3 holders: the refined key restages to the
           fine value (+ the last name's initial): a1 and a3 "acme|ann|l" (2 holders, kept), a2
           "acme|ann|k". "ann|boston" has 3: null for all three. a2 moved, its record did not.
  build 3: a4 Ann Lee arrives: "ann lee" and "acme|ann|l" have 3 holders: null for a1, a3, a4
           (a staged value crosses, its coarse one was over already); a2 keeps "acme|ann|k".
           sales.team@acme.com becomes a shared mailbox: b1's email and letters key go.
  build 4: a3 and a4 are gone and the mailbox is no longer shared: build 1's rows again.
  build 5: the cap becomes 3: the table is built whole again.
"""

from __future__ import annotations

import random

import pandas as pd
import pytest

from blueprint_pipeline.identity.matching import cleaned, records
from blueprint_pipeline.identity.matching.prepare import clean_records, cleaning_key

COLUMNS = ("source_key", "email", "first_name", "last_name", "company", "title", "city", "country",
           "phone", "mobile_phone", "is_live")  # fmt: skip


@pytest.fixture(autouse=True)
def _never_whole(monkeypatch):
    """These few records change by more than records.WHOLE_ABOVE each build: without this every
    build would be whole and the incremental rows never checked."""
    monkeypatch.setattr(records, "WHOLE_ABOVE", float("inf"))


def _node(key, email, first, last, company="Acme", city="Boston", live=True):
    return (key, email, first, last, company, None, city, None, None, None, live)


def _build(warehouse, nodes, cap, shared=()) -> dict[str, dict]:
    """One matching build's records (cleaning, then records.build()) from int_identity_nodes
    `nodes`; asserts RECORDS equals the whole SELECT over the same cleaning; returns its rows by key."""
    with warehouse.transaction() as session:
        session.replace_table("int_identity_nodes", pd.DataFrame(nodes, columns=COLUMNS))
        session.replace_table(
            "identity_shared_mailboxes", pd.DataFrame({"email": list(shared)}, dtype=object)
        )
        session.replace_table("identity_personal_domains", pd.DataFrame({"domain": ["gmail.com"]}))
        rebuild = cleaned.rebuilt(session, False)
        to_clean = cleaned.to_clean(session, cleaning_key({}), rebuild)
        fresh = clean_records(to_clean, {}).append_column("input_hash", to_clean["input_hash"])
        live = records.build(session, cap, cleaned.write(session, fresh, rebuild))
        whole = records.select_sql(*records.SOURCES, cap, records.guards_hash(session))
        whole = session.fetch_df(f"select * from ({whole}) as w")
        rows = session.fetch_df(f"select * from {records.RECORDS}")
    kept, built = (_by_key(f) for f in (rows, whole))
    assert kept.keys() == built.keys()
    moved = {k: {c: (v, built[k][c]) for c, v in r.items() if v != built[k][c]} for k, r in kept.items()}
    moved = {k: m for k, m in moved.items() if m}
    assert moved == {}, moved  # (kept, whole SELECT's) per column
    assert live == len(kept) == sum(1 for n in nodes if n[-1])
    return kept


def _by_key(frame: pd.DataFrame) -> dict[str, dict]:
    frame = frame.astype(object).where(frame.notna(), None)
    return {r["unique_id"]: r for r in frame.to_dict("records")}


def test_only_rows_that_can_move_are_recomputed_and_the_table_equals_the_whole_select(warehouse):
    a1 = _node("a1", "ann.lee@acme.com", "Ann", "Lee")
    a2 = _node("a2", "ann.kim@acme.com", "Ann", "Kim")
    b1 = _node("b1", "sales.team@acme.com", "Bob", "Ray")
    a3 = _node("a3", "alee@acme.com", "Ann", "Lee")
    a4 = _node("a4", "ann.l@acme.com", "Ann", "Lee")

    first = _build(warehouse, [a1, a2, b1], cap=2)
    assert [first[k]["company_first_key"] for k in ("a1", "a2")] == ["acme|ann", "acme|ann"]
    assert [first[k]["first_city_key"] for k in ("a1", "a2")] == ["ann|boston", "ann|boston"]
    assert first["a1"]["full_name_key"] == "ann lee"
    assert first["b1"]["letters_key"] == "salesteam"

    second = _build(warehouse, [a1, a2, b1, a3], cap=2)
    assert [second[k]["company_first_key"] for k in ("a1", "a2", "a3")] == [
        "acme|ann|l",
        "acme|ann|k",
        "acme|ann|l",
    ]
    assert [second[k]["company_canonical_key"] for k in ("a1", "a2", "a3")] == [
        "acme|ann|l",
        "acme|ann|k",
        "acme|ann|l",
    ]
    assert [second[k]["first_city_key"] for k in ("a1", "a2", "a3")] == [None, None, None]
    assert [second[k]["full_name_key"] for k in ("a1", "a3")] == ["ann lee", "ann lee"]
    assert second["a2"]["fingerprint"] != first["a2"]["fingerprint"]  # moved by the cap alone
    assert second["a2"]["cleaned_hash"] == first["a2"]["cleaned_hash"]
    assert second["b1"]["fingerprint"] == first["b1"]["fingerprint"]

    third = _build(warehouse, [a1, a2, b1, a3, a4], cap=2, shared=["sales.team@acme.com"])
    assert [third[k]["full_name_key"] for k in ("a1", "a3", "a4")] == [None, None, None]
    assert [third[k]["company_first_key"] for k in ("a1", "a2", "a3", "a4")] == [
        None,
        "acme|ann|k",
        None,
        None,
    ]
    assert (third["b1"]["email"], third["b1"]["letters_key"]) == (None, None)
    assert third["a2"]["fingerprint"] == second["a2"]["fingerprint"]

    gone = [a1, a2, b1, (*a3[:-1], False), (*a4[:-1], False)]
    fourth = _build(warehouse, gone, cap=2)
    assert {k: r["fingerprint"] for k, r in fourth.items()} == {k: r["fingerprint"] for k, r in first.items()}

    fifth = _build(warehouse, gone, cap=3)
    assert {r["definition_hash"] for r in fifth.values()} == {records.definition_hash(3)}


def test_a_new_key_definition_builds_the_table_whole(warehouse, monkeypatch):
    """A release that changes a key's SQL changes the rows' definition hash: every row is
    built again, not only the changed records'."""
    a1 = _node("a1", "ann.lee@acme.com", "Ann", "Lee")
    b1 = _node("b1", "sales.team@acme.com", "Bob", "Ray")
    first = _build(warehouse, [a1, b1], cap=2)
    assert (first["a1"]["letters_key"], first["b1"]["letters_key"]) == ("annlee", "salesteam")
    monkeypatch.setitem(
        records._CAPPED, "letters_key", "case when length(email_letters) >= 9 then email_letters end"
    )
    again = _build(warehouse, [a1, b1], cap=2)
    assert (again["a1"]["letters_key"], again["b1"]["letters_key"]) == (None, "salesteam")


def test_random_builds_keep_the_table_equal_to_the_whole_select(warehouse):
    """Eight builds of random arrivals, departures, edits and shared mailboxes over few names, so
    key values cross a cap of 2 both ways all the time; each build's table is checked against
    the whole SELECT inside _build()."""
    rng = random.Random(20261205)
    firsts, lasts = ["Ann", "Anna", "Bob", "Bill", "Rob"], ["Lee", "Li", "Kim", "Ray"]
    companies, cities = ["Acme", "Apex", None], ["Boston", "Paris", None]

    def person(i: int):
        first, last = rng.choice(firsts), rng.choice(lasts)
        email = rng.choice(
            [f"{first}.{last}@{rng.choice(['acme.com', 'gmail.com'])}", f"team{i % 3}@acme.com", None]
        )
        return _node(f"r{i:03d}", email, first, last, rng.choice(companies), rng.choice(cities))

    nodes = {i: person(i) for i in range(30)}
    shared: list[str] = []
    for round_ in range(8):
        for i in rng.sample(sorted(nodes), 4):  # edits: a new name or company
            nodes[i] = (*person(i)[:-1], True)
        for i in rng.sample(sorted(nodes), 3):  # departures
            nodes[i] = (*nodes[i][:-1], False)
        for i in range(len(nodes), len(nodes) + rng.randint(0, 5)):  # arrivals
            nodes[i] = person(i)
        shared = rng.choice([[], ["team0@acme.com"], ["team1@acme.com", "team2@acme.com"]])
        rows = _build(warehouse, list(nodes.values()), cap=2, shared=shared)
        assert len(rows) == sum(1 for n in nodes.values() if n[-1]), round_
