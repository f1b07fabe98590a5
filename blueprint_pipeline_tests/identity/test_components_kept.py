"""The identity graph kept between builds (identity/matching/components.py), on both warehouses:
the deterministic components, the pairs they leave apart (int_identity_match_pairs) and the
final components are brought up to date where nodes, edges, scored pairs or decisions moved, and
each build's tables equal the whole computation, worked out here by components() in Python
(an independent path: no warehouse, no kept state).

Hand-worked, merge threshold 0.9:
  build 1: nodes a1 a2 b1 b2 c1; edges a1-a2, b1-b2; scored pairs a2-b1 (0.95, apart: a match),
           a1-a2 (0.99, joined by the edge: not kept), c1-b2 (0.85: review).
           Deterministic {a1 a2} a1, {b1 b2} b1, c1; final {a1 a2 b1 b2} a1, c1.
  build 2: the edge a2-b1 arrives (a1-a2-b1-b2 one deterministic component): the match a2-b1 is
           now joined by it and leaves the pairs; c1-b2 is decided `same`: final {all} a1.
  build 3: a2 is gone (its edges and pairs with it): {a1} and {b1 b2} apart again; c1-b2 still
           `same`: final a1 alone, {b1 b2 c1} b1.
"""

from __future__ import annotations

import random

import pandas as pd
import pytest

from blueprint_pipeline.config.identity import PersonMatchingPolicy
from blueprint_pipeline.identity.graph import components as pure_components
from blueprint_pipeline.identity.matching import components, pairs
from blueprint_pipeline.identity.matching.incremental import SCORED_PAIRS
from blueprint_pipeline.identity.matching.score import SHOWN

NODES, EDGES = "select source_key from graph_kept_nodes", "select source_key, other_key from graph_kept_edges"
MATCHES = f"select source_key, other_key from {pairs.MATCH_PAIRS} where outcome in ('match', 'same')"
FINAL, RECORDS = "graph_kept_components", "graph_kept_records"
POLICY = PersonMatchingPolicy(merge_threshold=0.9, review_floor=0.8)


@pytest.fixture(autouse=True)
def _never_whole(monkeypatch):
    """These small graphs change by more than WHOLE_ABOVE each build: without this every build
    would be computed whole and the kept path never checked."""
    monkeypatch.setattr(components, "WHOLE_ABOVE", float("inf"))


def _pairs(rows) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["source_key", "other_key"], dtype=object)


def _build(warehouse, nodes, edges, scored, out, decided=()) -> dict:
    """One build: the graph's tables, the scored pairs (source_key, other_key, probability) as
    keep() leaves them, `out` the records whose pairs changed (None: a full scoring), `decided`
    (source_key, other_key, decision). Checks every table against the whole computation and
    returns the kept path's answers."""
    nodes = sorted(set(nodes))
    scored_frame = pd.DataFrame(
        [(a, b, p * 10, p, "[]") for a, b, p in scored],
        columns=["source_key", "other_key", "match_weight", "match_probability", "contributions"],
    )
    decisions = pd.DataFrame(
        [(a, b, d, "tester") for a, b, d in decided],
        columns=["source_key", "other_key", "decision", "decided_by"],
    )
    with warehouse.transaction() as session:
        session.replace_table("graph_kept_nodes", pd.DataFrame({"source_key": nodes}, dtype=object))
        session.replace_table("graph_kept_edges", _pairs(edges))
        session.replace_table(
            RECORDS, pd.DataFrame({"unique_id": nodes, **dict.fromkeys(SHOWN, None)}, dtype=object)
        )
        session.replace_table(SCORED_PAIRS, scored_frame)
        with session.dropped_after(*components.TEMPORARY):
            graph = components.deterministic(session, NODES, EDGES, whole=out is None)
            apart = components.pairs_apart_sql(session, graph, out, pairs.MATCH_PAIRS)
            pairs.sort_out(
                session, RECORDS, components.DETERMINISTIC, "v1", POLICY, decisions, "records", apart
            )
            joined = components.final(session, FINAL, graph, NODES, EDGES, MATCHES, apart is not None)
        found = {
            "kept": (graph.kept, apart is not None),
            "deterministic": dict(session.fetchall(f"select * from {components.DETERMINISTIC}")),
            "pairs": {
                (a, b): o
                for a, b, o in session.fetchall(
                    f"select source_key, other_key, outcome from {pairs.MATCH_PAIRS}"
                )
            },
            "final": dict(session.fetchall(f"select source_key, component_key from {FINAL}")),
            "joined": joined,
        }
    assert len(found["deterministic"]) == len(found["final"]) == len(nodes)
    det = dict(pure_components(pd.Series(nodes, dtype=object), _pairs(edges)).itertuples(index=False))
    assert found["deterministic"] == det
    live = set(nodes)
    decisions_live = {(a, b): d for a, b, d in decided if a in live and b in live}
    expected = {
        (a, b): ("match" if p >= POLICY.merge_threshold else "review")
        for a, b, p in scored
        if det[a] != det[b]
    }
    expected.update(decisions_live)
    assert found["pairs"] == expected
    joins = [k for k, o in expected.items() if o in ("match", "same")]
    final = dict(
        pure_components(pd.Series(nodes, dtype=object), _pairs([*edges, *joins])).itertuples(index=False)
    )
    assert found["final"] == final
    assert joined == sum(1 for k in nodes if final[k] != det[k])
    return found


def test_the_graph_brought_up_to_date_by_hand(warehouse):
    nodes = ["a1", "a2", "b1", "b2", "c1"]
    edges = [("a1", "a2"), ("b1", "b2")]
    scored = [("a2", "b1", 0.95), ("a1", "a2", 0.99), ("b2", "c1", 0.85)]
    first = _build(warehouse, nodes, edges, scored, out=None)
    assert first["kept"] == (False, False)
    assert first["pairs"] == {("a2", "b1"): "match", ("b2", "c1"): "review"}
    assert set(first["final"].values()) == {"a1", "c1"}

    second = _build(
        warehouse, nodes, [*edges, ("a2", "b1")], scored, out=set(), decided=[("b2", "c1", "same")]
    )
    assert second["kept"] == (True, True)
    assert second["pairs"] == {("b2", "c1"): "same"}
    assert set(second["final"].values()) == {"a1"} and second["joined"] == 1

    third = _build(
        warehouse, ["a1", "b1", "b2", "c1"], [("b1", "b2")], [("b2", "c1", 0.85)], out={"a2"},
        decided=[("b2", "c1", "same")],
    )  # fmt: skip
    assert third["kept"] == (True, True)
    assert third["final"] == {"a1": "a1", "b1": "b1", "b2": "b1", "c1": "b1"}


def test_a_forgotten_or_fully_scored_graph_is_computed_whole(warehouse):
    """Forget drops the kept graph (DROPPED_BY_FORGET): the next build computes it whole. A full
    scoring (`--full-refresh`, a new model) computes it whole too, which repairs a kept graph
    gone wrong (here a row deleted by hand). An edge to a key that is no node is an error on the
    kept path as on the whole one."""
    nodes, edges = ["a1", "a2", "b1"], [("a1", "a2")]
    _build(warehouse, nodes, edges, [("a2", "b1", 0.95)], out=None)
    with warehouse.transaction() as session:
        session.execute(f"drop table {components.DETERMINISTIC}")
    again = _build(warehouse, nodes, edges, [("a2", "b1", 0.95)], out=set())
    assert again["kept"] == (False, False)
    with warehouse.transaction() as session:
        session.execute(f"delete from {components.DETERMINISTIC} where source_key = 'a2'")
    repaired = _build(warehouse, nodes, edges, [("a2", "b1", 0.95)], out=None)
    assert repaired["kept"] == (False, False)  # and equal to the whole computation (_build)
    with pytest.raises(ValueError, match="not a node"):
        _build(warehouse, nodes, [*edges, ("a1", "zz")], [("a2", "b1", 0.95)], out=set())


def test_random_builds_keep_every_table_equal_to_the_whole_computation(warehouse):
    """Ten builds of random arrivals, departures, edges, scored pairs and decisions over few
    nodes (keys in both cases: they sort byte by byte), so components merge and split all the
    time; each build is checked against the whole computation in _build()."""
    rng = random.Random(20261206)
    pool = [f"{c}{i}" for c in "aBc" for i in range(12)]
    nodes = set(rng.sample(pool, 14))
    edges: set[tuple[str, str]] = set()
    scored: dict[tuple[str, str], float] = {}

    def pair():
        a, b = rng.sample(sorted(nodes), 2)
        return (min(a, b), max(a, b))

    out = None
    for round_ in range(10):
        if round_:
            gone = set(rng.sample(sorted(nodes), 2))
            nodes = (nodes - gone) | set(rng.sample([k for k in pool if k not in nodes], 3))
            edges = {e for e in edges if not set(e) & gone}
            scored = {p: s for p, s in scored.items() if not set(p) & gone}
            edges -= set(rng.sample(sorted(edges), min(2, len(edges))))
            out = gone | set(rng.sample(sorted(nodes), 3))
            scored = {p: s for p, s in scored.items() if not set(p) & out}
            for _ in range(4):  # rescored pairs each hold a record of `out`
                a = rng.choice(sorted(nodes & out))
                b = rng.choice(sorted(nodes - {a}))
                scored[(min(a, b), max(a, b))] = rng.choice([0.82, 0.9, 0.95])
        edges |= {pair() for _ in range(3)}
        for _ in range(6 if not round_ else 0):
            scored[pair()] = rng.choice([0.82, 0.9, 0.95])
        # One decision per pair, as the decisions file is read (the last row wins).
        decided = list({pair(): rng.choice(["same", "different"]) for _ in range(2)}.items())
        decided = [(*p, d) for p, d in decided]
        found = _build(
            warehouse, nodes, sorted(edges), [(*p, s) for p, s in sorted(scored.items())], out, decided
        )
        assert found["kept"] == ((True, True) if round_ else (False, False)), round_
