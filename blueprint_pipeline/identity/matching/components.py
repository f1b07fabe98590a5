"""The identity graph's components brought up to date, not computed again
(docs/identity.md#the-graph-brought-up-to-date): a build after 1% new records changes few
components, but computing them over 1.78M records and 1.5M edges, and sorting ~1M kept pairs out
against them, took ~5 s of the 1% build at 1M persons.

Three tables are kept between builds:
- DETERMINISTIC, the components of the deterministic graph (ids, conversions, merges, exact
  email), with KEPT_EDGES, the edges it was computed from: a build compares the edges and the
  nodes with them and computes again only the components a new or removed node or edge was in
  (graph.update_components());
- `int_identity_match_pairs` (pairs.py), whose scored rows are the scored pairs those
  components leave apart: only the pairs with a record whose component was computed again, or
  whose pairs were scored again, are sorted out again (pairs_apart_sql());
- `int_identity_components`, the components once the matches join them: computed again where
  the deterministic ones were, and around every match edge added or removed.

Each is computed whole on a first build, after forget (it drops the first two), on a full
scoring, and when over WHOLE_ABOVE of the nodes and edges changed. A test holds every build equal
to the whole computation (`test_components_kept.py`).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from blueprint_pipeline.identity.graph import update_components, write_components
from blueprint_pipeline.identity.matching.incremental import SCORED_PAIRS
from blueprint_pipeline.identity.matching.score import RAW_COLUMNS
from blueprint_pipeline.warehouse import Session

DETERMINISTIC = "person_match_deterministic_components"
KEPT_EDGES = "person_match_deterministic_edges"
# Temporary tables: the nodes new and gone since the last build; the deterministic edges added and
# removed; a round's seeds; the nodes whose deterministic component, then whose final one, was
# computed again; the records whose pairs are sorted out again; the kept pairs still apart and
# the pairs sorted out again; the last build's match edges; the match edges added or removed.
_NEW, _GONE = "person_graph__new", "person_graph__gone"
_ADDED, _REMOVED, _SEEDS = "person_graph__added", "person_graph__removed", "person_graph__seeds"
_REDONE, _REDONE_FINAL = "person_graph__redone", "person_graph__redone_final"
_RESORTED, _APART = "person_graph__resorted", "person_graph__apart"
_CANDIDATES = "person_graph__candidates"
_OLD_MATCHES, _MATCHES_MOVED = "person_graph__old_matches", "person_graph__matches_moved"
TEMPORARY = (_NEW, _GONE, _ADDED, _REMOVED, _SEEDS, _REDONE, _REDONE_FINAL, _RESORTED, _APART,
             _CANDIDATES, _OLD_MATCHES, _MATCHES_MOVED)  # fmt: skip

# Above this share of changed nodes and edges the graph is computed whole (as records.py does).
WHOLE_ABOVE = 0.1


@dataclass(frozen=True)
class Graph:
    """The deterministic graph this build: its nodes and edges, and whether DETERMINISTIC was
    brought up to date (then _NEW, _GONE and _REDONE say where) or computed whole."""

    nodes: int
    edges: int
    kept: bool


def _pairs_of(table: str) -> str:
    return f"select distinct source_key, other_key from {table}"


def _ends(table: str) -> str:
    return f"select source_key from {table} union select other_key from {table}"


def deterministic(session: Session, nodes_sql: str, edges_sql: str, whole: bool = False) -> Graph:
    """Brings DETERMINISTIC and KEPT_EDGES to the graph of `nodes_sql` (source_key) and `edges_sql`
    (source_key, other_key); computes them whole when `whole` (a full scoring or refresh: the way
    out of a kept graph gone wrong)."""
    edges = int(session.scalar(f"select count(*) from ({edges_sql}) as e") or 0)
    if not whole and session.table_exists(DETERMINISTIC) and session.table_exists(KEPT_EDGES):
        # New and gone nodes in one pass over both (two anti-joins took 0.6 s at 1M persons).
        session.execute(
            f"create temporary table {_GONE} as select coalesce(n.source_key, d.source_key) as source_key, "
            f"n.source_key is null as gone from ({nodes_sql}) as n full join {DETERMINISTIC} as d "
            "on d.source_key = n.source_key where n.source_key is null or d.source_key is null"
        )
        session.execute(f"create temporary table {_NEW} as select source_key from {_GONE} where not gone")
        session.execute(f"delete from {_GONE} where not gone")
        now = f"({_pairs_of(f'({edges_sql}) as e')})"
        session.execute(
            f"create temporary table {_ADDED} as select e.source_key, e.other_key from {now} as e "
            f"left join {KEPT_EDGES} as k on k.source_key = e.source_key and k.other_key = e.other_key "
            "where k.source_key is null"
        )
        session.execute(
            f"create temporary table {_REMOVED} as select k.source_key, k.other_key from {KEPT_EDGES} as k "
            f"left join {now} as e on e.source_key = k.source_key and e.other_key = k.other_key "
            "where e.source_key is null"
        )
        changes = sum(
            int(session.scalar(f"select count(*) from {t}") or 0) for t in (_NEW, _GONE, _ADDED, _REMOVED)
        )
        nodes = int(session.scalar(f"select count(*) from {DETERMINISTIC}") or 0)
        if changes <= WHOLE_ABOVE * (nodes + edges):
            _check_ends(session, _ADDED, f"({nodes_sql})", edges_sql)
            session.execute(
                f"create temporary table {_SEEDS} as select source_key from {_NEW} "
                f"union {_ends(_ADDED)} union {_ends(_REMOVED)}"
            )
            update_components(session, DETERMINISTIC, edges_sql, _SEEDS, _GONE, _REDONE)
            session.execute(f"drop table {_SEEDS}")
            session.execute(
                f"delete from {KEPT_EDGES} where exists (select 1 from {_REMOVED} as r "
                f"where r.source_key = {KEPT_EDGES}.source_key and r.other_key = {KEPT_EDGES}.other_key)"
            )
            session.execute(f"insert into {KEPT_EDGES} select source_key, other_key from {_ADDED}")
            nodes = int(session.scalar(f"select count(*) from {DETERMINISTIC}") or 0)
            return Graph(nodes, edges, kept=True)
        for table in (_NEW, _GONE, _ADDED, _REMOVED):
            session.execute(f"drop table {table}")
    nodes, _ = write_components(session, DETERMINISTIC, nodes_sql, edges_sql)
    session.execute(f"drop table if exists {KEPT_EDGES}")
    session.execute(f"create table {KEPT_EDGES} as {_pairs_of(f'({edges_sql}) as e')}")
    return Graph(nodes, edges, kept=False)


def pairs_apart_sql(session: Session, graph: Graph, out: set[str] | None, match_pairs: str) -> str | None:
    """SQL of the scored pairs (RAW_COLUMNS) the deterministic components leave apart, for
    pairs.sort_out(): the last build's (`match_pairs`' scored rows) whose records kept their
    component and their pairs, and those sorted out again: the pairs of a record whose component
    was computed again, or whose pairs were scored again (`out`: Plan.out). None when they must
    all be sorted out again (the graph computed whole, a full scoring, no last build). Keeps the
    last build's match edges for final()."""
    if not (graph.kept and out is not None and session.table_exists(match_pairs)):
        return None
    session.execute(
        f"create temporary table {_OLD_MATCHES} as select source_key, other_key from {match_pairs} "
        "where outcome in ('match', 'same')"
    )
    session.temporary_table(_RESORTED, pd.DataFrame({"source_key": sorted(out)}, dtype=object))
    session.execute(
        f"insert into {_RESORTED} select source_key from {_REDONE} union select source_key from {_GONE}"
    )
    resorted = f"(select source_key from {_RESORTED})"
    columns = ", ".join(RAW_COLUMNS)
    session.execute(
        f"create temporary table {_APART} as select {columns} from {match_pairs} "
        f"where match_weight is not null and source_key not in {resorted} and other_key not in {resorted}"
    )
    # The pairs to sort out again first, then their components: joining every scored pair to
    # the components before filtering took 1.1 s at 1M persons, this 0.25 s.
    session.execute(
        f"create temporary table {_CANDIDATES} as select {columns} from {SCORED_PAIRS} "
        f"where source_key in {resorted} or other_key in {resorted}"
    )
    return (
        f"select {columns} from {_APART} union all select {', '.join(f'p.{c}' for c in RAW_COLUMNS)} "
        f"from {_CANDIDATES} as p "
        f"left join {DETERMINISTIC} as a on a.source_key = p.source_key "
        f"left join {DETERMINISTIC} as b on b.source_key = p.other_key "
        "where a.component_key is null or b.component_key is null or a.component_key <> b.component_key"
    )


def final(
    session: Session,
    table: str,
    graph: Graph,
    nodes_sql: str,
    edges_sql: str,
    matches_sql: str,
    kept_pairs: bool,
) -> int:
    """Brings `table` (source_key -> component_key) to the components of the deterministic graph
    (`nodes_sql`, `edges_sql`) joined by `matches_sql`'s edges (the model's matches and `same`
    decisions), and returns how many records they put in another component than the
    deterministic one. Brought up to date when the deterministic graph and the pairs were
    (`kept_pairs`: pairs_apart_sql() answered): the components of the nodes whose deterministic
    component was computed again, and of both ends of every match edge added or removed."""
    edges = (
        f"select source_key, other_key from ({edges_sql}) as d "
        f"union all select source_key, other_key from ({matches_sql}) as m"
    )
    kept_pairs = kept_pairs and session.table_exists(table)
    if kept_pairs:
        now = f"({_pairs_of(f'({matches_sql}) as m')})"
        session.execute(
            f"create temporary table {_MATCHES_MOVED} as "
            f"select e.source_key, e.other_key from {now} as e left join {_OLD_MATCHES} as o "
            "on o.source_key = e.source_key and o.other_key = e.other_key where o.source_key is null "
            f"union select o.source_key, o.other_key from {_OLD_MATCHES} as o left join {now} as e "
            "on e.source_key = o.source_key and e.other_key = o.other_key where e.source_key is null"
        )
        moved = int(session.scalar(f"select count(*) from {_MATCHES_MOVED}") or 0)
        kept_pairs = moved <= WHOLE_ABOVE * graph.nodes  # a new threshold may move most of them
    if kept_pairs:
        _check_ends(session, _MATCHES_MOVED, DETERMINISTIC, matches_sql)
        session.execute(
            f"create temporary table {_SEEDS} as "
            f"select source_key from {_REDONE} union {_ends(_MATCHES_MOVED)}"
        )
        update_components(session, table, edges, _SEEDS, _GONE, _REDONE_FINAL)
    else:
        write_components(session, table, nodes_sql, edges)
    return int(
        session.scalar(
            f"select count(*) from {table} as c inner join {DETERMINISTIC} as d "
            "on d.source_key = c.source_key where d.component_key <> c.component_key"
        )
        or 0
    )


def _check_ends(session: Session, edges: str, nodes: str, named: str) -> None:
    """Raises, as write_components() does, when an edge of the temporary table `edges` (those
    added or removed since the last build) names a key that is neither a node of table `nodes`
    nor a gone one: kept, it would quietly become a node."""
    stray = session.scalar(
        f"select count(*) from ({_ends(edges)}) as e where not exists "
        f"(select 1 from {nodes} as n where n.source_key = e.source_key) "
        f"and e.source_key not in (select source_key from {_GONE})"
    )
    if stray:
        raise ValueError(f"an edge of {named!r} refers to a source key that is not a node")
