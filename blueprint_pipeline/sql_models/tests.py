"""Column and model tests declared in YAML beside the models, as dbt declares them.

Each test compiles to one query counting the failing rows; zero means it passed. Values travel as
bound parameters and names as quoted identifiers. An `expression` test is SQL written by the model's
author (it lives in the repository, like the model), parsed by sqlglot as a single condition.

    models:
      - name: stg_salesforce__accounts
        grain: one row per Salesforce account
        primary_key: account_id          # unique + not_null, always blocking
        columns:
          - name: industry
            tests:
              - accepted_values: {values: [Tech, Retail], severity: error}
          - name: parent_account_id
            tests:
              - relationships: {to: stg_salesforce__accounts, field: account_id}
        tests:
          - expression: {name: revenue_not_negative, sql: "annual_revenue >= 0"}

Severity: `warn` (the default) reports without blocking; `error` blocks everything downstream.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlglot
from sqlglot import exp

from blueprint_pipeline.core.errors import SqlModelError
from blueprint_pipeline.warehouse.base import checked_identifier, quote

COLUMN_TESTS = ("unique", "not_null", "accepted_values", "relationships")
MODEL_TESTS = ("expression", "unique_combination")
SEVERITIES = ("warn", "error")


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

    def failing_rows_sql(self, table: str) -> tuple[str, dict]:
        """A query returning the number of failing rows, and its parameters."""
        t = quote(table)
        cols = [quote(c) for c in self.columns]
        if self.kind == "not_null":
            return f"select count(*) from {t} where {cols[0]} is null", {}
        if self.kind in ("unique", "unique_combination"):
            keys = ", ".join(cols)
            not_null = " and ".join(f"{c} is not null" for c in cols)
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
            return (
                f"select count(*) from {t} as child where child.{cols[0]} is not null and not exists "
                f"(select 1 from {quote(self.to)} as parent "
                f"where parent.{quote(self.field)} = child.{cols[0]})",
                {},
            )
        if self.kind == "expression":
            return f"select count(*) from {t} where not coalesce(({self.condition}), false)", {}
        raise AssertionError(self.kind)


def _options(path: Path, where: str, kind: str, raw: Any) -> dict:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise SqlModelError(f"{path}: {where}: test '{kind}' expects a mapping of options")
    return raw


def _severity(path: Path, where: str, options: dict) -> bool:
    severity = options.get("severity", "warn")
    if severity not in SEVERITIES:
        raise SqlModelError(f"{path}: {where}: severity {severity!r}; expected warn or error")
    return severity == "error"


def _one(path: Path, where: str, entry: Any) -> tuple[str, dict]:
    if isinstance(entry, str):
        return entry, {}
    if isinstance(entry, dict) and len(entry) == 1:
        kind, raw = next(iter(entry.items()))
        return kind, _options(path, where, kind, raw)
    raise SqlModelError(f"{path}: {where}: a test is a name or a one-key mapping, got {entry!r}")


def _column_test(path: Path, column: str, entry: Any) -> ModelTest:
    where = f"column '{column}'"
    kind, options = _one(path, where, entry)
    if kind not in COLUMN_TESTS:
        raise SqlModelError(f"{path}: {where}: unknown test '{kind}'; expected one of {COLUMN_TESTS}")
    blocking = _severity(path, where, options)
    if kind == "accepted_values":
        values = options.get("values")
        if not isinstance(values, list) or not values:
            raise SqlModelError(f"{path}: {where}: accepted_values needs a non-empty 'values' list")
        return ModelTest(f"accepted_values__{column}", kind, (column,), tuple(values), blocking=blocking)
    if kind == "relationships":
        if "to" not in options or "field" not in options:
            raise SqlModelError(f"{path}: {where}: relationships needs 'to' and 'field'")
        return ModelTest(
            f"relationships__{column}__{options['to']}",
            kind,
            (column,),
            to=checked_identifier(options["to"], "relationships 'to'"),
            field=checked_identifier(options["field"], "relationships 'field'"),
            blocking=blocking,
            description=f"every {column} given is found in {options['to']}.{options['field']}",
        )
    return ModelTest(f"{kind}__{column}", kind, (column,), blocking=blocking)


def _model_test(path: Path, entry: Any) -> ModelTest:
    kind, options = _one(path, "tests", entry)
    if kind not in MODEL_TESTS:
        raise SqlModelError(f"{path}: tests: unknown model test '{kind}'; expected one of {MODEL_TESTS}")
    blocking = _severity(path, "tests", options)
    if kind == "unique_combination":
        columns = tuple(checked_identifier(c, "column") for c in options.get("columns", []))
        if len(columns) < 2:
            raise SqlModelError(f"{path}: unique_combination needs 'columns' (two or more)")
        return ModelTest("unique_combination__" + "__".join(columns), kind, columns, blocking=blocking)
    name, condition = options.get("name"), options.get("sql")
    if not name or not condition:
        raise SqlModelError(f"{path}: an expression test needs 'name' and 'sql'")
    try:
        parsed = sqlglot.parse(condition, read="duckdb")
    except sqlglot.errors.ParseError as exc:
        raise SqlModelError(f"{path}: expression test '{name}': not valid SQL: {exc}") from exc
    if len(parsed) != 1 or isinstance(parsed[0], exp.Query | exp.Command | exp.DDL | exp.DML):
        raise SqlModelError(f"{path}: expression test '{name}': expected one boolean condition")
    return ModelTest(
        f"expression__{checked_identifier(name, 'expression test name')}",
        kind,
        condition=condition,
        blocking=blocking,
        description=condition,
    )


def parse_model_tests(path: Path, meta: dict, primary_key: tuple[str, ...]) -> tuple[ModelTest, ...]:
    """The tests of one model from its YAML entry; the primary key's tests always block."""
    yaml_path = meta.get("_yaml", path)
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
        tests += [_column_test(yaml_path, col, entry) for entry in column.get("tests", []) or []]
    tests += [_model_test(yaml_path, entry) for entry in meta.get("tests", []) or []]
    names = [t.name for t in tests]
    duplicated = {n for n in names if names.count(n) > 1}
    if duplicated:
        raise SqlModelError(f"{yaml_path}: tests declared twice: {sorted(duplicated)}")
    return tuple(tests)
