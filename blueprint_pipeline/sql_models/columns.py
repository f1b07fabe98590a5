"""The column catalogue: each model's YAML (and python_models.yml for the tables Python assets
build) describes its columns as dbt does, with what governance needs in `meta`:

    columns:
      - name: email
        description: The person's email address, lower-cased and trimmed.
        meta: {personal: true, labels: [contact_point]}

`personal` says whether the value names, contacts or describes a natural person (an email, a name,
a phone, an address, free text about them): the preview shows only columns marked false (absent
means "not said yet", and is not shown either), and a personal column is tagged in the UI;
`labels` are free governance labels; `forget` is the column's role when a person is forgotten, one
of a closed list (core/forget_roles.py) or a list of them. The UI shows each table's columns with
their descriptions (`dagster/column_schema`, published.py), and `test_columns.py` fails when a
column of a built table has no entry (docs/sql_models.md, "Columns").
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from blueprint_pipeline.core.errors import SqlModelError
from blueprint_pipeline.core.forget_roles import ROLES

META_KEYS = ("personal", "labels", "forget")


@dataclass(frozen=True)
class ColumnDoc:
    name: str
    description: str = ""
    personal: bool | None = None  # None: not said yet
    labels: tuple[str, ...] = ()
    forget: tuple[str, ...] = ()  # its roles for forget (core/forget_roles.py)


def parse_columns(path: Path, where: str, entries: Any) -> tuple[ColumnDoc, ...]:
    """The `columns:` list of one model's YAML entry (its `data_tests` are read by tests.py)."""
    docs = []
    for entry in entries or []:
        if not isinstance(entry, dict) or not entry.get("name"):
            raise SqlModelError(f"{path}: {where}: a column is a mapping with a name, got {entry!r}")
        meta = entry.get("meta") or {}
        if not isinstance(meta, dict) or set(meta) - set(META_KEYS):
            raise SqlModelError(
                f"{path}: {where}: column {entry['name']}: meta takes {list(META_KEYS)}, got {meta!r}"
            )
        personal = meta.get("personal")
        if personal is not None and not isinstance(personal, bool):
            raise SqlModelError(f"{path}: {where}: column {entry['name']}: personal is true or false")
        labels = meta.get("labels") or []
        if not isinstance(labels, list):
            raise SqlModelError(f"{path}: {where}: column {entry['name']}: labels is a list")
        forget = meta.get("forget") or []
        forget = [forget] if isinstance(forget, str) else forget
        if not isinstance(forget, list) or set(forget) - set(ROLES):
            raise SqlModelError(
                f"{path}: {where}: column {entry['name']}: forget takes a role or a list of roles "
                f"of {list(ROLES)}, got {meta['forget']!r}"
            )
        docs.append(
            ColumnDoc(
                str(entry["name"]).lower(),
                " ".join(str(entry.get("description") or "").split()),
                personal,
                tuple(str(label) for label in labels),
                tuple(forget),
            )
        )
    names = [d.name for d in docs]
    if len(set(names)) != len(names):
        raise SqlModelError(
            f"{path}: {where}: a column is listed twice: {sorted({n for n in names if names.count(n) > 1})}"
        )
    return tuple(docs)
