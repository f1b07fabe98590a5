"""Load the config: the shipped defaults, with the user's files merged over them section by section.

A user's `<section>.yaml` is merged into the shipped one: mappings merge key by key (deeply), any
other value replaces the shipped one. So a file that adds one LinkedIn header alias keeps the
shipped Marketo aliases. `key: null` removes a named entry (a shipped solution interest, persona,
alert rule, ...; a mapping); on a setting it is the value none (`limits.email_per_person_per_day:
null` is no limit, not the built-in 1), and a top-level `replace:` (`true`, or a
list of key paths) makes the file replace its whole section, or those keys, instead of merging.
A name something else still refers to after a removal is an error naming the referring file and
key and the file that removed the name.

The config version is a hash of the validated config (defaults included), so two directories that
mean the same thing have the same version and any change that alters behaviour changes it.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import UnionType
from typing import Annotated, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, ValidationError

from blueprint_pipeline.config.models import BlueprintConfig
from blueprint_pipeline.core.errors import ConfigError
from blueprint_pipeline.core.paths import DEFAULT_CONFIG_DIR

SECTIONS = tuple(BlueprintConfig.model_fields)


@dataclass(frozen=True)
class LoadedConfig:
    config: BlueprintConfig
    version: str  # short sha256 of the canonical JSON of `config`
    sources: dict[str, str]  # section -> the file it came from
    directory: Path | None = None  # the user's config directory (None: the shipped defaults only)

    def user_file(self, name: str) -> Path | None:
        """A data file the config names (e.g. the link decisions CSV), in the user's directory."""
        path = Path(name)
        if path.is_absolute():
            return path
        return self.directory / path if self.directory else None


# A config file is a few kilobytes; these bounds refuse an alias bomb (a few lines whose aliases
# expand to billions of values) in well under a second instead of minutes and gigabytes.
MAX_CONFIG_BYTES = 1_000_000
MAX_EXPANDED_NODES = 10_000


def _expanded_size(root: yaml.Node, path: Path) -> int:
    """How many nodes the document would have with every alias copied out: counted on the composed
    graph (an alias is the same node object again), each node once, before any Python object is
    made; raises ConfigError as soon as the count passes MAX_EXPANDED_NODES."""
    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()

    def size(node: yaml.Node) -> int:
        if id(node) in sizes:
            return sizes[id(node)]
        if id(node) in open_nodes:  # an alias inside its own anchor: endless when expanded
            raise ConfigError(f"{path}: a YAML alias refers to a value that contains it; write the value out")
        open_nodes.add(id(node))
        children = node.value if isinstance(node, yaml.SequenceNode) else []
        if isinstance(node, yaml.MappingNode):
            children = [part for pair in node.value for part in pair]
        total = 1 + sum(size(child) for child in children)
        if total > MAX_EXPANDED_NODES:
            raise ConfigError(
                f"{path}: its YAML aliases expand to more than {MAX_EXPANDED_NODES:,} values; "
                "a config file this large is refused (write the values out, or use fewer aliases)"
            )
        open_nodes.discard(id(node))
        sizes[id(node)] = total
        return total

    return size(root)


def _read_yaml(path: Path) -> object:
    size = path.stat().st_size
    if size > MAX_CONFIG_BYTES:
        raise ConfigError(f"{path}: {size:,} bytes; a config file over {MAX_CONFIG_BYTES:,} bytes is refused")
    try:
        data = _composed_then_constructed(path)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        raise ConfigError(f"{path}{where}: not valid YAML ({getattr(exc, 'problem', exc)})") from exc
    except RecursionError as exc:  # thousands of nested brackets: the parser recurses per level
        raise ConfigError(f"{path}: nested too deeply to be a config file") from exc
    return {} if data is None else data


def _composed_then_constructed(path: Path) -> object:
    """yaml.safe_load in its two halves, with the expansion counted between them."""
    loader = yaml.SafeLoader(path.read_text(encoding="utf-8"))
    try:
        root = loader.get_single_node()
        if root is None:
            return None
        _expanded_size(root, path)
        return loader.construct_document(root)
    finally:
        loader.dispose()


def merged(shipped: object, mine: object, kind: object = None, at: tuple[str, ...] = ()) -> object:
    """`mine` over `shipped`: mappings merge key by key, anything else replaces. Lists are values:
    nothing inside them is merged or removed. `kind` is the config model's type at this place: in
    a mapping of named entries (solution interests, alert rules, ...) `name: null` removes the
    entry, and naming one that is not there is an error (a typo must not pass as a removal);
    anywhere else null is the setting's value, none, which the model accepts or refuses."""
    if not isinstance(mine, dict):
        return mine
    base = shipped if isinstance(shipped, dict) else {}
    entries = _holds_entries(kind)
    out = {k: v for k, v in base.items() if k not in mine}
    for k, v in mine.items():
        if v is not None:
            out[k] = merged(base.get(k), v, _inner(kind, k), (*at, str(k)))
        elif not entries or (k not in base and _admits_none(_inner(kind, k))):
            # A setting's null is its value, none (no limit, not counted, kept for ever); so is an
            # entry's where the model gives null a meaning (a retention of null: kept for ever).
            out[k] = None
        elif k not in base:
            raise _NothingToRemove((*at, str(k)), sorted(map(str, base)))
    return out


class _NothingToRemove(Exception):
    def __init__(self, at: tuple[str, ...], known: list[str]):
        super().__init__(at, known)
        self.at, self.known = at, known


def _unannotated(kind: object) -> object:
    while get_origin(kind) is Annotated:
        kind = get_args(kind)[0]
    return kind


def _bare(kind: object) -> object:
    """`kind` without Annotated and without None: `X | None` is X; a union of models stays."""
    kind = _unannotated(kind)
    if get_origin(kind) in (Union, UnionType):
        members = [m for m in get_args(kind) if m is not type(None)]
        return _bare(members[0]) if len(members) == 1 else Union[tuple(members)]  # noqa: UP007
    return kind


def _admits_none(kind: object) -> bool:
    kind = _unannotated(kind)
    return get_origin(kind) in (Union, UnionType) and type(None) in get_args(kind)


def _is_model(kind: object) -> bool:
    kind = _bare(kind)
    if get_origin(kind) in (Union, UnionType):
        return all(_is_model(m) for m in get_args(kind))
    return isinstance(kind, type) and issubclass(kind, BaseModel)


def _holds_entries(kind: object) -> bool:
    """A mapping of named entries: a dict whose values are config models (not a dict of values)."""
    kind = _bare(kind)
    return get_origin(kind) is dict and _is_model(get_args(kind)[1])


def _inner(kind: object, key: object) -> object:
    """The model's type one key further in (None where it cannot tell: the merge treats it as a
    setting, so a null there stays a value for the model to judge)."""
    kind = _bare(kind)
    if get_origin(kind) is dict:
        return get_args(kind)[1]
    if isinstance(kind, type) and issubclass(kind, BaseModel):
        field = kind.model_fields.get(str(key))
        return field.annotation if field else None
    return None


@dataclass(frozen=True)
class Removal:
    """A key a user's file took away: by `key: null`, or by replacing what held it."""

    path: tuple[str, ...]
    file: Path
    how: str  # "null" or "replace"

    def explained(self) -> str:
        key = ".".join(self.path)
        by = f"{key}: null" if self.how == "null" else f"its `replace`, without {key}"
        return f"{self.path[-1]!r} was removed by {self.file} ({by})"


def _key_paths(value: object, entries_only: bool = False, prefix: tuple[str, ...] = ()) -> set[tuple]:
    """Every key path in `value`; `entries_only`: those holding a mapping (a named entry such as a
    solution interest or an alert rule, rather than a setting)."""
    if not isinstance(value, dict):
        return set()
    paths = set()
    for k, v in value.items():
        if isinstance(v, dict) or not entries_only:
            paths.add((*prefix, str(k)))
        paths |= _key_paths(v, entries_only, (*prefix, str(k)))
    return paths


def _removals(before: object, after: object, path: Path, replaced: bool) -> list[Removal]:
    """The outermost entries `before` had and `after` lacks (settings going back to their
    defaults are no names anything refers to)."""
    gone = _key_paths(before, entries_only=True) - _key_paths(after)
    outermost = sorted(p for p in gone if p[:-1] not in gone)
    return [Removal(p, path, "replace" if replaced else "null") for p in outermost]


def _replaced_paths(mine: dict, path: Path) -> list[tuple[str, ...]] | None:
    """What `replace:` asks to replace: [()] for the whole section, key paths, or None (merge)."""
    wanted = mine.pop("replace", False)
    if wanted is True:
        return [()]
    if wanted is False or wanted is None:
        return None
    if not isinstance(wanted, list) or not all(isinstance(k, str) for k in wanted):
        raise ConfigError(
            f"{path}: key 'replace': expected true (the file replaces its whole section) or a list of "
            f"key paths it replaces (e.g. [solution_interests, role_templates]); got {wanted!r}"
        )
    keys = [tuple(k.split(".")) for k in wanted]
    for key in keys:
        value: object = mine
        for part in key:
            value = value.get(part) if isinstance(value, dict) else None
        if not isinstance(value, dict):
            raise ConfigError(
                f"{path}: key 'replace': {'.'.join(key)!r} is not a mapping this file gives; list the keys "
                "whose shipped entries it replaces whole (to remove one entry, write `name: null`)"
            )
    return keys


def _without(value: dict, key: tuple[str, ...]) -> dict:
    """`value` with the mapping at `key` emptied (copies along the path; the rest is shared)."""
    if not key:
        return {}
    inner = value.get(key[0])
    return {**value, key[0]: _without(inner, key[1:]) if isinstance(inner, dict) else {}}


def _applied(before: dict, mine: object, path: Path, kind: object = None) -> tuple[object, list[Removal]]:
    """One file of a section over what came before it, and the keys it removed."""
    if not isinstance(mine, dict):
        return mine, []  # not a mapping: the model's validation says what was expected
    mine = dict(mine)
    replaced = _replaced_paths(mine, path)
    base = before
    for key in replaced or []:
        base = _without(base, key)
    try:
        after = merged(base, mine, kind)
    except _NothingToRemove as nothing:
        key = ".".join(nothing.at)
        raise ConfigError(
            f"{path}: key '{key}': null removes an entry, and there is no {nothing.at[-1]!r} to remove "
            f"(there are {nothing.known}): a misspelt name?"
        ) from None
    removals = _removals(before, after, path, replaced=False)
    if replaced:  # keys under a replaced path went by replacement, the rest by null
        removals = [
            Removal(r.path, r.file, "replace") if any(r.path[: len(k)] == k for k in replaced) else r
            for r in removals
        ]
    return after, removals


def _section_files(config_dir: Path | None) -> dict[str, list[Path]]:
    files = {name: [DEFAULT_CONFIG_DIR / f"{name}.yaml"] for name in SECTIONS}
    files = {name: paths for name, paths in files.items() if paths[0].exists()}
    if config_dir is None:
        return files
    if not config_dir.exists():
        raise ConfigError(f"{config_dir}: config directory does not exist")
    if not config_dir.is_dir():
        raise ConfigError(f"{config_dir}: expected a config directory (of <section>.yaml files), got a file")
    for path in sorted([*config_dir.glob("*.yaml"), *config_dir.glob("*.yml")]):
        if path.stem not in SECTIONS:
            raise ConfigError(
                f"{path}: unknown config file; expected one of " + ", ".join(f"{s}.yaml" for s in SECTIONS)
            )
        files.setdefault(path.stem, []).append(path)
    return files


# pydantic names the member of a union it tried (`literal['a','b']`, `float`): not a key.
UNION_MEMBER = re.compile(r"(literal|list|dict|function-[a-z]+)\[.*\]|float|int|str|bool")


def _tagged(loc: tuple) -> set[int]:
    """Positions of union tags in a path: a journey node's or an alert rule's `type` value, which
    pydantic puts after the node's name (nodes.pause.wait.days) but is not a key in the file."""
    return {i + 2 for i, p in enumerate(loc[:-2]) if p in ("nodes", "rules") and isinstance(loc[i + 2], str)}


def _describe(error: dict) -> str:
    # A filter's node kind appears twice in pydantic's path (the union tag, then the key): once is enough.
    loc = error["loc"][1:]
    tags = _tagged(loc) if error["type"] != "union_tag_invalid" else set()
    parts = [str(p) for i, p in enumerate(loc) if not UNION_MEMBER.fullmatch(str(p)) and i not in tags]
    parts = [p for i, p in enumerate(parts) if i == 0 or p != parts[i - 1]]
    message = error["msg"].removeprefix("Value error, ")
    if parts and parts[-1] == "[key]":  # a mapping key that is not one of the allowed names
        parts.pop()
        message = f"{message}; got {error['input']!r}"
    elif error["type"] == "extra_forbidden":
        message = (
            "unknown key (a typo? the shipped defaults in blueprint_pipeline/config/defaults list every key)"
        )
    elif error["type"].startswith(("literal_error", "enum")):
        message = f"{message}; got {error['input']!r}"
    elif error.get("input", "") is None:  # `key: null` on a setting that has no "none"
        message = "null is not a value this setting takes; leave the key out for its built-in default"
    return f"key '{'.'.join(parts)}': {message}" if parts else message


def _why_missing(message: str, removals: list[Removal]) -> str:
    """A name an error quotes that a user's file removed: which file, and how."""
    named = [r for r in removals if f"{r.path[-1]!r}" in message]
    return "; " + "; ".join(r.explained() for r in named) if named else ""


CrossCheck = Callable[[BlueprintConfig], list[tuple[str, str, str]]]


def read_config(
    config_dir: str | Path | None = None, cross_checks: Sequence[CrossCheck] = ()
) -> LoadedConfig:
    """Validate the config in `config_dir` (None: the defaults) or raise ConfigError naming the file.

    After the schema, the names one section uses and another defines; then each of `cross_checks`
    in order, once every check before it passed (the layers above config check what they read from
    it: `resources.load_config` passes the journeys' references and the governance policies)."""
    files = _section_files(Path(config_dir) if config_dir else None)
    sections: dict[str, object] = {}
    removals: list[Removal] = []
    for name, paths in files.items():
        for path in paths:
            kind = BlueprintConfig.model_fields[name].annotation
            sections[name], removed = _applied(sections.get(name, {}), _read_yaml(path), path, kind)
            removals += removed
    try:
        config = BlueprintConfig.model_validate(sections)
    except ValidationError as exc:
        first = exc.errors()[0]
        section = str(first["loc"][0])
        path = files.get(section, [Path(f"{section}.yaml")])[-1]
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        message = _describe(first)
        raise ConfigError(f"{path}: {message}{_why_missing(message, removals)}{more}") from exc
    errors = config.reference_errors()
    for check in cross_checks:
        errors = errors or check(config)
    for section, key, message in errors:
        path = files.get(section, [Path(f"{section}.yaml")])[-1]
        why = _why_missing(message, removals)
        if why and path.parent == DEFAULT_CONFIG_DIR:  # the user never wrote the referring entry
            why += f"; what refers to it is shipped: drop it too (`name: null` in your own {section}.yaml)"
        raise ConfigError(f"{path}: key '{key}': {message}{why}")
    canonical = json.dumps(config.model_dump(mode="json"), sort_keys=True)
    version = hashlib.sha256(canonical.encode()).hexdigest()[:12]
    directory = Path(config_dir) if config_dir else None
    return LoadedConfig(config, version, {k: str(v[-1]) for k, v in files.items()}, directory)
