"""Whole-warehouse comparisons for the production and fault suites."""

from __future__ import annotations

from pathlib import Path

# The wall-clock time a message left (every other time in the tables is the run's as-of).
WALL_CLOCK = {("journey_outbox", "sent_at")}


def snapshot(warehouse) -> dict[str, list[tuple]]:
    """Every table: its columns, then its rows as text, sorted; wall-clock times blank."""
    tables = {}
    with warehouse.session() as session:
        for name in session.list_tables():
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
    """Per table that differs: its columns and up to four rows found in one side only."""
    assert sorted(built) == sorted(expected), set(built) ^ set(expected)
    return {
        name: (built[name][0], sorted(set(built[name]) ^ set(expected[name]))[:4])
        for name in expected
        if built[name] != expected[name]
    }


def mailbox(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob("*.eml"))
