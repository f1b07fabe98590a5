"""Stable person ids, the pure function: new, kept, merged (older survives), split (larger part keeps)."""

from __future__ import annotations

from datetime import datetime

import pandas as pd

from blueprint_pipeline.identity.stable_ids import REGISTRY_COLUMNS, assign

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
