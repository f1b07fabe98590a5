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
Pure pandas; the Dagster asset reads and writes the tables.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

import pandas as pd

REGISTRY_COLUMNS = ["source_key", "person_id", "person_created_at"]
EVENT_COLUMNS = ["event", "person_id", "other_person_id", "happened_at"]


def new_person_id(seed_key: str, taken: set[str]) -> str:
    digest = hashlib.sha256(seed_key.encode()).hexdigest()
    person_id = f"p_{digest[:16]}"
    n = 1
    while person_id in taken:  # a split part seeded by the key that once made the original id
        person_id = f"p_{hashlib.sha256(f'{seed_key}#{n}'.encode()).hexdigest()[:16]}"
        n += 1
    return person_id


@dataclass(frozen=True)
class Assignment:
    registry: pd.DataFrame  # REGISTRY_COLUMNS, one row per source key of this build
    events: pd.DataFrame  # EVENT_COLUMNS: created, merged (person -> survivor), split (old -> new)


def assign(components: pd.DataFrame, previous: pd.DataFrame, as_of: datetime) -> Assignment:
    """`components`: source_key, component_key; `previous`: REGISTRY_COLUMNS (may be empty).

    Vectorised with pandas (one pass of joins and group-bys, no loop over persons), so it runs on
    millions of records.
    """
    created = previous.drop_duplicates("person_id").set_index("person_id")["person_created_at"]
    joined = components.merge(previous[["source_key", "person_id"]], on="source_key", how="left")
    present = joined.dropna(subset=["person_id"])

    # Each previous id stays with the component holding most of its records (ties: smallest key).
    counts = present.groupby(["person_id", "component_key"], as_index=False).size()
    keepers = counts.sort_values(["person_id", "size", "component_key"], ascending=[True, False, True])
    keepers = keepers.drop_duplicates("person_id")[["person_id", "component_key"]]
    # In each component, the oldest kept id survives; the other kept ids merge into it.
    keepers["created"] = keepers["person_id"].map(created)
    keepers = keepers.sort_values(["component_key", "created", "person_id"])
    survivors = keepers.drop_duplicates("component_key").set_index("component_key")["person_id"]
    merged = keepers[~keepers["person_id"].isin(survivors.values)]
    merged = merged.assign(other=merged["component_key"].map(survivors))

    # Components keeping no id get a new one; their records' old ids (if any) are splits.
    all_components = pd.Index(components["component_key"].unique()).sort_values()
    fresh = all_components.difference(survivors.index)
    taken = set(created.index)
    fresh_ids = {}
    for component_key in fresh:
        person_id = new_person_id(component_key, taken)
        taken.add(person_id)
        fresh_ids[component_key] = person_id
    assigned = pd.concat([survivors, pd.Series(fresh_ids, dtype=object)])
    split = present[present["component_key"].isin(fresh)][["person_id", "component_key"]].drop_duplicates()
    split = split.assign(other=split["component_key"].map(assigned))
    newly_created = [c for c in fresh if c not in set(split["component_key"])]

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
    created_at = pd.concat([created, pd.Series(as_of, index=list(fresh_ids.values()), dtype=object)])

    registry = components[["source_key"]].copy()
    registry["person_id"] = components["component_key"].map(assigned)
    registry["person_created_at"] = pd.to_datetime(registry["person_id"].map(created_at))
    return Assignment(
        registry.sort_values("source_key", ignore_index=True)[REGISTRY_COLUMNS],
        events[EVENT_COLUMNS].sort_values(["event", "person_id"], ignore_index=True),
    )
