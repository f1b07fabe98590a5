"""Each SQL model's column lineage, derived from its SQL by sqlglot, never written by hand: which
upstream table columns every column it makes is computed from (joins, filters and the sort keys
that pick a row aside). Shown in the UI as the model's `dagster/column_lineage`, and traced back
to the source contract's fields for the governance lineage check (`SourceFields`).

Deriving it takes about 0.15 s a model, so a result is kept on disk (data/cache/column_lineage/)
under a hash of the rendered SQL and the upstream columns: a build pays only for what changed.
"""

from __future__ import annotations

import csv
import hashlib
import json

import dagster as dg
import sqlglot
from sqlglot import exp
from sqlglot.lineage import lineage

from blueprint_pipeline.core.atomic_files import replace_file
from blueprint_pipeline.core.naming import source_table
from blueprint_pipeline.core.paths import DATA_DIR
from blueprint_pipeline.ingestion.landing import raw_column
from blueprint_pipeline.ingestion.raw_load import LINEAGE_COLUMNS
from blueprint_pipeline.sql_models.project import SqlModel, SqlProject
from blueprint_pipeline.warehouse import Session

CACHE_DIR = DATA_DIR / "cache" / "column_lineage"
# The run's parameters as literals: they are values, never columns.
_PARAMETERS = {"$as_of": "timestamp '2000-01-01 00:00:00'", "$config_version": "'v'"}
# Part of the cache key: a change to how lineage is derived must not read older results.
_DERIVATION = 2


def upstream_columns(session: Session, project: SqlProject, model: SqlModel) -> dict[str, dict[str, str]]:
    """The columns and types of every table the model reads, as the warehouse has them."""
    tables = [project.table_of(ref) for ref in model.refs]
    tables += [source_table(system, obj) for system, obj in model.sources]
    return {table: dict(session.columns(table)) for table in tables if session.table_exists(table)}


def derive(sql: str, upstream: dict[str, dict[str, str]]) -> dict[str, list[tuple[str, str]]]:
    """Column -> the sorted (table, column) pairs it comes from; kept on disk by its inputs."""
    for name, literal in _PARAMETERS.items():
        sql = sql.replace(name, literal)
    key = hashlib.sha256(json.dumps([_DERIVATION, sql, upstream], sort_keys=True).encode()).hexdigest()
    cached = CACHE_DIR / f"{key}.json"
    if cached.exists():
        return {c: [tuple(p) for p in pairs] for c, pairs in json.loads(cached.read_text()).items()}
    found = {}
    tree = _order_keys_aside(sqlglot.parse_one(sql, dialect="duckdb"))
    for column, node in lineage(None, tree, upstream, dialect="duckdb", copy=False).items():
        leaves = {
            (leaf.source.name, leaf.name.split(".")[-1].strip('"'))
            for leaf in node.walk()
            if not leaf.downstream and isinstance(leaf.source, exp.Table) and leaf.source.name in upstream
        }
        found[column] = sorted(leaves)
    replace_file(cached, json.dumps(found, sort_keys=True).encode())
    return found


def _order_keys_aside(tree: exp.Expression) -> exp.Expression:
    """The tree with the sort keys of aggregates and windows (`array_agg(x order by modified)`,
    `row_number() over (order by ...)`) set to null: they decide which row's value is taken, not
    what it is, as joins and filters do."""
    for order in list(tree.find_all(exp.Order)):
        if isinstance(order.parent, exp.Window) or order.find_ancestor(exp.AggFunc, exp.Window) is not None:
            for column in list(order.find_all(exp.Column)):
                column.replace(exp.null())
    return tree


def column_lineage(project: SqlProject, found: dict[str, list[tuple[str, str]]]) -> dg.TableColumnLineage:
    """The derived lineage as Dagster shows it: each upstream table by its asset's key."""
    return dg.TableColumnLineage(
        deps_by_column={
            column: [
                dg.TableColumnDep(asset_key=dg.AssetKey(project.asset_of(table)), column_name=name)
                for table, name in pairs
            ]
            for column, pairs in found.items()
        }
    )


class SourceFields:
    """Each column of the project's tables traced back to the source contract's fields
    (`salesforce.Contact.Email`), from the SQL alone: the columns a model reads come from the
    contract (raw tables), the seeds' headers, the catalogue (tables Python assets build) and the
    derived lineage of the models before it, so no warehouse is needed (the governance check runs
    when config loads). A Python-built table or a seed is where a trail ends."""

    def __init__(self, project: SqlProject):
        self.project = project
        self._raw = {
            obj.table: {raw_column(f): f"{obj.system}.{obj.name}.{f}" for f in obj.columns}
            for obj in project.sources.values()
        }
        self._derived: dict[str, dict[str, list[tuple[str, str]]]] = {}
        self._found: dict[tuple[str, str], frozenset[str]] = {}

    def columns(self, table: str) -> dict[str, str]:
        """The table's columns (types do not change a column's lineage: text for all)."""
        if table in self._raw:
            names = [*self._raw[table], *LINEAGE_COLUMNS]
        elif table in self.project.models:
            names = list(self.lineage(table))
        elif table in self.project.seeds:
            with self.project.seeds[table].open(encoding="utf-8") as seed:
                names = [c.strip().lower() for c in next(csv.reader(seed))]
        else:
            names = list(self.project.column_docs().get(table, {}))
        return dict.fromkeys(names, "varchar")

    def lineage(self, model: str) -> dict[str, list[tuple[str, str]]]:
        if model not in self._derived:
            found = self.project.models[model]
            tables = [self.project.table_of(ref) for ref in found.refs]
            tables += [source_table(system, obj) for system, obj in found.sources]
            self._derived[model] = derive(self.project.render(found), {t: self.columns(t) for t in tables})
        return self._derived[model]

    def of(self, table: str, column: str) -> frozenset[str]:
        """The source fields the column's values come from."""
        key = (table, column)
        if key not in self._found:
            if table in self._raw:
                found = {self._raw[table][column]} if column in self._raw[table] else set()
            elif table in self.project.models:
                found = {f for t, c in self.lineage(table).get(column, []) for f in self.of(t, c)}
            else:
                found = set()
            self._found[key] = frozenset(found)
        return self._found[key]
