"""Discover the SQL models in `dbt_like_sql/`, the way dbt parses a project.

Every `<layer>/<model>.sql` is a model named after its file; its folder is its layer (and asset
group). Dependencies are found by rendering the Jinja once with recording `ref()` / `source()`;
`{{ config(...) }}` declares the materialisation. YAML files beside the models give descriptions,
grain and tests (see blueprint_pipeline/sql_models/tests.py).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import cache, cached_property
from graphlib import CycleError, TopologicalSorter
from pathlib import Path
from typing import Any

import jinja2

from blueprint_pipeline.core.errors import SqlModelError
from blueprint_pipeline.core.naming import snake_case, source_table
from blueprint_pipeline.ingestion.contract import SourceObject, load_contract, read_yaml
from blueprint_pipeline.sql_models.columns import ColumnDoc, parse_columns
from blueprint_pipeline.sql_models.tests import ModelTest, parse_model_tests
from blueprint_pipeline.warehouse.base import checked_identifier, quote

MATERIALIZATIONS = ("table", "incremental", "view")
SPECIAL_DIRS = ("macros", "seeds")  # not layers: Jinja macros for every model, CSV seed tables


@dataclass(frozen=True)
class SqlModel:
    name: str
    layer: str
    path: Path
    sql: str  # the Jinja template as written
    macros: str = ""  # the project's macros, part of what the model means
    materialized: str = "table"
    unique_key: tuple[str, ...] = ()
    # An incremental model whose table no longer has the columns the model makes: `fail` (history
    # tables: a rebuild would lose the past) or `rebuild` (tables rebuilt from sources at will).
    on_schema_change: str = "fail"
    # An incremental model's rows for keys that no longer exist: a row matching this SQL condition
    # deletes its key's row and is not inserted (dbt's merge has no delete; Snowflake's MERGE ...
    # WHEN MATCHED AND <condition> THEN DELETE does this).
    removed_when: str = ""
    # dbt's `full_refresh` config: False keeps an incremental table through `--full-refresh`
    # (histories: the sources cannot give their past back), True rebuilds it on every run, None
    # follows the run's flag.
    full_refresh: bool | None = None
    refs: tuple[str, ...] = ()
    sources: tuple[tuple[str, str], ...] = ()
    description: str = ""
    grain: str = ""
    primary_key: tuple[str, ...] = ()
    tests: tuple[ModelTest, ...] = ()
    # great-expectations suite: (expectation name, kwargs as sorted pairs), run as check `gx_suite`
    expectations: tuple[tuple[str, tuple[tuple[str, Any], ...]], ...] = ()
    # Free-form facts about the model for the code that declares its asset (dbt's `meta`).
    meta: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)
    columns: tuple[ColumnDoc, ...] = ()  # the column catalogue's entries (columns.py)

    @property
    def tested_against(self) -> tuple[str, ...]:
        """Other models this model's relationships tests read: they must be built first."""
        return tuple(dict.fromkeys(t.to for t in self.tests if t.to and t.to != self.name))

    @property
    def code_version(self) -> str:
        tests = "|".join(repr(t) for t in self.tests) + repr(self.expectations)
        return hashlib.sha256((self.macros + self.sql + tests).encode()).hexdigest()[:16]


@dataclass(frozen=True)
class PythonModel:
    """A table a Python asset builds (python_models.yml): its key and tests, run in its transaction."""

    name: str
    description: str = ""
    primary_key: tuple[str, ...] = ()
    tests: tuple[ModelTest, ...] = ()
    columns: tuple[ColumnDoc, ...] = ()
    # The table, when the asset writes it under another name (dbt's `alias`): ref() reads the
    # table and the model depends on the asset.
    alias: str = ""

    @property
    def table(self) -> str:
        return self.alias or self.name


@dataclass
class SqlProject:
    root: Path
    models: dict[str, SqlModel]
    sources: dict[tuple[str, str], SourceObject] = field(default_factory=dict)
    seeds: dict[str, Path] = field(default_factory=dict)  # name -> CSV file
    # Seed -> its columns' catalogue entries (seeds/seeds.yml, dbt's `seeds:` properties)
    seed_columns: dict[str, tuple[ColumnDoc, ...]] = field(default_factory=dict)
    macros: str = ""
    # Tables that Python assets build, with their tests, that models may ref (python_models.yml)
    python_models: dict[str, PythonModel] = field(default_factory=dict)
    # The columns of the stateful tables no asset is named after (state_tables.yml): journey and
    # alert state, the id history, activation's memory, the ingestion ledgers
    state_tables: dict[str, tuple[ColumnDoc, ...]] = field(default_factory=dict)

    @cached_property
    def _order(self) -> list[str]:
        # Relationship tests order models too: a test runs right after its model is built.
        graph = {
            name: {r for r in (*m.refs, *m.tested_against) if r in self.models}
            for name, m in self.models.items()
        }
        try:
            return list(TopologicalSorter(graph).static_order())
        except CycleError as exc:
            raise SqlModelError(
                f"{self.root}: models depend on each other in a cycle: {exc.args[1]}"
            ) from exc

    def in_order(self, names: set[str] | None = None) -> list[SqlModel]:
        """Models in dependency order, optionally restricted to `names`."""
        return [self.models[n] for n in self._order if names is None or n in names]

    def layers(self) -> list[str]:
        return sorted({m.layer for m in self.models.values()})

    def render(self, model: SqlModel, *, incremental: bool = False) -> str:
        """The model's SQL in DuckDB's dialect, with `$as_of` / `$config_version` parameters."""
        contract = SourceFunctions(self.sources)
        return _render(
            model.path,
            self.macros,
            model.sql,
            model.name,
            incremental,
            ref=self._ref,
            source=self._source,
            source_columns=contract.columns,
            source_objects=contract.objects,
            code_version=f"'{model.code_version}'",
        )

    def column_docs(self) -> dict[str, dict[str, ColumnDoc]]:
        """Table -> column -> its catalogue entry, for every model, Python-built and state table."""
        found = {name: {c.name: c for c in m.columns} for name, m in self.models.items()}
        found |= {name: {c.name: c for c in columns} for name, columns in self.seed_columns.items()}
        for m in self.python_models.values():
            found[m.table] = {c.name: c for c in m.columns}
        for table, columns in self.state_tables.items():
            found[table] = {c.name: c for c in columns}
        return found

    def table_of(self, ref: str) -> str:
        """The table `ref()` reads: a Python model's alias, else the name itself."""
        return self.python_models[ref].table if ref in self.python_models else ref

    def asset_of(self, table: str) -> str:
        """The asset that writes `table`: the Python model aliased to it, else the table's name."""
        return next((m.name for m in self.python_models.values() if m.alias == table), table)

    def _ref(self, name: str) -> str:
        if name not in self.models and name not in self.seeds and name not in self.python_models:
            raise SqlModelError(f"ref('{name}'): no model named {name} in {self.root}")
        return quote(self.table_of(name))

    def _source(self, system: str, obj: str) -> str:
        if self.sources and (system, obj) not in self.sources:
            raise SqlModelError(f"source('{system}', '{obj}'): not declared in sources.yml")
        return quote(source_table(system, obj))


@dataclass(frozen=True)
class SourceFunctions:
    """The source contract as seen from Jinja: `source_columns(system, object)`, `source_objects(system)`."""

    sources: dict[tuple[str, str], SourceObject]

    def columns(self, system: str, obj: str) -> list[str]:
        if (system, obj) not in self.sources:
            raise SqlModelError(f"source_columns('{system}', '{obj}'): not declared in sources.yml")
        return [snake_case(c) for c in self.sources[(system, obj)].columns]

    def objects(self, system: str) -> list[SourceObject]:
        return [o for (s, _), o in self.sources.items() if s == system]


_JINJA = jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=False)
# Jinja drops a template's last newline: the macros, a template of their own, keep theirs, as
# they did in front of the model.
_JINJA_MACROS = _JINJA.overlay(keep_trailing_newline=True)


@cache
def _template(text: str, macros: bool = False) -> jinja2.Template:
    """A template compiled once per process: compiling the macros with every model took ~2 s of
    each process's start (load_project) and of each build's renders."""
    return (_JINJA_MACROS if macros else _JINJA).from_string(text)


def _render(path: Path, macros: str, sql: str, this: str, incremental: bool, **functions: Any) -> str:
    """Render a model; `functions` are ref, source, config, source_columns, source_objects. The
    same text as rendering `macros + sql` as one template: the macros run first with the same
    names in reach, and the model sees what they define."""
    context = {
        "config": lambda **_: "",
        "code_version": "'?'",
        **functions,
        "this": quote(this),
        "is_incremental": lambda: incremental,
        "as_of": "CAST($as_of AS TIMESTAMP)",
        "config_version": "$config_version",
        "snake_case": snake_case,
    }
    try:
        defined = _template(macros, macros=True).make_module(context)
        exported = {name: value for name, value in vars(defined).items() if not name.startswith("_")}
        return str(defined) + _template(sql).render({**context, **exported})
    except jinja2.TemplateError as exc:
        raise SqlModelError(f"{path}: {exc}") from exc


def _parse_model(
    path: Path, layer: str, meta: dict[str, Any], macros: str, sources: dict[tuple[str, str], SourceObject]
) -> SqlModel:
    name = checked_identifier(path.stem, f"model name (file {path})")
    sql = path.read_text(encoding="utf-8")
    found: dict[str, Any] = {"refs": [], "sources": [], "config": {}}

    def ref(model: str) -> str:
        found["refs"].append(model)
        return quote(model)

    def source(system: str, obj: str) -> str:
        found["sources"].append((system, obj))
        return quote(source_table(system, obj))

    def config(**kwargs: Any) -> str:
        found["config"].update(kwargs)
        return ""

    # Render both branches of `is_incremental()` so deps used in either are found.
    contract = SourceFunctions(sources)
    for incremental in (False, True):
        _render(
            path,
            macros,
            sql,
            name,
            incremental,
            ref=ref,
            source=source,
            config=config,
            source_columns=contract.columns,
            source_objects=contract.objects,
        )
    cfg = found["config"]
    unknown = set(cfg) - {"materialized", "unique_key", "on_schema_change", "removed_when", "full_refresh"}
    if unknown:
        raise SqlModelError(f"{path}: unknown config() keys {sorted(unknown)}")
    materialized = cfg.get("materialized", "table")
    if materialized not in MATERIALIZATIONS:
        raise SqlModelError(f"{path}: materialized={materialized!r}; expected one of {MATERIALIZATIONS}")
    unique_key = cfg.get("unique_key") or ()
    unique_key = (unique_key,) if isinstance(unique_key, str) else tuple(unique_key)
    on_schema_change = cfg.get("on_schema_change", "fail")
    if on_schema_change not in ("fail", "rebuild"):
        raise SqlModelError(f"{path}: on_schema_change={on_schema_change!r}; expected fail or rebuild")
    removed_when = str(cfg.get("removed_when", ""))
    if removed_when and not (materialized == "incremental" and unique_key):
        raise SqlModelError(f"{path}: removed_when needs materialized='incremental' and a unique_key")
    full_refresh = cfg.get("full_refresh")
    if full_refresh not in (None, True, False):
        raise SqlModelError(f"{path}: full_refresh={full_refresh!r}; expected true or false")
    if materialized == "view" and (unique_key or full_refresh is not None or "on_schema_change" in cfg):
        raise SqlModelError(
            f"{path}: a view keeps no rows: unique_key, full_refresh and on_schema_change do not apply"
        )
    primary_key = meta.get("primary_key") or ()
    primary_key = (primary_key,) if isinstance(primary_key, str) else tuple(primary_key)
    return SqlModel(
        name=name,
        layer=layer,
        path=path,
        sql=sql,
        macros=macros,
        materialized=materialized,
        unique_key=unique_key,
        on_schema_change=on_schema_change,
        removed_when=removed_when,
        full_refresh=full_refresh,
        refs=tuple(dict.fromkeys(found["refs"])),
        sources=tuple(dict.fromkeys(found["sources"])),
        description=str(meta.get("description", "")).strip(),
        grain=str(meta.get("grain", "")).strip(),
        primary_key=primary_key,
        tests=parse_model_tests(path, meta, primary_key),
        expectations=_expectations(meta),
        meta=dict(meta.get("meta") or {}),
        columns=parse_columns(meta.get("_yaml", path), f"model {name}", meta.get("columns")),
    )


def _expectations(meta: dict) -> tuple[tuple[str, tuple[tuple[str, Any], ...]], ...]:
    found = []
    for entry in meta.get("expectations", []) or []:
        if not (isinstance(entry, dict) and len(entry) == 1 and isinstance(next(iter(entry.values())), dict)):
            raise SqlModelError(f"{meta.get('_yaml')}: an expectation is `expect_...: {{column: ..., ...}}`")
        name, kwargs = next(iter(entry.items()))
        if not str(name).startswith("expect_"):
            raise SqlModelError(f"{meta.get('_yaml')}: {name!r} is not a great-expectations expectation")
        found.append((str(name), tuple(sorted(kwargs.items()))))
    return tuple(found)


def _model_meta(layer_dir: Path) -> dict[str, dict]:
    meta: dict[str, dict] = {}
    for path in sorted(layer_dir.glob("*.yml")):
        for entry in read_yaml(path).get("models", []):
            if not isinstance(entry, dict) or "name" not in entry:
                raise SqlModelError(f"{path}: each entry under 'models' needs a 'name'")
            if not (layer_dir / f"{entry['name']}.sql").exists():
                raise SqlModelError(f"{path}: model '{entry['name']}' has no {entry['name']}.sql")
            meta[entry["name"]] = {**entry, "_yaml": path}
    return meta


def _load_python_models(root: Path) -> dict[str, PythonModel]:
    """The tables Python assets build, like dbt's Python models: models may `ref()` them, and their
    primary keys and data tests run inside the asset's transaction as a SQL model's do (the
    definitions test checks each one is an asset)."""
    path = root / "python_models.yml"
    if not path.exists():
        return {}
    found: dict[str, PythonModel] = {}
    for entry in read_yaml(path).get("python_models", []) or []:
        if not isinstance(entry, dict) or "name" not in entry:
            raise SqlModelError(f"{path}: each python model is `- name: <asset>`, got {entry!r}")
        name = checked_identifier(entry["name"], f"python model name in {path}")
        if name in found:
            raise SqlModelError(f"{path}: python model {name} declared twice")
        primary_key = entry.get("primary_key") or ()
        primary_key = (primary_key,) if isinstance(primary_key, str) else tuple(primary_key)
        alias = entry.get("alias", "")
        if alias and (primary_key or entry.get("data_tests") or entry.get("tests") or entry.get("columns")):
            raise SqlModelError(f"{path}: {name}: its tests would read the table {name}, not {alias}")
        found[name] = PythonModel(
            name,
            str(entry.get("description", "")).strip(),
            primary_key,
            parse_model_tests(path, {**entry, "_yaml": path}, primary_key),
            alias=checked_identifier(alias, f"python model alias in {path}") if alias else "",
            columns=parse_columns(path, f"python model {name}", entry.get("columns")),
        )
    return found


def _load_seed_columns(path: Path, seeds: dict[str, Path]) -> dict[str, tuple[ColumnDoc, ...]]:
    """The seeds' column entries, as dbt reads them from a properties file's `seeds:` list."""
    if not path.exists():
        return {}
    found: dict[str, tuple[ColumnDoc, ...]] = {}
    for entry in read_yaml(path).get("seeds", []) or []:
        if not isinstance(entry, dict) or entry.get("name") not in seeds:
            raise SqlModelError(
                f"{path}: each entry is `- name: <seed>` of a CSV in {path.parent}, got {entry!r}"
            )
        found[entry["name"]] = parse_columns(path, f"seed {entry['name']}", entry.get("columns"))
    return found


def _load_state_tables(root: Path, taken: set[str]) -> dict[str, tuple[ColumnDoc, ...]]:
    """The catalogue entries of the stateful tables that are no asset, or are written under an
    aliased asset's name (their DDL is in warehouse/stateful.py):
    `state_tables: [{name, description, columns}]`."""
    path = root / "state_tables.yml"
    if not path.exists():
        return {}
    found: dict[str, tuple[ColumnDoc, ...]] = {}
    for entry in read_yaml(path).get("state_tables", []) or []:
        if not isinstance(entry, dict) or "name" not in entry:
            raise SqlModelError(f"{path}: each state table is `- name: <table>`, got {entry!r}")
        name = checked_identifier(entry["name"], f"state table name in {path}")
        if name in found or name in taken:
            raise SqlModelError(f"{path}: {name} is described twice (here or as a model)")
        found[name] = parse_columns(path, f"state table {name}", entry.get("columns"))
    return found


_PARSED: dict[tuple, SqlProject] = {}


def load_project(root: Path) -> SqlProject:
    """Parse every model under `root`; raise SqlModelError naming the file on any problem. Parsed
    once per process while no file under `root` changes (a build asks several times; parsing the
    Jinja of every model takes seconds)."""
    if not root.is_dir():
        raise SqlModelError(f"{root}: SQL project directory does not exist")
    files = sorted(p for p in root.rglob("*") if p.is_file())
    key = (str(root.resolve()), tuple((str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in files))
    if key not in _PARSED:
        _PARSED.clear()  # one project at a time is what a process builds; tests switch projects
        _PARSED[key] = _parse_project(root)
    return _PARSED[key]


def _parse_project(root: Path) -> SqlProject:
    macros = "".join(p.read_text(encoding="utf-8") for p in sorted((root / "macros").glob("*.sql")))
    sources = load_contract(root)
    seeds = {
        checked_identifier(p.stem, f"seed name (file {p})"): p for p in sorted((root / "seeds").glob("*.csv"))
    }
    models: dict[str, SqlModel] = {}
    layer_dirs = [
        p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".") and p.name not in SPECIAL_DIRS
    ]
    for layer_dir in sorted(layer_dirs):
        meta = _model_meta(layer_dir)
        for path in sorted(layer_dir.glob("*.sql")):
            if path.stem in models or path.stem in seeds:
                raise SqlModelError(f"{path}: a model or seed named {path.stem} already exists elsewhere")
            models[path.stem] = _parse_model(path, layer_dir.name, meta.get(path.stem, {}), macros, sources)
    project = SqlProject(
        root=root,
        models=models,
        sources=sources,
        seeds=seeds,
        seed_columns=_load_seed_columns(root / "seeds" / "seeds.yml", seeds),
        macros=macros,
        python_models=_load_python_models(root),
    )
    # An aliased Python model's table (journey_outbox) takes its columns from state_tables.yml.
    described = set(models) | {m.name for m in project.python_models.values() if not m.alias}
    project.state_tables = _load_state_tables(root, described)
    for model in models.values():
        for ref in model.refs:
            project._ref(ref)
        for system, obj in model.sources:
            project._source(system, obj)
    project.in_order()  # raises on a cycle
    return project
