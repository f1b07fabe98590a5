"""Build one SQL model in the warehouse, as dbt's `table` and `incremental` materialisations do.

Each build is one transaction, so a run killed half-way leaves the previous table in place and the
next run starts from it: nothing is appended twice.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

from blueprint_pipeline.core.errors import SqlModelError
from blueprint_pipeline.core.faults import crash_point
from blueprint_pipeline.core.naming import snake_case
from blueprint_pipeline.ingestion.landing import read_header
from blueprint_pipeline.sql_models.project import SqlModel, SqlProject
from blueprint_pipeline.sql_models.tests import ModelTest
from blueprint_pipeline.warehouse import Session, Warehouse, quote


@dataclass(frozen=True)
class TestResult:
    test: ModelTest
    failing_rows: int

    @property
    def passed(self) -> bool:
        return self.failing_rows == 0


@dataclass(frozen=True)
class BuildResult:
    model: str
    mode: str  # "table", "incremental (first build)", "incremental"
    row_count: int | None  # None for a view: counting it would compute it
    rows_inserted: int
    rows_replaced: int = 0  # incremental merge: existing rows replaced by a newer version
    rows_removed: int = 0  # incremental merge: existing rows deleted by a removed_when row
    tests: tuple[TestResult, ...] = ()  # the blocking tests, run inside the build's transaction
    published: bool = True  # False: a blocking test failed and the build was rolled back


def _create_as(session: Session, table: str, sql: str, params: dict) -> None:
    # Work tables are ordinary tables inside the build's transaction (PostgreSQL keeps temporary
    # ones in another schema): a killed build rolls them back with everything else.
    session.execute(f"create table {quote(table)} as {sql}", params)


def _rebuild(session: Session, model: SqlModel, sql: str, params: dict) -> None:
    staging = f"{model.name}__building"
    if model.removed_when:
        sql = f"select * from ({sql}) as model_rows where not coalesce(({model.removed_when}), false)"
    session.execute(f"drop table if exists {quote(staging)}")
    _create_as(session, staging, sql, params)
    crash_point("model")
    session.drop_relation(model.name)  # a table, or the view the model was before
    session.execute(f"alter table {quote(staging)} rename to {quote(model.name)}")


_PARAMETER = re.compile(r"\$(as_of|config_version)\b")


def _create_view(session: Session, model: SqlModel, sql: str, params: dict) -> None:
    """(Re)create the model's view, the run's as-of and config version written into it as
    literals: a view keeps no parameters, and the same view must answer for the run that made it
    until the next run replaces it."""

    def literal(found: re.Match) -> str:
        return "'" + str(params[found.group(1)]).replace("'", "''") + "'"

    if not session.is_view(model.name):
        session.drop_relation(model.name)  # the table the model was before
    session.execute(f"create or replace view {quote(model.name)} as {_PARAMETER.sub(literal, sql)}")


def _same_columns(session: Session, model: SqlModel, sql: str, params: dict) -> bool:
    """Whether the existing table has the columns the model makes now (else it is rebuilt)."""
    made = list(session.fetch_df(f"select * from ({sql}) as model_columns limit 0", params).columns)
    return sorted(made) == sorted(c for c, _ in session.columns(model.name))


def incoming_table(model: SqlModel) -> str:
    """The work table of an incremental build's new rows, kept until its tests ran."""
    return f"{model.name}__incoming"


def _merge(session: Session, project: SqlProject, model: SqlModel, params: dict) -> BuildResult:
    this, incoming = quote(model.name), incoming_table(model)
    sql = project.render(model, incremental=True)
    session.execute(f"drop table if exists {quote(incoming)}")
    _create_as(session, incoming, sql, params)
    existing = [c for c, _ in session.columns(model.name)]
    new = [c for c, _ in session.columns(incoming)]
    if sorted(existing) != sorted(new):
        fix = (
            "a history the sources cannot rebuild (full_refresh=false): add the columns with a "
            "migration step (warehouse/migrations.py), or drop the table to start it again"
            if model.full_refresh is False
            else "rebuild it with `blueprint run --full-refresh`"
        )
        raise SqlModelError(
            f"{model.path}: the incremental model's columns changed ({sorted(existing)} -> "
            f"{sorted(new)}); {fix}"
        )
    # A row matching removed_when (NULL counts as no) deletes its key and is not inserted.
    removing = f"coalesce(({model.removed_when}), false)" if model.removed_when else "false"
    replaced = removed = 0
    if model.unique_key:
        on = " and ".join(f"{this}.{quote(k)} is not distinct from i.{quote(k)}" for k in model.unique_key)
        replaced, removed = session.fetchall(
            f"select count(*), count(case when i.removing then 1 end) from {this} inner join "
            f"(select *, {removing} as removing from {quote(incoming)}) as i on {on}"
        )[0]
        session.execute(f"delete from {this} where exists (select 1 from {quote(incoming)} as i where {on})")
    cols = ", ".join(quote(c) for c in existing)
    kept = f"select {cols} from {quote(incoming)} where not {removing}"
    inserted = session.scalar(f"select count(*) from ({kept}) as kept")
    session.execute(f"insert into {this} ({cols}) {kept}")
    return BuildResult(
        model.name, "incremental", session.row_count(model.name), inserted, replaced - removed, removed
    )


class _Rejected(Exception):
    """A blocking test failed inside the build's transaction: roll the build back."""

    def __init__(self, result: BuildResult):
        self.result = result


def build_model(
    warehouse: Warehouse,
    project: SqlProject,
    model: SqlModel,
    *,
    as_of: datetime,
    config_version: str,
    full_refresh: bool = False,
    blocking_tests: tuple[ModelTest, ...] = (),
) -> BuildResult:
    """Build the model in one transaction, and run its blocking tests inside it.

    When a blocking test fails the transaction rolls back: the previous table (or none) stays, so
    nothing downstream (in this run or a later one, or a user's query) ever reads the bad version.
    The result then has `published=False` and the failing test results.
    """
    params = {"as_of": as_of.strftime("%Y-%m-%d %H:%M:%S.%f"), "config_version": config_version}
    try:
        with warehouse.transaction() as session:
            exists = session.relation_kind(model.name) == "BASE TABLE"
            if exists and model.materialized == "incremental" and model.on_schema_change == "rebuild":
                exists = _same_columns(session, model, project.render(model), params)
            refresh = full_refresh if model.full_refresh is None else model.full_refresh
            written = None  # the merged rows, for the uniqueness tests
            if model.materialized == "incremental" and exists and not refresh:
                result = _merge(session, project, model, params)
                written = incoming_table(model)
            elif model.materialized == "view" and session.live_views:
                _create_view(session, model, project.render(model), params)
                result = BuildResult(model.name, "view", None, 0)
            else:
                _rebuild(session, model, project.render(model), params)
                rows = session.row_count(model.name)
                mode = {"table": "table", "view": "table (PostgreSQL: views pin what they read)"}.get(
                    model.materialized, "incremental (full build)"
                )
                result = BuildResult(model.name, mode, rows, rows)
            result = replace(result, tests=tuple(run_tests_in(session, model.name, blocking_tests, written)))
            if written:
                session.execute(f"drop table {quote(written)}")
            if not all(t.passed for t in result.tests):
                raise _Rejected(result)
            return result
    except _Rejected as rejected:
        return replace(rejected.result, published=False)


def run_tests_in(session: Session, table: str, tests, written: str | None = None) -> list[TestResult]:
    """The tests' failing rows, read in the caller's session (inside its transaction, if any);
    `written`: the rows an incremental build merged (ModelTest.failing_rows_sql)."""
    queries = []
    for test in tests:
        if test.to and not session.table_exists(test.to):
            raise SqlModelError(f"{table}: test {test.name} reads {test.to}, which is not built")
        queries.append(test.failing_rows_sql(table, written))
    if not queries:
        return []
    # One statement for all of them: on Spark each query is a job of ~0.2 s fixed cost, and a
    # model has up to a dozen tests (the tiny sample's build: 20 s of them, then ~10 s).
    counts = session.fetchall(*_combined(queries))[0]
    return [TestResult(test, int(n or 0)) for test, n in zip(tests, counts, strict=True)]


def _combined(queries: list[tuple[str, dict]]) -> tuple[str, dict]:
    """The counting queries as one row of scalar subqueries, each one's parameters renamed apart."""
    columns, params = [], {}
    for i, (sql, own) in enumerate(queries):
        for name, value in own.items():
            sql = re.sub(rf"\${re.escape(name)}\b", f"${name}_{i}", sql)
            params[f"{name}_{i}"] = value
        columns.append(f"({sql}) as test_{i}")
    return "select " + ", ".join(columns), params


def run_tests(warehouse: Warehouse, model: SqlModel, tests: list[ModelTest]) -> list[TestResult]:
    with warehouse.session() as session:
        return run_tests_in(session, model.name, tests)


def load_seed(warehouse: Warehouse, name: str, path: Path) -> int:
    """(Re)load a seed CSV as a table of text columns; returns its row count."""
    header, _ = read_header(path)
    columns = [snake_case(h) for h in header]
    width = ", ".join(f"'c{i}': 'VARCHAR'" for i in range(len(header)))
    with warehouse.transaction() as session:
        session.execute(f"drop table if exists {quote(name)}")
        session.execute(f"create table {quote(name)} ({', '.join(f'{quote(c)} varchar' for c in columns)})")
        session.insert_from_local_query(
            name,
            columns,
            f"select * from read_csv($path, header = true, auto_detect = false, columns = {{{width}}})",
            {"path": str(path)},
        )
        return session.row_count(name)
