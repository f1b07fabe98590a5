"""What governance reads from the column catalogue (sql_models/columns.py): each column's role when
a person is forgotten (core/forget_roles.py), written beside its description in its model's YAML,
python_models.yml or state_tables.yml, never in a list of governance's own."""

from __future__ import annotations

from blueprint_pipeline.core.forget_roles import MENTIONS, REDACT
from blueprint_pipeline.core.paths import SQL_PROJECT_DIR
from blueprint_pipeline.sql_models.project import load_project


def forget_roles() -> dict[str, dict[str, tuple[str, ...]]]:
    """Table -> column -> its forget roles, for the columns that have one."""
    found: dict[str, dict[str, tuple[str, ...]]] = {}
    for table, columns in load_project(SQL_PROJECT_DIR).column_docs().items():
        for name, doc in columns.items():
            if doc.forget:
                found.setdefault(table, {})[name] = doc.forget
    return found


def redacted_columns() -> dict[str, list[str]]:
    """The append-only logs: table -> the columns emptied on a forgotten person's rows."""
    return {
        table: [c for c, roles in columns.items() if REDACT in roles]
        for table, columns in forget_roles().items()
        if any(REDACT in roles for roles in columns.values())
    }


def mention_tables() -> set[str]:
    """The tables of the platform's own messages, where a forgotten person's name is blanked in
    all their text (the rule reads a row's text together), not only beside a contact point."""
    return {t for t, columns in forget_roles().items() if any(MENTIONS in r for r in columns.values())}
