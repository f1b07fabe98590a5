"""Incremental matching's plan and retraining policy, the pure functions (incremental.py), worked by
hand on five records a..e."""

from __future__ import annotations

import pandas as pd

from blueprint_pipeline.config.identity import PersonMatchingPolicy
from blueprint_pipeline.identity.matching.incremental import (
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


def previous_of(frame: pd.DataFrame, pairs: list[tuple[str, str]], version: str = "v1") -> Previous:
    prints = fingerprints(frame)
    state = pd.DataFrame(
        {"source_key": prints.index, "fingerprint": prints.values, "trained_fingerprint": prints.values}
    )
    raw = pd.DataFrame(
        {
            "source_key": [a for a, _ in pairs],
            "other_key": [b for _, b in pairs],
            "match_weight": 1.0,
            "match_probability": 0.9,
            "contributions": "[]",
        }
    )
    scoring = {
        "model_version": version,
        "review_floor": POLICY.review_floor,
        "mode": "full",
        "origin": "trained",
        "trained_with": training_key(POLICY),
    }
    return Previous(state, raw, scoring, model={"trained": True}, model_records=len(frame))


def test_fingerprints_change_with_a_compared_field_only():
    before, after = fingerprints(records()), fingerprints(records(b={"email": "b2@x.com"}))
    assert (before == after).to_dict() == {"a": True, "b": False, "c": True, "d": True}
    assert fingerprints(records()).equals(before)  # the same records, the same prints


def test_an_incremental_plan_rescores_pairs_of_new_changed_and_gone_records():
    """Last build: a..d, pairs a-b, c-d, a-c. Now b changed, d gone, e new: touched {b, e};
    pairs with b or d dropped; a-c kept."""
    last = previous_of(records(), [("a", "b"), ("c", "d"), ("a", "c")])
    now = records(b={"email": "b2@x.com"}, e={"first_name": "Eve", "last_name": "Lee", "email": "e@x.com"})
    now = now[now["unique_id"] != "d"]
    chosen = plan(fingerprints(now), last, "v1", POLICY, full_refresh=False)
    assert (chosen.mode, chosen.touched) == ("incremental", {"b", "e"})
    assert (chosen.records_new, chosen.records_changed, chosen.records_gone) == (1, 1, 1)
    assert list(zip(chosen.kept["source_key"], chosen.kept["other_key"], strict=True)) == [("a", "c")]
    assert plan(fingerprints(now), last, "v2", POLICY, False).reason == "model v1 -> v2"
    assert plan(fingerprints(now), last, "v1", POLICY, True).mode == "full"


def test_the_model_is_retrained_past_the_retrain_share():
    """Trained on a..d (4 records). One changed record is 25%: reused (retrain_share 0.25); one
    changed and one gone is 50%: retrained; a new record adds to the drift too."""
    last = previous_of(records(), [])
    one = records(b={"email": "b2@x.com"})
    assert drift(fingerprints(one), last) == 0.25
    assert reusable(last, POLICY, fingerprints(one), full_refresh=False) == ""
    two = one[one["unique_id"] != "d"]
    assert drift(fingerprints(two), last) == 0.5
    assert reusable(last, POLICY, fingerprints(two), False).startswith("50.0% of the records")
    assert reusable(last, POLICY, fingerprints(records()), True) == "full refresh"
    other = PersonMatchingPolicy(retrain_share=0.25, seed=8)
    assert reusable(last, other, fingerprints(records()), False) == "settings, seed or sample size changed"
