"""The file contract: what each landing file of each source system must hold (its fields, key, types
and default file names), read from `dbt_like_sql/sources.yml`, where dbt keeps its sources too.

Ingestion loads files by it; the SQL project's `source()` and `source_columns()` read it from here."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from blueprint_pipeline.core.errors import SqlModelError
from blueprint_pipeline.core.naming import source_table

# libyaml's parser where PyYAML was built with it: the same documents, ten times faster (the SQL
# project's YAML took 0.43 s of every process's start with the pure-Python one, 0.04 s with it).
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_yaml(path: Path) -> dict:
    """A YAML file of the SQL project, a mapping at the top, or an error naming the file."""
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=SAFE_LOADER) or {}
    except yaml.YAMLError as exc:
        raise SqlModelError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise SqlModelError(f"{path}: expected a mapping at the top level")
    return data


@dataclass(frozen=True)
class SourceObject:
    system: str
    name: str
    key: str
    columns: tuple[str, ...]
    files: tuple[str, ...] = ()  # default file-name patterns, matched case-insensitively
    types: tuple[tuple[str, str], ...] = ()  # (field, type) for typed fields; others are text
    pack_extra_columns_into: str = ""  # a JSON field that gathers unknown columns when absent
    description: str = ""

    def type_of(self, field: str) -> str:
        return dict(self.types).get(field, "text")

    @property
    def table(self) -> str:
        return source_table(self.system, self.name)


def load_contract(root: Path) -> dict[tuple[str, str], SourceObject]:
    """The file contract in `sources.yml`: each source object's fields, key, types and file names."""
    path = root / "sources.yml"
    if not path.exists():
        return {}
    found: dict[tuple[str, str], SourceObject] = {}
    for system in read_yaml(path).get("sources", []):
        for obj in system.get("objects", []):
            try:
                names, types = _columns(obj["columns"])
                so = SourceObject(
                    system=system["name"],
                    name=obj["name"],
                    key=obj["key"],
                    columns=names,
                    files=tuple(obj.get("files", ())),
                    types=types,
                    pack_extra_columns_into=obj.get("pack_extra_columns_into", ""),
                    description=str(obj.get("description", "")).strip(),
                )
            except (KeyError, TypeError, ValueError) as exc:
                raise SqlModelError(f"{path}: source object {obj.get('name')!r}: {exc}") from exc
            if so.key not in so.columns:
                raise SqlModelError(f"{path}: {so.name}: key {so.key!r} is not one of its columns")
            found[(so.system, so.name)] = so
    return found


def _columns(entries: list) -> tuple[tuple[str, ...], tuple[tuple[str, str], ...]]:
    """`[Id, {CreatedDate: timestamp}]` -> the field names and the (field, type) pairs."""
    names, types = [], []
    for entry in entries:
        if isinstance(entry, str):
            names.append(entry)
        elif isinstance(entry, dict) and len(entry) == 1:
            name, type_name = next(iter(entry.items()))
            names.append(str(name))
            types.append((str(name), str(type_name)))
        else:
            raise ValueError(f"a column is a name or {{name: type}}, got {entry!r}")
    return tuple(names), tuple(types)
