"""Persons are the connected components of the identity graph (scipy's sparse graph routines)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow.compute as pc
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from blueprint_pipeline.identity.tables import text_array
from blueprint_pipeline.warehouse import Session


def components(nodes: pd.Series, edges: pd.DataFrame) -> pd.DataFrame:
    """`source_key` -> `component_key` (the smallest source key of its component), one row per node.

    `nodes`: every source key; `edges`: columns `source_key`, `other_key` (both among the nodes).
    Deterministic: the component key depends only on the component's members.
    """
    # Keys as Arrow text, sorted (pandas' unique and get_indexer on 1.76M text keys took seconds).
    keys = pc.unique(text_array(nodes.astype(str)))
    keys = keys.take(pc.sort_indices(keys))
    n = len(keys)
    if n == 0:
        return pd.DataFrame({"source_key": pd.Series(dtype=str), "component_key": pd.Series(dtype=str)})
    rows = pc.index_in(text_array(edges["source_key"].astype(str)), value_set=keys)
    cols = pc.index_in(text_array(edges["other_key"].astype(str)), value_set=keys)
    if rows.null_count or cols.null_count:
        raise ValueError("an edge refers to a source key that is not a node")
    keys = keys.to_numpy(zero_copy_only=False)
    roots = _roots(n, rows.to_numpy(), cols.to_numpy())
    return pd.DataFrame({"source_key": keys, "component_key": keys[roots]}, dtype=str)


def _roots(count: int, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Per node numbered 0..count-1 in key order, the number of its component's first node (its
    smallest key), over the undirected edges rows[i]-cols[i] (scipy's connected components)."""
    graph = coo_matrix((np.ones(len(rows), dtype=bool), (rows, cols)), shape=(count, count))
    _, labels = connected_components(graph, directed=False)
    found, first = np.unique(labels, return_index=True)
    smallest = np.empty(len(found), dtype=np.int64)
    smallest[found] = first
    return smallest[labels]


_NODES, _ROOTS = "identity_graph__nodes", "identity_graph__roots"  # temporary tables of write_components


def write_components(
    session: Session, table: str, nodes_sql: str, edges_sql: str, temporary: bool = False
) -> tuple[int, int]:
    """(Re)creates the warehouse table `table` (source_key -> component_key, the same answer as
    components()) over the keys of `nodes_sql` (column source_key) and the edges of `edges_sql`
    (source_key, other_key); returns (nodes, edges). The keys stay in the warehouse: each is
    numbered there in byte order, only the edges' numbers come to scipy, and only each record's
    component number goes back (1.78M keys and their edges as text in pandas held ~1 GB)."""
    with session.dropped_after(_ROOTS, _NODES):
        return _write_components(session, table, nodes_sql, edges_sql, temporary)


def _write_components(
    session: Session, table: str, nodes_sql: str, edges_sql: str, temporary: bool
) -> tuple[int, int]:
    session.execute(f"drop table if exists {_NODES}")
    session.execute(
        f"create temporary table {_NODES} as select source_key, "
        f'row_number() over (order by source_key collate "C") - 1 as n from ({nodes_sql}) as k'
    )
    count = int(session.scalar(f"select count(*) from {_NODES}") or 0)
    numbered = session.fetch_df(
        f"select a.n as a, b.n as b from ({edges_sql}) as e "
        f"left join {_NODES} as a on a.source_key = e.source_key "
        f"left join {_NODES} as b on b.source_key = e.other_key"
    )
    if numbered["a"].isna().any() or numbered["b"].isna().any():
        raise ValueError(f"an edge of {edges_sql!r} refers to a source key that is not a node")
    rows, cols = numbered["a"].to_numpy(np.int64), numbered["b"].to_numpy(np.int64)
    session.execute(f"drop table if exists {_ROOTS}")
    session.execute(f"create temporary table {_ROOTS} (n bigint, root bigint)")
    if count:
        roots = _roots(count, rows, cols)
        moved = np.flatnonzero(roots != np.arange(count))  # a record alone or first keeps its own key
        if len(moved):
            frame = pd.DataFrame({"n": moved, "root": roots[moved]})
            session.insert_from_local_query(_ROOTS, ["n", "root"], "select * from f", frames={"f": frame})
    session.execute(f"drop table if exists {table}")
    session.execute(
        f"create {'temporary ' if temporary else ''}table {table} as select k.source_key, "
        "coalesce(r.source_key, k.source_key) as component_key "
        f"from {_NODES} as k left join {_ROOTS} as m on m.n = k.n left join {_NODES} as r on r.n = m.root"
    )
    return count, len(rows)


_HIT, _PART = "identity_graph__hit", "identity_graph__part"  # temporary tables of update_components


def update_components(
    session: Session, table: str, edges_sql: str, seeds: str, gone: str, redone: str
) -> int:
    """Brings the warehouse table `table` (source_key -> component_key, as write_components()
    wrote it over an earlier graph) to the components of the graph whose edges are `edges_sql`,
    where only the nodes of the temporary tables `seeds` (column source_key: every node new
    since, and both ends of every edge added or removed since) and `gone` (the nodes removed
    since) can have moved. The components they were in are computed again, with every
    node in them; the others are kept. Creates the temporary table `redone` (source_key: the
    nodes computed again; the caller drops it) and returns how many there are.

    Why that is enough: an edge that is not new joins two nodes of one old component, so the
    nodes computed again have no edge to a node outside them (write_components() would raise)."""
    with session.dropped_after(_HIT, _PART):
        session.execute(
            f"create temporary table {_HIT} as select distinct t.component_key from {table} as t "
            f"where t.source_key in (select source_key from {seeds}) "
            f"or t.source_key in (select source_key from {gone})"
        )
        session.execute(
            f"create temporary table {redone} as select t.source_key from {table} as t "
            f"where t.component_key in (select component_key from {_HIT}) "
            f"and t.source_key not in (select source_key from {gone}) "
            f"union select source_key from {seeds} where source_key not in (select source_key from {gone})"
        )
        inside = f"(select source_key from {redone})"
        write_components(
            session,
            _PART,
            f"select source_key from {redone}",
            f"select e.source_key, e.other_key from ({edges_sql}) as e "
            f"where e.source_key in {inside} or e.other_key in {inside}",
            temporary=True,
        )
        session.execute(f"delete from {table} where component_key in (select component_key from {_HIT})")
        session.execute(f"insert into {table} select source_key, component_key from {_PART}")
    return int(session.scalar(f"select count(*) from {redone}") or 0)
