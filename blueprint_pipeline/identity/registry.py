"""The person registry in the warehouse: stable ids for a build's components (stable_ids.assign),
for every record or only for the components that changed since the last build."""

from __future__ import annotations

from datetime import datetime

import pandas as pd
import pyarrow as pa

from blueprint_pipeline.identity.stable_ids import (
    EVENT_COLUMNS,
    RECORDS,
    REGISTRY_COLUMNS,
    Assignment,
    Evidence,
    HeldIds,
    assign,
    new_person_id,
)
from blueprint_pipeline.identity.tables import text_array
from blueprint_pipeline.warehouse import Session

# The components a build must assign ids to: all but those whose records are exactly one
# previous person's (that person keeps its id and its rows: assign() would give them again).
_CHANGED = """
create temporary table {name} as
with joined as (
    select c.source_key, c.component_key, r.person_id
    from int_identity_components as c left join person_registry as r on r.source_key = c.source_key
),
held as (select person_id, count(*) as n from person_registry group by person_id),
per_component as (
    select component_key, count(*) as n, count(person_id) as known,
        count(distinct person_id) as ids, min(person_id) as person_id
    from joined group by component_key
)
select p.component_key from per_component as p left join held as h on h.person_id = p.person_id
where p.known < p.n or p.ids <> 1 or h.n <> p.n
"""
CHANGED = "person_registry__changed"
_IDS = "person_registry__first_ids"  # a temporary table: the first build's component -> id
_ASKED = "person_registry__asked"  # a temporary table: new ids to check against the held ones
_REGISTRY_TYPES = "source_key varchar, person_id varchar, person_created_at timestamp"
# The source keys of the changed components.
_IN_CHANGED = (
    f"(select c.source_key from int_identity_components as c inner join {CHANGED} as k "
    "on k.component_key = c.component_key)"
)


def _held_ids(session: Session) -> HeldIds:
    """The registry's ids, asked in the warehouse for a build's new ids (reading all 930k ids at
    1M persons took 0.3 s of a 1% build), read whole only when one of them is taken."""

    def among(asked: list[str]) -> set[str]:
        if not asked:
            return set()
        with session.dropped_after(_ASKED):
            session.temporary_table(_ASKED, pd.DataFrame({"person_id": asked}, dtype=object))
            found = session.fetchall(
                "select distinct person_id from person_registry "
                f"where person_id in (select person_id from {_ASKED})"
            )
        return {row[0] for row in found}

    def every() -> set[str]:
        return set(session.fetch_df("select distinct person_id from person_registry")["person_id"])

    return HeldIds(among, every)


def _evidence(session: Session, within: str | None = None) -> Evidence:
    """The graph's edges with their causes, as int_identity_components read them, and the pairs
    reviewers keep apart (stable_ids.Evidence); only those from the source keys `within` (a
    subquery) when given (an edge never leaves its component)."""
    where = f"source_key in {within}" if within else "true"
    edges = session.fetch_df(
        "select * from (select source_key, other_key, cast($records as varchar) as cause "
        "from int_identity_edges union all select source_key, other_key, cause "
        "from int_identity_match_pairs where outcome in ('match', 'same')) as e where " + where,
        {"records": RECORDS},
    )
    apart = session.fetch_df(
        "select source_key, other_key from int_identity_match_pairs where outcome = 'different' and " + where
    )
    model = session.fetch_df("select distinct cause from int_identity_match_pairs where cause like 'model %'")
    return Evidence(edges, apart, model["cause"].iloc[0] if len(model) else None)


def _first_ids(session: Session, as_of: datetime) -> tuple[Assignment, int] | None:
    """The first registry (no id held yet): every component is a new person, its id derived from
    its key (stable_ids.new_person_id) and written by SQL, not 1.78M records through assign().
    None when two keys' ids collide (assign() then gives the second another)."""
    keys = session.fetch_arrow("select distinct component_key from int_identity_components")["component_key"]
    keys = keys.to_pylist()
    ids = [new_person_id(k, set()) for k in keys]
    if len(set(ids)) < len(ids):
        return None
    session.execute(f"drop table if exists {_IDS}")
    session.execute(f"create temporary table {_IDS} (component_key varchar, person_id varchar)")
    with session.dropped_after(_IDS):
        session.insert_from_local_query(
            _IDS, ["component_key", "person_id"], "select * from ids",
            frames={"ids": pa.table({"component_key": text_array(keys), "person_id": text_array(ids)})},
        )  # fmt: skip
        session.execute("drop table if exists person_registry")
        session.execute(f"create table person_registry ({_REGISTRY_TYPES})")
        session.execute(
            "insert into person_registry select c.source_key, i.person_id, $as_of "
            f"from int_identity_components as c inner join {_IDS} as i on i.component_key = c.component_key "
            "order by c.source_key",
            {"as_of": as_of},
        )
    events = pd.DataFrame(
        {"event": "created", "person_id": pd.Series(sorted(ids), dtype=object), "other_person_id": None,
         "happened_at": as_of, "cause": RECORDS}
    )  # fmt: skip
    assigned = int(session.scalar("select count(*) from person_registry"))
    return Assignment(pd.DataFrame(columns=REGISTRY_COLUMNS), events[EVENT_COLUMNS]), assigned


def assign_all(session: Session, as_of: datetime) -> tuple[Assignment, int]:
    """Ids for every record, the registry written anew; with the records assigned. On the first
    build the registry is written by SQL (_first_ids) and the assignment's is empty."""
    held = session.table_exists("person_registry") and session.scalar("select count(*) from person_registry")
    if not held and (first := _first_ids(session, as_of)) is not None:
        return first
    found = session.fetch_df("select source_key, component_key from int_identity_components")
    previous = (
        session.fetch_df("select source_key, person_id, person_created_at from person_registry")
        if session.table_exists("person_registry")
        else pd.DataFrame(columns=REGISTRY_COLUMNS)
    )
    result = assign(found, previous, as_of, _evidence(session))
    session.replace_table("person_registry", result.registry)
    return result, len(result.registry)


def assign_changed(session: Session, as_of: datetime) -> tuple[Assignment, int]:
    """Ids for the changed components only (_CHANGED), written over their rows; the rows of
    records gone are deleted. The same registry and events as assign_all, in time proportional
    to what changed (a 1% build at 1M persons: thousands of components, not 1.76M records)."""
    session.execute(f"drop table if exists {CHANGED}")
    session.execute(_CHANGED.format(name=CHANGED))
    found = session.fetch_df(
        "select c.source_key, c.component_key from int_identity_components as c "
        f"inner join {CHANGED} as k on k.component_key = c.component_key"
    )
    previous = session.fetch_df(
        "select source_key, person_id, person_created_at from person_registry where person_id in "
        f"(select r.person_id from person_registry as r where r.source_key in {_IN_CHANGED})"
    )
    result = assign(found, previous, as_of, _evidence(session, _IN_CHANGED), _held_ids(session))
    session.execute(
        "delete from person_registry where source_key in " + _IN_CHANGED + " or not exists "
        "(select 1 from int_identity_components as c where c.source_key = person_registry.source_key)"
    )
    if len(result.registry):
        session.insert_from_local_query(
            "person_registry", REGISTRY_COLUMNS, "select * from r", frames={"r": result.registry}
        )
    session.execute(f"drop table {CHANGED}")
    return result, len(found)
