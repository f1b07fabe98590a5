"""The registry assigns ids only to the components that changed (identity/registry.py), on both
warehouses, and gets what assigning every record gets.

Hand-worked case. The last build's registry (person: records, created):
  p1: a, b (T1)    p2: c, d (T1)    p3: f (T2)    p4: g (T1)    p5: h, i (T1)    p6: j (T1)
  p7: l (T1)
This build's components: {a, b} {c} {d, e} {f, g} {h} {k} {l}; i and j are gone, e and k are new.
Edges: a-b, d-e (deterministic), f-g (the model's match); reviewers decided c-d `different`.
  - {a, b} and {l} are exactly p1's and p7's records: unchanged, not assigned again.
  - p2 splits: c and {d, e} hold one of its records each; the tie goes to the smaller component
    key, c keeps p2; {d, e} gets a new id (seeded by d), recorded `split p2 -> it`, cause
    `decision` (c-d was decided apart).
  - {f, g}: p3 and p4 meet; p4 is older, it survives: `merged p3 -> p4`, cause `records`.
  - {h}: p5 lost i; h keeps p5, no event.   - j's row goes; p6 leaves without an event.
  - {k}: a new id (seeded by k), `created`.
Changed components: c, d, f, h, k; records assigned: c, d, e, f, g, h, k (7).
"""

from __future__ import annotations

from datetime import datetime

import pandas as pd

from blueprint_pipeline.identity.registry import assign_all, assign_changed
from blueprint_pipeline.identity.stable_ids import REGISTRY_COLUMNS, Evidence, HeldIds, assign, new_person_id
from blueprint_pipeline.identity.stable_ids import _new_ids as new_ids

T1, T2, NOW = datetime(2026, 1, 1), datetime(2026, 2, 1), datetime(2026, 3, 1)
PREVIOUS = [
    ("a", "p1", T1), ("b", "p1", T1), ("c", "p2", T1), ("d", "p2", T1), ("f", "p3", T2),
    ("g", "p4", T1), ("h", "p5", T1), ("i", "p5", T1), ("j", "p6", T1), ("l", "p7", T1),
]  # fmt: skip
COMPONENTS = dict(zip("abcdefghkl", "aacddffhkl", strict=True))  # key -> component
EDGES = [("a", "b"), ("d", "e")]
PAIRS = [("f", "g", "match", "records"), ("c", "d", "different", "decision")]


def _tables(session) -> None:
    for name, ddl, rows in (
        ("person_registry", "source_key varchar, person_id varchar, person_created_at timestamp", PREVIOUS),
        ("int_identity_components", "source_key varchar, component_key varchar", list(COMPONENTS.items())),
        ("int_identity_edges", "source_key varchar, other_key varchar", EDGES),
        ("int_identity_match_pairs", "source_key varchar, other_key varchar, outcome varchar, cause varchar", PAIRS),
    ):  # fmt: skip
        session.execute(f"drop table if exists {name}")
        session.execute(f"create table {name} ({ddl})")
        for row in rows:
            values = ", ".join(f"$v{i}" for i in range(len(row)))
            session.execute(f"insert into {name} values ({values})", {f"v{i}": v for i, v in enumerate(row)})


def test_only_changed_components_are_assigned_and_the_answer_is_the_whole_builds(warehouse):
    with warehouse.transaction() as session:
        _tables(session)
        result, assigned = assign_changed(session, NOW)
    registry = dict(warehouse.fetchall("select source_key, person_id from person_registry"))
    d_id, k_id = new_person_id("d", set()), new_person_id("k", set())
    assert registry == {
        "a": "p1", "b": "p1", "c": "p2", "d": d_id, "e": d_id, "f": "p4", "g": "p4", "h": "p5",
        "k": k_id, "l": "p7",
    }  # fmt: skip
    assert assigned == 7
    events = sorted(
        tuple(e) for e in result.events[["event", "person_id", "other_person_id", "cause"]].values
    )
    assert events == [
        ("created", k_id, None, "records"),
        ("merged", "p3", "p4", "records"),
        ("split", "p2", d_id, "decision"),
    ]
    created = dict(warehouse.fetchall("select source_key, person_created_at from person_registry"))
    assert created["f"] == created["g"] == T1 and created["k"] == created["d"] == NOW and created["h"] == T1

    # The same as assigning every record, row for row (assign() on the whole build).
    whole = assign(
        pd.DataFrame(COMPONENTS.items(), columns=["source_key", "component_key"]),
        pd.DataFrame(PREVIOUS, columns=REGISTRY_COLUMNS),
        NOW,
        Evidence(
            pd.DataFrame([(*e, "records") for e in EDGES] + [("f", "g", "records")],
                         columns=["source_key", "other_key", "cause"]),
            pd.DataFrame([("c", "d")], columns=["source_key", "other_key"]),
        ),
    )  # fmt: skip
    rows = sorted((k, p, pd.Timestamp(t)) for k, p, t in warehouse.fetchall("select * from person_registry"))
    assert rows == sorted(whole.registry.itertuples(index=False, name=None))
    assert result.events.drop(columns="happened_at").equals(whole.events.drop(columns="happened_at"))


def test_a_second_build_with_nothing_changed_assigns_nothing(warehouse):
    with warehouse.transaction() as session:
        _tables(session)
        assign_changed(session, NOW)
    before = sorted(warehouse.fetchall("select * from person_registry"))
    with warehouse.transaction() as session:
        result, assigned = assign_changed(session, NOW)
    assert assigned == 0 and result.events.empty
    assert sorted(warehouse.fetchall("select * from person_registry")) == before


def test_a_new_id_held_by_another_person_is_not_given_again():
    """k's id is already held (by a person whose records are elsewhere): k gets the next one."""
    taken = new_person_id("k", set())
    given = new_ids(pd.Index(["k", "m"]), HeldIds.of(pd.Series([taken, "p1"])))
    assert given == {"k": new_person_id("k", {taken}), "m": new_person_id("m", set())}
    assert given["k"] != taken


def test_a_new_id_held_in_the_registry_is_not_given_again(warehouse):
    """The same through the warehouse, which is asked only for the new ids: l's person holds the
    id k would be given first (p7 renamed so), so k gets the next one, as assigning every record
    does."""
    taken = new_person_id("k", set())
    with warehouse.transaction() as session:
        _tables(session)
        session.execute("update person_registry set person_id = $t where person_id = 'p7'", {"t": taken})
        assign_changed(session, NOW)
    registry = dict(warehouse.fetchall("select source_key, person_id from person_registry"))
    assert registry["l"] == taken and registry["k"] == new_person_id("k", {taken})
    assert len(set(registry.values())) == 7  # p1, p2, p4, p5, l's, d's and k's new one


def test_a_build_of_new_records_only_creates_their_persons(warehouse):
    """The registry holds a, b (p1); this build adds x and y as one new person, nothing else
    changed: only {x, y} is assigned, a new id seeded by x, one `created` event."""
    with warehouse.transaction() as session:
        _tables(session)
        session.execute("delete from person_registry where source_key <> 'a' and source_key <> 'b'")
        session.execute("delete from int_identity_components")
        for key, component in (("a", "a"), ("b", "a"), ("x", "x"), ("y", "x")):
            session.execute("insert into int_identity_components values ($k, $c)", {"k": key, "c": component})
        result, assigned = assign_changed(session, NOW)
    assert assigned == 2
    x_id = new_person_id("x", set())
    assert dict(warehouse.fetchall("select source_key, person_id from person_registry")) == {
        "a": "p1", "b": "p1", "x": x_id, "y": x_id,
    }  # fmt: skip
    assert [tuple(e) for e in result.events[["event", "person_id", "cause"]].values] == [
        ("created", x_id, "records")
    ]


def test_the_first_registry_is_written_by_sql_as_assign_would_give_it(warehouse):
    """No registry yet: every component is a new person, its id seeded by its key, one
    `created` event each; the same rows and events as assign() on every record (the first
    build's registry is written in the warehouse, registry._first_ids). A second build with a
    registry goes through assign() and changes nothing."""
    with warehouse.transaction() as session:
        _tables(session)
        session.execute("drop table person_registry")
        result, assigned = assign_all(session, NOW)
    ids = {c: new_person_id(c, set()) for c in ("a", "c", "d", "f", "h", "k", "l")}
    rows = sorted(warehouse.fetchall("select source_key, person_id, person_created_at from person_registry"))
    assert rows == [(k, ids[c], NOW) for k, c in sorted(COMPONENTS.items())]
    assert assigned == 10
    assert result.events[["event", "person_id", "other_person_id", "cause"]].values.tolist() == [
        ["created", i, None, "records"] for i in sorted(ids.values())
    ]
    whole = assign(pd.DataFrame(COMPONENTS.items(), columns=["source_key", "component_key"]),
                   pd.DataFrame(columns=REGISTRY_COLUMNS), NOW)  # fmt: skip
    assert rows == sorted((k, p, t.to_pydatetime()) for k, p, t in whole.registry.itertuples(index=False))
    columns = ["event", "person_id", "other_person_id", "cause"]
    assert result.events[columns].values.tolist() == whole.events[columns].values.tolist()
    assert {pd.Timestamp(t) for t in result.events["happened_at"]} == {pd.Timestamp(NOW)}

    with warehouse.transaction() as session:
        again, assigned = assign_all(session, NOW)
    assert again.events.empty and assigned == 10
    assert (
        sorted(warehouse.fetchall("select source_key, person_id, person_created_at from person_registry"))
        == rows
    )
