"""Writing the journey layer's tables (state, log, outbox and the effects journeys have on accounts,
buying groups and scores), whose columns the stateful-table registry holds
(warehouse/stateful.py), typed as those columns say."""

from __future__ import annotations

import pandas as pd

from blueprint_pipeline.warehouse import Session
from blueprint_pipeline.warehouse.stateful import INT, TABLES, TS, B, F


def _frame(rows: list[dict], table: str) -> pd.DataFrame:
    columns = TABLES[table].columns
    return _typed(
        pd.DataFrame(rows, columns=[c for c in columns if c in (rows[0] if rows else columns)]), table
    )


def _typed(frame: pd.DataFrame, table: str) -> pd.DataFrame:
    columns = TABLES[table].columns
    for name in frame.columns:
        kind = columns[name]
        if kind == TS:
            frame[name] = pd.to_datetime(frame[name])
        elif kind == B:
            frame[name] = frame[name].astype(bool)
        elif kind == INT:
            frame[name] = frame[name].astype("int64")
        elif kind == F:
            frame[name] = frame[name].astype("float64")
        else:
            frame[name] = frame[name].astype("string")
    return frame


def append_columns(session: Session, table: str, columns: dict[str, list]) -> int:
    """`append` for many rows given as columns (a frame of lists is built far faster than one of
    dicts)."""
    frame = _typed(
        pd.DataFrame({name: columns[name] for name in TABLES[table].columns if name in columns}), table
    )
    if frame.empty:
        return 0
    session.insert_from_local_query(table, list(frame.columns), "select * from rows", frames={"rows": frame})
    return len(frame)


def append(session: Session, table: str, rows: list[dict], sequence: str | None = None) -> int:
    if not rows:
        return 0
    if sequence:
        first = int(session.scalar(f"select coalesce(max({sequence}), 0) from {table}")) + 1
        rows = [{sequence: first + i, **row} for i, row in enumerate(rows)]
    frame = _frame(rows, table)
    session.insert_from_local_query(table, list(frame.columns), "select * from rows", frames={"rows": frame})
    return len(frame)
