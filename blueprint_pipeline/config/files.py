"""The small CSV files users keep next to their config (link decisions, buying-group overrides,
static account lists), read strictly: a row with the wrong number of fields, an empty required
field or a bad value is an error naming the file, the row (the file's line; the header is row 1)
and the field."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from datetime import date
from pathlib import Path

import pandas as pd

from blueprint_pipeline.core.errors import ConfigError


def read_user_csv(path: Path, columns: list[str], required: Iterable[str]) -> pd.DataFrame:
    """Rows of `path` as text, with `columns` (absent optional columns are empty)."""
    required = list(required)
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            lines = list(csv.reader(handle))
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text ({exc.reason})") from exc
    if not lines:
        raise ConfigError(f"{path}: empty file; expected a header with {', '.join(columns)}")
    header = [h.strip() for h in lines[0]]
    missing = [c for c in required if c not in header]
    if missing:
        raise ConfigError(f"{path}: missing column(s) {missing}; expected {', '.join(columns)}")
    records = []
    for row_number, row in enumerate(lines[1:], start=2):
        if not row:
            continue  # a blank line ("" or a row of empty fields is a row, checked below)
        if len(row) != len(header):
            raise ConfigError(f"{path} row {row_number}: {len(row)} fields; the header has {len(header)}")
        record = {h: v.strip() for h, v in zip(header, row, strict=True)}
        for name in required:
            if not record[name]:
                raise ConfigError(f"{path} row {row_number}: field {name} is empty")
        records.append({c: record.get(c, "") for c in columns} | {"row_in_file": row_number})
    return pd.DataFrame(records, columns=[*columns, "row_in_file"]).astype({c: "string" for c in columns})


def check_choice(path: Path, frame: pd.DataFrame, column: str, allowed: Iterable[str]) -> pd.DataFrame:
    """Lower-cases `column` and raises on the first value not in `allowed`."""
    allowed = list(allowed)
    values = frame[column].str.lower()
    bad = frame[~values.isin(allowed)]
    if len(bad):
        row = bad.iloc[0]
        expected = " or ".join(allowed)
        raise ConfigError(
            f"{path} row {row['row_in_file']}: field {column} is {row[column]!r}; expected {expected}"
        )
    return frame.assign(**{column: values})


def check_dates(path: Path, frame: pd.DataFrame, column: str) -> None:
    """An optional ISO date (2026-03-02) or date-time."""
    for value, row in zip(frame[column], frame["row_in_file"], strict=True):
        if value:
            try:
                date.fromisoformat(value[:10])
            except ValueError:
                raise ConfigError(
                    f"{path} row {row}: field {column} is {value!r}; expected an ISO date such as 2026-03-02"
                ) from None
