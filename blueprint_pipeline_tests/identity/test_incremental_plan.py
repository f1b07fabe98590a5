"""Incremental matching's plan and retraining policy, the pure functions (incremental.py), worked by
hand on five records a..e."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from blueprint_pipeline.config.identity import PersonMatchingPolicy
from blueprint_pipeline.identity.matching import pairs, state
from blueprint_pipeline.identity.matching.incremental import (
    SCORED_PAIRS,
    Previous,
    drift,
    fingerprints,
    plan,
    reusable,
    training_key,
)
from blueprint_pipeline.identity.matching.prepare import prepare

POLICY = PersonMatchingPolicy(retrain_share=0.25)


def records(**changes: dict) -> pd.DataFrame:
    people = {
        k: {"source_key": k, "first_name": f"Ann{k}", "last_name": "Lee", "email": f"{k}@x.com"}
        for k in "abcd"
    }
    for key, fields in changes.items():
        people[key] = {"source_key": key, **{**people.get(key, {}), **fields}}
    return prepare(pd.DataFrame(list(people.values())), {}, set())


def previous_of(warehouse, trained_on: pd.DataFrame, now: pd.DataFrame, version: str = "v1") -> Previous:
    """The last build trained on and kept `trained_on`'s fingerprints (state.write); `now`'s
    compared with them (state.compare), as the matching step does."""
    scoring = {
        "model_version": version,
        "review_floor": POLICY.review_floor,
        "mode": "full",
        "origin": "trained",
        "trained_with": training_key(POLICY),
    }
    with warehouse.session() as session:
        state.write(
            session,
            state.upload(session, fingerprints(trained_on)),
            trained_now=True,
            frozen=False,
            kept=None,
        )
        known = state.compare(session, state.upload(session, fingerprints(now)), against_kept=True)
    return Previous(known, scoring, model={"trained": True}, model_records=len(trained_on))


def raw_pairs(pairs: list[tuple[str, str]], into: Path) -> Path:
    """The pairs as score.scored_pairs() writes them: a Parquet file of RAW_COLUMNS."""
    pd.DataFrame(
        {
            "source_key": [a for a, _ in pairs],
            "other_key": [b for _, b in pairs],
            "match_weight": 1.0,
            "match_probability": 0.9,
            "contributions": "[]",
        }
    ).to_parquet(into)
    return into


def test_fingerprints_change_with_a_compared_field_only():
    before, after = fingerprints(records()), fingerprints(records(b={"email": "b2@x.com"}))
    assert (before == after).to_dict() == {"a": True, "b": False, "c": True, "d": True}
    assert fingerprints(records()).equals(before)  # the same records, the same prints


def test_an_incremental_plan_rescores_pairs_of_new_changed_and_gone_records(warehouse, tmp_path):
    """Last build: a..d, pairs a-b, c-d, a-c. Now b changed, d gone, e new: touched {b, e};
    the warehouse drops the pairs with b or d (pairs.keep), keeps a-c and adds the new b-e."""
    now = records(b={"email": "b2@x.com"}, e={"first_name": "Eve", "last_name": "Lee", "email": "e@x.com"})
    now = now[now["unique_id"] != "d"]
    last = previous_of(warehouse, records(), now)
    chosen = plan(last, "v1", POLICY, full_refresh=False, live=len(now))
    assert (chosen.mode, chosen.touched, chosen.out) == ("incremental", {"b", "e"}, {"b", "d", "e"})
    assert (chosen.records_new, chosen.records_changed, chosen.records_gone) == (1, 1, 1)
    with warehouse.transaction() as session:
        first = raw_pairs([("a", "b"), ("c", "d"), ("a", "c")], tmp_path / "first.parquet")
        assert pairs.keep(session, first, None) == 0
        assert pairs.keep(session, raw_pairs([("b", "e")], tmp_path / "next.parquet"), chosen.out) == 1
    found = warehouse.fetchall(f"select source_key, other_key from {SCORED_PAIRS} order by 1, 2")
    assert [tuple(r) for r in found] == [("a", "c"), ("b", "e")]
    assert plan(last, "v2", POLICY, False, len(now)).reason == "model v1 -> v2"
    assert plan(last, "v1", POLICY, True, len(now)).out is None
    # 2 of 4 records touched is half: still incremental; 2 of 3, most: one full scoring.
    assert plan(last, "v1", POLICY, False, live=3).reason == "2 of 3 records new or changed"
    assert plan(last, "v1", POLICY, False, live=3).mode == "full"


def test_the_model_is_retrained_past_the_retrain_share(warehouse):
    """Trained on a..d (4 records). One changed record is 25%: reused (retrain_share 0.25); one
    changed and one gone is 50%: retrained; a new record adds to the drift too."""
    one = records(b={"email": "b2@x.com"})
    last = previous_of(warehouse, records(), one)
    assert drift(last) == 0.25
    assert reusable(last, POLICY, full_refresh=False) == ""
    two = one[one["unique_id"] != "d"]
    last = previous_of(warehouse, records(), two)
    assert drift(last) == 0.5
    assert reusable(last, POLICY, False).startswith("50.0% of the records")
    grown = records(e={"first_name": "Eve", "last_name": "Lee", "email": "e@x.com"})
    assert drift(previous_of(warehouse, records(), grown)) == 0.25
    same = previous_of(warehouse, records(), records())
    assert reusable(same, POLICY, True) == "full refresh"
    other = PersonMatchingPolicy(retrain_share=0.25, seed=8)
    assert reusable(same, other, False) == "settings, seed or sample size changed"


def test_the_kept_state_carries_the_trained_fingerprints(warehouse):
    """A build that reuses the model carries the trained fingerprints over (b's stays its old
    one, e has none: the model never saw it, d is gone); one that trains takes this build's; a
    frozen model has none."""
    now = records(b={"email": "b2@x.com"}, e={"first_name": "Eve", "last_name": "Lee", "email": "e@x.com"})
    now = now[now["unique_id"] != "d"]
    before, after = fingerprints(records()), fingerprints(now)
    assert "d" not in after.index and after["b"] != before["b"]
    read = "select source_key, fingerprint, trained_fingerprint from person_match_scored_records"
    for trained_now, frozen, expected in (
        (False, False, {**{k: before[k] for k in "abc"}, "e": None}),
        (True, False, dict(after)),
        (False, True, dict.fromkeys(after.index)),
    ):
        with warehouse.session() as session:
            state.write(session, state.upload(session, before), trained_now=True, frozen=False, kept=None)
            prints = state.upload(session, after)
            known = state.compare(session, prints, against_kept=True)
            state.write(session, prints, trained_now, frozen, kept=known)
        rows = {k: (f, t) for k, f, t in warehouse.fetchall(read)}
        assert {k: f for k, (f, _) in rows.items()} == dict(after)
        assert {k: t for k, (_, t) in rows.items()} == {k: expected[k] for k in after.index}


def test_a_build_where_nothing_moved_keeps_the_state(warehouse):
    """The carried state when compare() found nothing new, changed or gone: every row as it was."""
    before = fingerprints(records())
    read = "select source_key, fingerprint, trained_fingerprint from person_match_scored_records"
    with warehouse.session() as session:
        state.write(session, state.upload(session, before), trained_now=True, frozen=False, kept=None)
        prints = state.upload(session, before)
        known = state.compare(session, prints, against_kept=True)
        state.write(session, prints, trained_now=False, frozen=False, kept=known)
    assert not (known.new or known.changed or known.gone)
    assert {k: (f, t) for k, f, t in warehouse.fetchall(read)} == {k: (v, v) for k, v in before.items()}
