"""Which landing files belong to which source object, and how their headers map to the contract."""

from __future__ import annotations

import csv
import fnmatch
import re
from dataclasses import dataclass
from pathlib import Path

from blueprint_pipeline.config.models import SourcesConfig
from blueprint_pipeline.core.errors import ConfigError
from blueprint_pipeline.core.naming import snake_case
from blueprint_pipeline.ingestion.compressed import open_text, plain_name
from blueprint_pipeline.ingestion.contract import SourceObject


def raw_column(field: str) -> str:
    """The raw table's column for an export field: AccountId -> account_id, "First name" -> first_name."""
    return snake_case(field)


def header_token(name: str) -> str:
    """How headers are compared: case, spaces and punctuation ignored (ACCOUNTID == AccountId)."""
    return re.sub(r"[^a-z0-9]", "", name.lower())


def inside(root: Path, path: Path) -> bool:
    """Whether `path`, symbolic links followed, is within `root`: a link in the landing folder to a
    file elsewhere is not ours to read, and never ours to rewrite (docs/sources.md)."""
    return path.resolve().is_relative_to(root.resolve())


OUTSIDE = "a link to a file outside the landing folder: not read (copy the file in instead)"


def files_for(landing: Path, obj: SourceObject, extra_names: dict[str, str]) -> list[Path]:
    """The object's files in `landing/<system>/`, in name order (the order they are ingested in).

    `extra_names` (config `file_names`) maps file names or glob patterns, case-insensitive, to
    object names; a file it maps is not matched by the default patterns. A compressed file
    (`Contact.csv.gz`) matches what its uncompressed name matches. Links to files outside the
    landing folder are listed too: ingestion skips them with their reason (`inside`).
    """
    folder = landing / obj.system
    if not folder.is_dir():
        return []
    found = []
    for path in sorted(folder.glob("*")):
        if not path.is_file():
            continue
        targets = {t for pattern, t in extra_names.items() if name_matches(path.name, pattern)}
        if targets:  # config wins over the default patterns
            if obj.name in targets:
                found.append(path)
        elif any(name_matches(path.name, p) for p in obj.files):
            found.append(path)
    return found


def is_csv(name: str) -> bool:
    """`.csv`, or `.csv.gz` (compressed): the files ingestion reads."""
    return plain_name(name).lower().endswith(".csv")


def name_matches(name: str, pattern: str) -> bool:
    """A file name against a name or glob pattern, case-insensitive; a compressed file's name
    (`activities_1.csv.gz`) matches as its uncompressed name too (`activities*.csv`)."""
    pattern = pattern.lower()
    return any(fnmatch.fnmatchcase(n.lower(), pattern) for n in {name, plain_name(name)})


def unmatched_files(
    landing: Path, system: str, objects: list[SourceObject], extra_names: dict[str, str]
) -> list[Path]:
    """Files in a system's folder that no object claims: reported, never silently ignored."""
    claimed = {p for obj in objects for p in files_for(landing, obj, extra_names)}
    folder = landing / system
    return (
        [p for p in sorted(folder.glob("*")) if p.is_file() and p not in claimed] if folder.is_dir() else []
    )


def nested_files(landing: Path, system: str) -> list[Path]:
    """Files in sub-folders of a system's folder: never read, so reported (hidden folders, such as
    forget's staging, aside)."""
    folder = landing / system
    if not folder.is_dir():
        return []
    return [
        p
        for sub in sorted(folder.iterdir())
        if sub.is_dir() and not sub.name.startswith(".")
        for p in sorted(sub.rglob("*"))
        if p.is_file()
    ]


@dataclass(frozen=True)
class HeaderMapping:
    """For one file: the position of the column feeding each contract field (None when absent)."""

    positions: dict[str, int | None]


DELIMITERS = (",", "\t", ";")


def read_header(path: Path, encoding: str = "utf-8") -> tuple[list[str], str]:
    """The header's names and the file's delimiter (comma; tab or semicolon after an Excel round-trip)."""
    codec = "utf-8-sig" if encoding == "utf-8" else encoding  # drop a byte-order mark
    with open_text(path, codec) as handle:
        first = handle.readline()
    delimiter = max(DELIMITERS, key=first.count) if first.strip() else ","
    return next(csv.reader([first], delimiter=delimiter), []), delimiter


def duplicate_fields(
    header: list[str], obj: SourceObject, aliases: dict[str, list[str]] | None = None
) -> str:
    """Why the header cannot be read unambiguously, or '': two columns naming the same contract
    field (`Email` twice, or `AccountId` and `Account Id`) would leave one column's values unread;
    for an object that keeps its extra columns (`pack_extra_columns_into`) any repeated name does."""
    fields = {header_token(c): f for f in obj.columns for c in [f, *(aliases or {}).get(f, [])]}
    seen: dict[str, int] = {}
    for position, name in enumerate(header):
        token = header_token(name)
        if not token:
            continue
        if token in seen and (token in fields or obj.pack_extra_columns_into):
            what = f"field {fields[token]}" if token in fields else "the same name"
            return (
                f"columns {seen[token] + 1} ({header[seen[token]]!r}) and {position + 1} ({name!r}) are both "
                f"{what} (names compare ignoring case, spaces and punctuation): expected each column once"
            )
        seen.setdefault(token, position)
    return ""


def map_header(
    header: list[str], obj: SourceObject, aliases: dict[str, list[str]] | None = None
) -> HeaderMapping:
    """Match headers to contract fields ignoring case, spaces and punctuation; the first match wins.

    `aliases` (from config) lists other header names per field, tried after the field's own name.
    """
    by_token: dict[str, int] = {}
    for position, name in enumerate(header):
        by_token.setdefault(header_token(name), position)
    positions: dict[str, int | None] = {}
    for field in obj.columns:
        candidates = [field, *(aliases or {}).get(field, [])]
        found = [by_token[header_token(c)] for c in candidates if header_token(c) in by_token]
        positions[field] = found[0] if found else None
    return HeaderMapping(positions)


def check_sources_config(config: SourcesConfig, objects: list[SourceObject], config_file: str) -> None:
    """Raise ConfigError when the sources config names a system, object or field the contract lacks."""
    by_system: dict[str, dict[str, SourceObject]] = {}
    for obj in objects:
        by_system.setdefault(obj.system, {})[obj.name] = obj

    def fail(key: str, what: str, choices) -> None:
        raise ConfigError(
            f"{config_file}: key '{key}': unknown {what}; expected one of {', '.join(sorted(choices))}"
        )

    for system, names in config.file_names.items():
        if system not in by_system:
            fail(f"file_names.{system}", "system", by_system)
        for file_name, target in names.items():
            if target not in by_system[system]:
                fail(f"file_names.{system}.{file_name}", f"{system} object '{target}'", by_system[system])
    for system, per_object in config.header_aliases.items():
        if system not in by_system:
            fail(f"header_aliases.{system}", "system", by_system)
        for obj_name, fields in per_object.items():
            if obj_name not in by_system[system]:
                fail(f"header_aliases.{system}.{obj_name}", f"{system} object", by_system[system])
            for field in fields:
                if field not in by_system[system][obj_name].columns:
                    fail(
                        f"header_aliases.{system}.{obj_name}.{field}",
                        "field",
                        by_system[system][obj_name].columns,
                    )
