"""Data tests as Dagster asset checks: one code path for SQL models and for Python assets.

A SQL model's tests run inside its build transaction (runner.py). A Python asset declares its
tables' primary keys and tests in python_models.yml and writes them in `checked_transaction`: the
tests run in the same transaction just before it commits, and a failed blocking test rolls the
writes back, exactly as for a SQL model. No check SQL lives in an asset's body.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import dagster as dg

from blueprint_pipeline.core.errors import SqlModelError
from blueprint_pipeline.core.paths import SQL_PROJECT_DIR
from blueprint_pipeline.sql_models.project import PythonModel, load_project
from blueprint_pipeline.sql_models.runner import TestResult, run_tests_in
from blueprint_pipeline.sql_models.tests import ModelTest
from blueprint_pipeline.warehouse import Session, Warehouse


def check_spec(table: str, test: ModelTest) -> dg.AssetCheckSpec:
    return dg.AssetCheckSpec(
        name=test.name,
        asset=dg.AssetKey(table),
        blocking=test.blocking,
        description=test.description or f"{test.kind} on {', '.join(test.columns)}",
        additional_deps=[dg.AssetKey(test.to)] if test.to and test.to != table else None,
    )


def check_result(table: str, result: TestResult) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        asset_key=table,
        check_name=result.test.name,
        passed=result.passed,
        severity=dg.AssetCheckSeverity.ERROR if result.test.blocking else dg.AssetCheckSeverity.WARN,
        metadata={"failing_rows": result.failing_rows},
    )


def python_model(table: str) -> PythonModel:
    found = load_project(SQL_PROJECT_DIR).python_models
    if table not in found:
        raise SqlModelError(f"{table}: not declared in {SQL_PROJECT_DIR / 'python_models.yml'}")
    return found[table]


def declared_checks(*tables: str) -> list[dg.AssetCheckSpec]:
    """The asset checks of the tables' declared tests, for a Python asset's `check_specs`."""
    return [check_spec(t, test) for t in tables for test in python_model(t).tests]


@dataclass
class CheckedWrites:
    """What the declared tests found when the writes were about to commit."""

    results: list[tuple[str, TestResult]] = field(default_factory=list)

    @property
    def rejected(self) -> list[tuple[str, TestResult]]:
        return [(t, r) for t, r in self.results if r.test.blocking and not r.passed]

    def check_results(self) -> Iterator[dg.AssetCheckResult]:
        return (check_result(table, result) for table, result in self.results)

    def reported(self, *materializations: dg.MaterializeResult) -> Iterator:
        """The materializations and then the check results; or, when a blocking test failed (the
        writes were rolled back), the check results and an error naming the failed tests."""
        if self.rejected:
            yield from self.check_results()
            failed = ", ".join(f"{t}.{r.test.name} ({r.failing_rows} failing rows)" for t, r in self.rejected)
            raise SqlModelError(f"blocking test(s) failed, nothing was written: {failed}")
        yield from materializations
        yield from self.check_results()


class _Rejected(Exception):
    """A blocking test failed inside the transaction: roll the writes back."""


@contextmanager
def checked_transaction(warehouse: Warehouse, *tables: str) -> Iterator[tuple[Session, CheckedWrites]]:
    """A transaction whose writes to `tables` commit only when their blocking tests pass."""
    tests = {t: python_model(t).tests for t in tables}
    checked = CheckedWrites()
    try:
        with warehouse.transaction() as session:
            yield session, checked
            for table, table_tests in tests.items():
                checked.results += [(table, r) for r in run_tests_in(session, table, table_tests)]
            if checked.rejected:
                raise _Rejected
    except _Rejected:
        pass
