"""Stable person ids, the pure function: new, kept, merged (older survives), split (larger part keeps)."""

from __future__ import annotations

from datetime import datetime

import pandas as pd

from blueprint_pipeline.identity.stable_ids import REGISTRY_COLUMNS, Evidence, assign

T1, T2, T3 = datetime(2026, 1, 1), datetime(2026, 2, 1), datetime(2026, 3, 1)


def comps(pairs: dict[str, str]) -> pd.DataFrame:
    return pd.DataFrame({"source_key": list(pairs), "component_key": list(pairs.values())})


def events(result) -> list[tuple]:
    return [tuple(r[:3]) for r in result.events.itertuples(index=False)]


def test_new_then_kept_then_merged_then_split():
    first = assign(comps({"a": "a", "b": "a", "c": "c"}), pd.DataFrame(columns=REGISTRY_COLUMNS), T1)
    ids = dict(zip(first.registry.source_key, first.registry.person_id, strict=True))
    assert ids["a"] == ids["b"] != ids["c"]
    assert [e[0] for e in events(first)] == ["created", "created"]

    again = assign(comps({"a": "a", "b": "a", "c": "c"}), first.registry, T2)
    assert again.registry.equals(first.registry) and again.events.empty

    # d is new (created at T2); then d and c join: c's id is older, it survives.
    with_d = assign(comps({"a": "a", "b": "a", "c": "c", "d": "d"}), first.registry, T2)
    d_id = with_d.registry.set_index("source_key").loc["d", "person_id"]
    merged = assign(comps({"a": "a", "b": "a", "c": "c", "d": "c"}), with_d.registry, T3)
    after = dict(zip(merged.registry.source_key, merged.registry.person_id, strict=True))
    assert after["c"] == after["d"] == ids["c"]
    assert events(merged) == [("merged", d_id, ids["c"])]

    # a, b, e were one person; b and e split off together: the part with more records (b, e)
    # keeps the id, a gets a new one.
    grown = assign(comps({"a": "a", "b": "a", "e": "a"}), first.registry, T2)
    split = assign(comps({"a": "a", "b": "b", "e": "b"}), grown.registry, T3)
    now = dict(zip(split.registry.source_key, split.registry.person_id, strict=True))
    assert now["b"] == now["e"] == ids["a"]
    assert now["a"] != ids["a"]
    assert events(split) == [("split", ids["a"], now["a"])]


def edges(*triples: tuple[str, str, str]) -> pd.DataFrame:
    return pd.DataFrame(triples, columns=["source_key", "other_key", "cause"], dtype=object)


def test_a_merge_is_put_on_the_most_ordinary_cause_that_makes_it():
    """Five persons a..e at T1 (ids: the hash of their key; by id, d < c < b < e < a). At T2 a-b
    join by a deterministic edge, c-d by the new model's match and a reviewer's `same`, d-e by a
    decision only; x is new. The survivors are the smallest ids, b and d. a into b: records;
    c into d: the model (the decision on c-d was not needed); e into d: the decision (d and e meet
    only through the decided pair); x created from records."""
    first = assign(comps({k: k for k in "abcde"}), pd.DataFrame(columns=REGISTRY_COLUMNS), T1)
    ids = dict(zip(first.registry.source_key, first.registry.person_id, strict=True))
    assert sorted(ids, key=ids.get) == ["d", "c", "b", "e", "a"]
    evidence = Evidence(
        edges=edges(
            ("a", "b", "records"), ("c", "d", "model v2"), ("c", "d", "decision"), ("d", "e", "decision")
        ),
        model_cause="model v2",
    )
    joined = comps({"a": "a", "b": "a", "c": "c", "d": "c", "e": "c", "x": "x"})
    later = assign(joined, first.registry, T2, evidence)
    x = later.registry.set_index("source_key").loc["x", "person_id"]
    assert {(e.event, e.person_id, e.other_person_id, e.cause) for e in later.events.itertuples()} == {
        ("merged", ids["a"], ids["b"], "records"),
        ("merged", ids["c"], ids["d"], "model v2"),
        ("merged", ids["e"], ids["d"], "decision"),
        ("created", x, None, "records"),
    }


def test_a_split_is_put_on_a_decision_then_on_a_new_model_then_on_records():
    """p holds a, b, c; q holds d, e. At T2 c leaves p: a `different` pair (b, c) parts them, so
    the split is the decision's even with a new model. e leaves q with no decision between them:
    the new model's; without a new model it would be the records'."""
    first = assign(
        comps({"a": "a", "b": "a", "c": "a", "d": "d", "e": "d"}), pd.DataFrame(columns=REGISTRY_COLUMNS), T1
    )
    ids = dict(zip(first.registry.source_key, first.registry.person_id, strict=True))
    apart = pd.DataFrame({"source_key": ["b"], "other_key": ["c"]}, dtype=object)
    parted = comps({"a": "a", "b": "a", "c": "c", "d": "d", "e": "e"})
    with_model = assign(parted, first.registry, T2, Evidence(apart=apart, model_cause="model v2"))
    assert {(e.person_id, e.cause) for e in with_model.events.itertuples()} == {
        (ids["a"], "decision"),
        (ids["d"], "model v2"),
    }
    without = assign(parted, first.registry, T2, Evidence(apart=apart))
    assert {(e.person_id, e.cause) for e in without.events.itertuples()} == {
        (ids["a"], "decision"),
        (ids["d"], "records"),
    }
