"""Explicit column types for the frames identity assets write, so that an empty input still makes
tables whose columns join and compare (pandas types an empty or all-missing column as float)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc


def typed(frame: pd.DataFrame, types: dict[str, str]) -> pd.DataFrame:
    """Columns named in `types` get that dtype ("datetime" parses); every other column is text."""
    out = frame.copy()
    for column in out.columns:
        kind = types.get(column, "string")
        out[column] = pd.to_datetime(out[column]) if kind == "datetime" else out[column].astype(kind)
    return out


def arrow_frame(table: pa.Table) -> pd.DataFrame:
    """Arrow to pandas with text straight in pandas' string dtype (what typed() gives): DuckDB's
    .df() makes one Python object per value first (seconds for a million rows)."""
    strings = {pa.string(): pd.StringDtype(), pa.large_string(): pd.StringDtype()}
    return table.to_pandas(types_mapper=strings.get)


def text_array(values) -> pa.Array:
    """Text keys (a Series, an array, a list or a set) as an Arrow array, missing values null."""
    values = list(values) if isinstance(values, (set, frozenset)) else values
    return pa.array(np.asarray(values, dtype=object), type=pa.large_string(), from_pandas=True)


def isin(values: pd.Series, among) -> pd.Series:
    """`values.isin(among)` for text keys (text only: anything else is an error), by Arrow's
    hash set: pandas' isin on its Arrow strings first turns `among` into a Python list, value by
    value (5 s for 1M person ids against 0.5 s here). A missing value is in `among` when `among`
    holds one (None, NaN and pd.NA alike)."""
    found = pc.is_in(text_array(values), value_set=text_array(among))
    return pd.Series(found.to_numpy(zero_copy_only=False), index=values.index, dtype=bool)


def lookup(values: pd.Series, mapping: pd.Series) -> pd.Series:
    """`values.map(mapping)` for text keys (text only; `mapping`'s index unique, as pandas'
    map requires), by Arrow's hash table: pandas' map matches Arrow strings one by one through a
    Python list (seconds per million). Missing where a value is not in the mapping."""
    if not len(mapping):
        return values.map(mapping)
    keys = text_array(mapping.index)
    if pc.count_distinct(keys, mode="all").as_py() != len(keys):
        raise ValueError("lookup: the mapping's keys are not unique")
    positions = pc.index_in(text_array(values), value_set=keys)
    found = np.asarray(positions.is_valid())
    taken = mapping.iloc[pc.fill_null(positions, 0).to_numpy()].set_axis(values.index)
    return taken.where(found)


def hashed_rows(parts: list[pa.Array]) -> np.ndarray:
    """Per row of the text columns `parts`, 16 hex digits of their values together (pandas'
    siphash of one text per row: \x1f between parts, \x1e for a missing value, characters the
    callers' values never hold). categorize=False: factorizing 1.76M distinct texts first took 7 s."""
    joined = pc.binary_join_element_wise(
        *parts, pa.scalar("\x1f", pa.large_string()), null_handling="replace", null_replacement="\x1e"
    )
    hashed = pd.util.hash_array(
        np.asarray(joined.to_numpy(zero_copy_only=False), dtype=object), categorize=False
    )
    return np.array([f"{int(h):016x}" for h in hashed], dtype=object)
