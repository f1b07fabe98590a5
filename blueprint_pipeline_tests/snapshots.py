"""Whole-warehouse comparisons for the production and fault suites."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from blueprint_pipeline.runtime.compare import WALL_CLOCK  # every other time is the as-of


def snapshot(warehouse) -> dict[str, list[tuple]]:
    """Every table: its columns, then its rows as text, sorted; wall-clock times blank."""
    tables = {}
    with warehouse.session() as session:
        for name in session.list_tables(views=True):
            columns = [c for c, _ in session.columns(name)]
            quoted = ", ".join(f'"{c}"' for c in columns)
            rows = sorted(
                tuple(
                    "" if v is None or (name, c) in WALL_CLOCK else str(v)
                    for c, v in zip(columns, row, strict=True)
                )
                for row in session.fetchall(f'select {quoted} from "{name}"')
            )
            tables[name] = [tuple(columns), *rows]
    return tables


def differences(built: dict, expected: dict) -> dict:
    """Per table that differs: its columns and up to four rows with (times built, times expected)."""
    assert sorted(built) == sorted(expected), set(built) ^ set(expected)
    found = {}
    for name in expected:
        if built[name] != expected[name]:
            have, want = Counter(built[name]), Counter(expected[name])
            rows = sorted(row for row in have | want if have[row] != want[row])[:4]
            found[name] = (built[name][0], [(row, have[row], want[row]) for row in rows])
    return found


def mailbox(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob("*.eml"))


def files(folder: Path) -> dict[str, bytes]:
    """Every file under `folder` (hidden leftovers of a killed write included), by relative path."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}
