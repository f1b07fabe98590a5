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
    """`components`: source_key, component_key; `previous`: REGISTRY_COLUMNS (may be empty)."""
    created = previous.drop_duplicates("person_id").set_index("person_id")["person_created_at"].to_dict()
    taken = set(created)
    joined = components.merge(previous[["source_key", "person_id"]], on="source_key", how="left")

    # Splits: an id present in several components stays with the one holding most of its records.
    keeper: dict[str, str] = {}
    events: list[tuple] = []
    present = joined.dropna(subset=["person_id"])
    counts = present.groupby(["person_id", "component_key"]).size().reset_index(name="n")
    for person_id, group in counts.groupby("person_id"):
        ordered = group.sort_values(["n", "component_key"], ascending=[False, True])
        keeper[person_id] = ordered["component_key"].iloc[0]
    assigned: dict[str, str] = {}
    for component_key, group in joined.groupby("component_key", sort=True):
        ids = sorted(set(group["person_id"].dropna()))
        kept = [i for i in ids if keeper[i] == component_key]
        if kept:
            survivor = min(kept, key=lambda i: (created[i], i))
            for other in kept:
                if other != survivor:
                    events.append(("merged", other, survivor, as_of))
            assigned[component_key] = survivor
        else:
            person_id = new_person_id(component_key, taken)
            taken.add(person_id)
            created[person_id] = as_of
            assigned[component_key] = person_id
            if ids:  # records that belonged to another person: a split from it
                events += [("split", old, person_id, as_of) for old in ids]
            else:
                events.append(("created", person_id, None, as_of))
    registry = components[["source_key"]].copy()
    registry["person_id"] = components["component_key"].map(assigned)
    registry["person_created_at"] = registry["person_id"].map(created)
    return Assignment(
        registry.sort_values("source_key", ignore_index=True)[REGISTRY_COLUMNS],
        pd.DataFrame(events, columns=EVENT_COLUMNS),
    )
