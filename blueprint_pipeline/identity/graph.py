"""Persons are the connected components of the identity graph (scipy's sparse graph routines)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components


def components(nodes: pd.Series, edges: pd.DataFrame) -> pd.DataFrame:
    """`source_key` -> `component_key` (the smallest source key of its component), one row per node.

    `nodes`: every source key; `edges`: columns `source_key`, `other_key` (both among the nodes).
    Deterministic: the component key depends only on the component's members.
    """
    keys = pd.Index(pd.unique(nodes.astype(str)))
    n = len(keys)
    if n == 0:
        return pd.DataFrame({"source_key": pd.Series(dtype=str), "component_key": pd.Series(dtype=str)})
    rows = keys.get_indexer(edges["source_key"].astype(str))
    cols = keys.get_indexer(edges["other_key"].astype(str))
    if (rows < 0).any() or (cols < 0).any():
        raise ValueError("an edge refers to a source key that is not a node")
    graph = coo_matrix((np.ones(len(rows), dtype=np.int8), (rows, cols)), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    frame = pd.DataFrame({"source_key": keys, "label": labels})
    frame["component_key"] = frame.groupby("label")["source_key"].transform("min")
    return frame[["source_key", "component_key"]].sort_values("source_key", ignore_index=True)
