"""Data tests declared in YAML beside the models, in dbt's vocabulary.

Each test compiles to one query counting the failing rows; zero means it passed. Values travel as
bound parameters and names as quoted identifiers. SQL written by the model's author (an
`expression`'s condition, a `where`) lives in the repository like the model, and is parsed by
sqlglot as a single condition.

    models:                               # python_models: in python_models.yml, the same shape
      - name: stg_salesforce__accounts
        grain: one row per Salesforce account
        primary_key: account_id           # unique + not_null, always blocking
        columns:
          - name: industry
            data_tests:
              - accepted_values: {values: [Tech, Retail], config: {severity: error}}
          - name: parent_account_id
            data_tests:
              - relationships: {to: stg_salesforce__accounts, field: account_id, name: parents_exist}
        data_tests:
          - expression: {name: revenue_not_negative, sql: "annual_revenue >= 0"}
          - unique_combination: {columns: [a, b], config: {where: "is_current"}}

Every test takes `name` (the asset check's name), `description`, and `config` with `severity`
(`warn` reports, `error` blocks everything downstream) and `where` (tests only the rows meeting it).
`tests:` is read as `data_tests:`, as dbt reads it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import sqlglot
from sqlglot import exp

from blueprint_pipeline.core.errors import SqlModelError
from blueprint_pipeline.warehouse.base import checked_identifier, quote

# The project's default severity, recorded in docs/decisions.md ("Tests warn unless ..."): a test
# blocks only when its author says so. (dbt's own default is error.)
DEFAULT_SEVERITY = "warn"
SEVERITIES = ("warn", "error")
# Each test's own options; every test also takes name, description and config.
COLUMN_TESTS = {
    "unique": (),
    "not_null": (),
    "accepted_values": ("values",),
    "relationships": ("to", "field"),
}
MODEL_TESTS = {"expression": ("sql",), "unique_combination": ("columns",)}
COMMON_OPTIONS = ("name", "description", "config")
CONFIG_KEYS = ("severity", "where")


@dataclass(frozen=True)
class ModelTest:
    name: str  # the asset check's name, unique within the model
    kind: str
    columns: tuple[str, ...] = ()
    values: tuple[Any, ...] = ()
    to: str = ""
    field: str = ""
    condition: str = ""
    blocking: bool = False
    description: str = ""
    where: str = ""  # only the rows meeting this condition are tested (dbt's `config: where`)

    def failing_rows_sql(self, table: str, written: str | None = None) -> tuple[str, dict]:
        """A query returning the number of failing rows, and its parameters. `written`: a table
        of the rows an incremental build just merged into a table that passed before; a
        uniqueness test then reads only the keys among them (no other key can have gained a
        copy), not every row (24M at the large scale)."""
        # Filtered rows keep the table's name, so a condition may still say `table.column`.
        t = (
            f"(select * from {quote(table)} where {self.where}) as {quote(table)}"
            if self.where
            else quote(table)
        )
        cols = [quote(c) for c in self.columns]
        if self.kind == "not_null":
            return f"select count(*) from {t} where {cols[0]} is null", {}
        if self.kind in ("unique", "unique_combination"):
            keys = ", ".join(cols)
            not_null = " and ".join(f"{c} is not null" for c in cols)
            if written:
                same = " and ".join(f"w.{c} = {quote(table)}.{c}" for c in cols)
                not_null += f" and exists (select 1 from {quote(written)} as w where {same})"
            return (
                f"select coalesce(sum(n), 0) from (select count(*) as n from {t} where {not_null} "
                f"group by {keys} having count(*) > 1) as duplicates",
                {},
            )
        if self.kind == "accepted_values":
            return (
                f"select count(*) from {t} where {cols[0]} is not null "
                f"and cast({cols[0]} as varchar) not in (select unnest($accepted_values))",
                {"accepted_values": [str(v).lower() if isinstance(v, bool) else str(v) for v in self.values]},
            )
        if self.kind == "relationships":
            child = f"(select * from {quote(table)} where {self.where})" if self.where else quote(table)
            return (
                f"select count(*) from {child} as child where child.{cols[0]} is not null and not exists "
                f"(select 1 from {quote(self.to)} as parent "
                f"where parent.{quote(self.field)} = child.{cols[0]})",
                {},
            )
        if self.kind == "expression":
            return f"select count(*) from {t} where not coalesce(({self.condition}), false)", {}
        raise AssertionError(self.kind)


def _condition(path: Path, where: str, sql: Any) -> str:
    """Author's SQL that must be one boolean condition (no query, no statement)."""
    try:
        parsed = sqlglot.parse(str(sql), read="duckdb")
    except sqlglot.errors.ParseError as exc:
        raise SqlModelError(f"{path}: {where}: not valid SQL: {exc}") from exc
    if (
        len(parsed) != 1
        or parsed[0] is None
        or isinstance(parsed[0], exp.Query | exp.Command | exp.DDL | exp.DML)
    ):
        raise SqlModelError(f"{path}: {where}: expected one boolean condition, got {sql!r}")
    return str(sql)


def _one(path: Path, where: str, entry: Any, known: dict[str, tuple[str, ...]]) -> tuple[str, dict]:
    """A test entry (`unique`, or `accepted_values: {values: [...], config: {...}}`) -> kind, options."""
    if isinstance(entry, str):
        kind, options = entry, {}
    elif isinstance(entry, dict) and len(entry) == 1:
        kind, options = next(iter(entry.items()))
        options = {} if options is None else options
    else:
        raise SqlModelError(f"{path}: {where}: a test is a name or a one-key mapping, got {entry!r}")
    if kind not in known:
        raise SqlModelError(f"{path}: {where}: unknown test '{kind}'; expected one of {sorted(known)}")
    if not isinstance(options, dict):
        raise SqlModelError(f"{path}: {where}: test '{kind}' expects a mapping of options")
    if "severity" in options:
        named = f" ({options['name']})" if options.get("name") else ""
        raise SqlModelError(
            f"{path}: {where}: test '{kind}'{named}: severity goes under config, as dbt writes it: "
            f"{{config: {{severity: {options['severity']}}}}}"
        )
    unknown = set(options) - set(known[kind]) - set(COMMON_OPTIONS)
    if unknown:
        raise SqlModelError(
            f"{path}: {where}: test '{kind}': unknown option(s) {sorted(unknown)}; "
            f"expected {[*known[kind], *COMMON_OPTIONS]}"
        )
    return kind, options


def _configured(path: Path, where: str, test: ModelTest, options: dict) -> ModelTest:
    """The test with what every test may set: its name, description, severity and row filter."""
    config = options.get("config") or {}
    if not isinstance(config, dict) or set(config) - set(CONFIG_KEYS):
        raise SqlModelError(f"{path}: {where}: config takes {list(CONFIG_KEYS)}, got {config!r}")
    severity = str(config.get("severity", DEFAULT_SEVERITY)).lower()
    if severity not in SEVERITIES:
        raise SqlModelError(f"{path}: {where}: severity {severity!r}; expected warn or error")
    name = options.get("name")
    if name and test.kind != "expression":  # an expression's name already made its check name
        test = replace(test, name=checked_identifier(name, f"test name in {path}"))
    return replace(
        test,
        blocking=severity == "error",
        description=str(options.get("description") or test.description),
        where=_condition(path, f"{where}: where", config["where"]) if config.get("where") else "",
    )


def _column_test(path: Path, column: str, entry: Any) -> ModelTest:
    where = f"column '{column}'"
    kind, options = _one(path, where, entry, COLUMN_TESTS)
    if kind == "accepted_values":
        values = options.get("values")
        if not isinstance(values, list) or not values:
            raise SqlModelError(f"{path}: {where}: accepted_values needs a non-empty 'values' list")
        test = ModelTest(f"accepted_values__{column}", kind, (column,), tuple(values))
    elif kind == "relationships":
        if "to" not in options or "field" not in options:
            raise SqlModelError(f"{path}: {where}: relationships needs 'to' and 'field'")
        test = ModelTest(
            f"relationships__{column}__{options['to']}",
            kind,
            (column,),
            to=checked_identifier(options["to"], "relationships 'to'"),
            field=checked_identifier(options["field"], "relationships 'field'"),
            description=f"every {column} given is found in {options['to']}.{options['field']}",
        )
    else:
        test = ModelTest(f"{kind}__{column}", kind, (column,))
    return _configured(path, where, test, options)


def _model_test(path: Path, entry: Any) -> ModelTest:
    kind, options = _one(path, "data_tests", entry, MODEL_TESTS)
    if kind == "unique_combination":
        columns = tuple(checked_identifier(c, "column") for c in options.get("columns", []))
        if len(columns) < 2:
            raise SqlModelError(f"{path}: unique_combination needs 'columns' (two or more)")
        test = ModelTest("unique_combination__" + "__".join(columns), kind, columns)
        return _configured(path, "data_tests", test, options)
    name, condition = options.get("name"), options.get("sql")
    if not name or not condition:
        raise SqlModelError(f"{path}: an expression test needs 'name' and 'sql'")
    where = f"expression test '{name}'"
    test = ModelTest(
        f"expression__{checked_identifier(name, 'expression test name')}",
        kind,
        condition=_condition(path, where, condition),
        description=str(condition),
    )
    return _configured(path, where, test, options)


def _declared(path: Path, where: str, meta: dict) -> list:
    """A `data_tests:` list (or `tests:`, the name dbt read before 1.8; not both)."""
    if "data_tests" in meta and "tests" in meta:
        raise SqlModelError(f"{path}: {where}: both data_tests and tests; keep data_tests")
    return meta.get("data_tests", meta.get("tests")) or []


def parse_model_tests(path: Path, meta: dict, primary_key: tuple[str, ...]) -> tuple[ModelTest, ...]:
    """The tests of one model from its YAML entry; the primary key's tests always block."""
    # Messages name the file and the model: one YAML file describes many models.
    yaml_path = (
        f"{meta.get('_yaml', path)}: model {meta['name']}" if meta.get("name") else meta.get("_yaml", path)
    )
    tests: list[ModelTest] = []
    if len(primary_key) == 1:
        tests += [
            ModelTest(f"unique__{primary_key[0]}", "unique", primary_key, blocking=True),
            ModelTest(f"not_null__{primary_key[0]}", "not_null", primary_key, blocking=True),
        ]
    elif primary_key:
        name = "unique_combination__" + "__".join(primary_key)
        tests.append(ModelTest(name, "unique_combination", primary_key, blocking=True))
        tests += [ModelTest(f"not_null__{c}", "not_null", (c,), blocking=True) for c in primary_key]
    for column in meta.get("columns", []) or []:
        col = checked_identifier(column.get("name", ""), f"column name in {yaml_path}")
        entries = _declared(yaml_path, f"column '{col}'", column)
        tests += [_column_test(yaml_path, col, entry) for entry in entries]
    tests += [_model_test(yaml_path, entry) for entry in _declared(yaml_path, "model", meta)]
    names = [t.name for t in tests]
    duplicated = {n for n in names if names.count(n) > 1}
    if duplicated:
        raise SqlModelError(f"{yaml_path}: tests declared twice: {sorted(duplicated)}")
    return tuple(tests)
