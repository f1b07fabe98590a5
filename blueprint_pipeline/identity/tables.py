"""Explicit column types for the frames identity assets write, so that an empty input still makes
tables whose columns join and compare (pandas types an empty or all-missing column as float)."""

from __future__ import annotations

import pandas as pd


def typed(frame: pd.DataFrame, types: dict[str, str]) -> pd.DataFrame:
    """Columns named in `types` get that dtype ("datetime" parses); every other column is text."""
    out = frame.copy()
    for column in out.columns:
        kind = types.get(column, "string")
        out[column] = pd.to_datetime(out[column]) if kind == "datetime" else out[column].astype(kind)
    return out
