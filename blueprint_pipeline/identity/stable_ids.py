"""Stable person ids: a person keeps their id across builds, through merges and splits.

Each build's connected components are matched to the previous registry (source key -> person id):
- a component none of whose records had an id gets a new one (derived from its smallest source
  key, so replays give the same ids);
- a component whose records carried one id keeps it;
- a component whose records carried several ids is a merge: the oldest id survives (earliest
  created, then smallest), the others are recorded as merged into it;
- an id whose records now fall into several components is a split: the component holding most of
  them keeps it (ties: the one with the smallest source key), the others get new ids, recorded as
  split from it.
Each creation, merge and split carries its cause (`records`, `model <version>`, `decision`:
docs/identity.md#stable-person-ids, `causes` below).
Pure pandas; the Dagster asset reads and writes the tables.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import pandas as pd

from blueprint_pipeline.identity.graph import components as connected
from blueprint_pipeline.identity.tables import isin, lookup

REGISTRY_COLUMNS = ["source_key", "person_id", "person_created_at"]
EVENT_COLUMNS = ["event", "person_id", "other_person_id", "happened_at", "cause"]
RECORDS, DECISION = "records", "decision"  # causes; a model's is "model <version>"
EDGE_COLUMNS = ["source_key", "other_key", "cause"]


def _empty(columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})


@dataclass(frozen=True)
class Evidence:
    """What joined this build's records and what kept them apart, to tell why ids merged or split.

    `edges`: every edge of the graph the components came from, with its cause (`records` for the
    deterministic edges and the model's matches of new or changed records; `model <version>` for the
    matches of a new model version; `decision` for reviewers' `same`). `apart`: the pairs reviewers
    decided `different`. `model_cause`: `model <version>` when this build's model is new to the
    clustering (every pair was re-scored by it), else None."""

    edges: pd.DataFrame = field(default_factory=lambda: _empty(EDGE_COLUMNS))
    apart: pd.DataFrame = field(default_factory=lambda: _empty(["source_key", "other_key"]))
    model_cause: str | None = None


def _rank(cause: str) -> int:
    """The more ordinary a cause, the lower: new data, then a new model, then a reviewer."""
    return 0 if cause == RECORDS else 2 if cause == DECISION else 1


def new_person_id(seed_key: str, taken: set[str]) -> str:
    digest = hashlib.sha256(seed_key.encode()).hexdigest()
    person_id = f"p_{digest[:16]}"
    n = 1
    while person_id in taken:  # a split part seeded by the key that once made the original id
        person_id = f"p_{hashlib.sha256(f'{seed_key}#{n}'.encode()).hexdigest()[:16]}"
        n += 1
    return person_id


@dataclass(frozen=True)
class HeldIds:
    """The person ids held beside an assignment's own: which of some ids are held (asked for a
    build's new ids only, so that a warehouse need not send every id of a million persons), and
    all of them (needed only when a new id is taken)."""

    among: Callable[[list[str]], set[str]]
    every: Callable[[], set[str]]

    @classmethod
    def of(cls, ids) -> HeldIds:
        """Held ids given in full (a Series or Index)."""
        values = pd.Series(list(ids), dtype=object)
        return cls(
            among=lambda asked: set(
                pd.Series(asked, dtype=object)[isin(pd.Series(asked, dtype=object), values)]
            ),
            every=lambda: set(values),
        )


def _new_ids(fresh: pd.Index, held: HeldIds) -> dict[str, str]:
    """A new id per fresh component key, in key order, none of them held nor given twice. The
    ids are hashed first and checked against `held` at once; only when one collides are they
    given one by one, against every held id."""
    keys = list(fresh)
    ids = [new_person_id(k, set()) for k in keys]
    clash = len(set(ids)) < len(ids) or bool(held.among(ids))
    if not clash:
        return dict(zip(keys, ids, strict=True))
    taken = held.every()
    out = {}
    for component_key in keys:
        out[component_key] = new_person_id(component_key, taken)
        taken.add(out[component_key])
    return out


@dataclass(frozen=True)
class Assignment:
    registry: pd.DataFrame  # REGISTRY_COLUMNS, one row per source key of this build
    events: pd.DataFrame  # EVENT_COLUMNS: created, merged (person -> survivor), split (old -> new)


def assign(
    components: pd.DataFrame,
    previous: pd.DataFrame,
    as_of: datetime,
    evidence: Evidence | None = None,
    held: HeldIds | None = None,
) -> Assignment:
    """`components`: source_key, component_key; `previous`: REGISTRY_COLUMNS (may be empty);
    `evidence`: what the components were made from (None: only deterministic edges, cause `records`);
    `held`: every person id the registry holds, when `previous` is only part of it (a new id
    must be none of them; default: `previous`' ids).

    The components and `previous` may be a part of the build's: components closed under the
    edges, with every previous row of the ids their records had (changed_components() in the
    asset): the answer for them is the whole build's (no id outside them moves).

    Vectorised with pandas (one pass of joins and group-bys, no loop over persons), so it runs on
    millions of records.
    """
    if not len(components):  # nothing to assign (a build in which no component changed)
        registry = _empty(REGISTRY_COLUMNS).astype({"person_created_at": "datetime64[us]"})
        return Assignment(registry, _empty(EVENT_COLUMNS))
    created = previous.drop_duplicates("person_id").set_index("person_id")["person_created_at"]
    joined = components.merge(previous[["source_key", "person_id"]], on="source_key", how="left")
    present = joined.dropna(subset=["person_id"])

    # Each previous id stays with the component holding most of its records (ties: smallest key).
    counts = present.groupby(["person_id", "component_key"], as_index=False).size()
    keepers = counts.sort_values(["person_id", "size", "component_key"], ascending=[True, False, True])
    keepers = keepers.drop_duplicates("person_id")[["person_id", "component_key"]]
    # In each component, the oldest kept id survives; the other kept ids merge into it.
    # (Mapping nothing onto creation times fails in pandas: a build of new records only has none.)
    keepers["created"] = (
        keepers["person_id"].map(created) if len(keepers) else pd.Series(dtype="datetime64[us]")
    )
    keepers = keepers.sort_values(["component_key", "created", "person_id"])
    survivors = keepers.drop_duplicates("component_key").set_index("component_key")["person_id"]
    merged = keepers[~isin(keepers["person_id"], survivors.values).to_numpy()]
    merged = merged.assign(other=merged["component_key"].map(survivors))

    # Components keeping no id get a new one; their records' old ids (if any) are splits.
    all_components = pd.Index(components["component_key"].unique()).sort_values()
    fresh = all_components.difference(survivors.index)
    fresh_ids = _new_ids(fresh, HeldIds.of(created.index) if held is None else held)
    assigned = pd.concat([survivors, pd.Series(fresh_ids, dtype=object)])
    split = present[isin(present["component_key"], fresh).to_numpy()][["person_id", "component_key"]]
    split = split.drop_duplicates()
    split = split.assign(other=split["component_key"].map(assigned))
    split_keys = set(split["component_key"])
    newly_created = [c for c in fresh if c not in split_keys]

    event_frames = [
        pd.DataFrame(
            {"event": "created", "person_id": [fresh_ids[c] for c in newly_created], "other_person_id": None}
        ),
        pd.DataFrame(
            {"event": "merged", "person_id": merged["person_id"], "other_person_id": merged["other"]}
        ),
        pd.DataFrame({"event": "split", "person_id": split["person_id"], "other_person_id": split["other"]}),
    ]
    events = (
        pd.concat([f for f in event_frames if len(f)], ignore_index=True)
        if any(len(f) for f in event_frames)
        else pd.DataFrame(columns=EVENT_COLUMNS)
    )
    events["happened_at"] = as_of
    events["cause"] = _causes(events, merged, split, present, components, evidence or Evidence())
    # Both parts as timestamps: an object-typed part made pandas box every timestamp (3 s at 1M).
    now = pd.Series(pd.to_datetime([as_of] * len(fresh_ids)), index=list(fresh_ids.values()))
    created_at = pd.concat([pd.to_datetime(created), now]) if len(created) else now

    registry = components[["source_key"]].copy()
    registry["person_id"] = lookup(components["component_key"], assigned)
    registry["person_created_at"] = pd.to_datetime(lookup(registry["person_id"], created_at))
    return Assignment(
        registry.sort_values("source_key", ignore_index=True)[REGISTRY_COLUMNS],
        events[EVENT_COLUMNS].sort_values(["event", "person_id"], ignore_index=True),
    )


def _causes(
    events: pd.DataFrame,
    merged: pd.DataFrame,
    split: pd.DataFrame,
    present: pd.DataFrame,
    components: pd.DataFrame,
    evidence: Evidence,
) -> pd.Series:
    """Each event's cause, in `events`' order (created, merged, split).

    created: `records` (a person none of whose records had an id is new data).
    merged: the most ordinary cause sufficient for it: `records` if the records edges alone join the
    two ids' records, else the model's if those and the model's matches do, else `decision`.
    split: `decision` if a `different` pair now separates two records of the old id, else the new
    model's when this build brought one, else `records` (a changed record lost its edge).
    """
    cause = pd.Series(RECORDS, index=events.index, dtype=object)
    is_merge = (events["event"] == "merged").to_numpy()
    if is_merge.any():
        cause[is_merge] = _merge_causes(merged, present, components, evidence).to_numpy()
    is_split = (events["event"] == "split").to_numpy()
    if is_split.any():
        cause[is_split] = _split_causes(split, present, components, evidence).to_numpy()
    return cause


def _merge_causes(merged, present, components, evidence: Evidence) -> pd.Series:
    """Per merged id (in `merged`'s order): a record of it and a record of its survivor, both in
    the component they now share, tested for being joined by ever less ordinary edges."""
    first = present.groupby(["person_id", "component_key"])["source_key"].min()
    left = [first[(p, c)] for p, c in zip(merged["person_id"], merged["component_key"], strict=True)]
    right = [first[(o, c)] for o, c in zip(merged["other"], merged["component_key"], strict=True)]
    edges = evidence.edges
    ranks = edges["cause"].map(_rank)
    layers = sorted({(_rank(c), c) for c in edges["cause"]} | {(0, RECORDS)})
    found = pd.Series(None, index=range(len(merged)), dtype=object)
    for rank, label in dict((r, (r, c)) for r, c in layers).values():
        joined = connected(components["source_key"], edges[(ranks <= rank).to_numpy()])
        component = joined.set_index("source_key")["component_key"]
        together = component.reindex(left).to_numpy() == component.reindex(right).to_numpy()
        found[found.isna().to_numpy() & together] = label
    return found.fillna(DECISION if (edges["cause"] == DECISION).any() else RECORDS)


def _split_causes(split, present, components, evidence: Evidence) -> pd.Series:
    """Per split (in `split`'s order): `decision` when a `different` pair parts two of the old id's
    records, else the new model's, else `records`."""
    old = present.set_index("source_key")["person_id"]
    now = components.set_index("source_key")["component_key"]
    apart = evidence.apart
    same_old = old.reindex(apart["source_key"]).to_numpy() == old.reindex(apart["other_key"]).to_numpy()
    parted = now.reindex(apart["source_key"]).to_numpy() != now.reindex(apart["other_key"]).to_numpy()
    decided = set(old.reindex(apart["source_key"])[same_old & parted])
    fallback = evidence.model_cause or RECORDS
    return pd.Series([DECISION if p in decided else fallback for p in split["person_id"]], dtype=object)
