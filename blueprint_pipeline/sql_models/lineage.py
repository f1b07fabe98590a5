"""Each SQL model's column lineage, derived from its SQL by sqlglot, never written by hand: which
upstream table columns every column it makes is computed from (joins and filters aside). Shown
in the UI as the model's `dagster/column_lineage`.

Deriving it takes about 0.15 s a model, so a result is kept on disk (data/cache/column_lineage/)
under a hash of the rendered SQL and the upstream columns: a build pays only for what changed.
"""

from __future__ import annotations

import hashlib
import json

import dagster as dg
from sqlglot import exp
from sqlglot.lineage import lineage

from blueprint_pipeline.core.atomic_files import replace_file
from blueprint_pipeline.core.naming import source_table
from blueprint_pipeline.core.paths import DATA_DIR
from blueprint_pipeline.sql_models.project import SqlModel, SqlProject
from blueprint_pipeline.warehouse import Session

CACHE_DIR = DATA_DIR / "cache" / "column_lineage"
# The run's parameters as literals: they are values, never columns.
_PARAMETERS = {"$as_of": "timestamp '2000-01-01 00:00:00'", "$config_version": "'v'"}


def upstream_columns(session: Session, project: SqlProject, model: SqlModel) -> dict[str, dict[str, str]]:
    """The columns and types of every table the model reads, as the warehouse has them."""
    tables = [project.table_of(ref) for ref in model.refs]
    tables += [source_table(system, obj) for system, obj in model.sources]
    return {table: dict(session.columns(table)) for table in tables if session.table_exists(table)}


def derive(sql: str, upstream: dict[str, dict[str, str]]) -> dict[str, list[tuple[str, str]]]:
    """Column -> the sorted (table, column) pairs it comes from; kept on disk by its inputs."""
    for name, literal in _PARAMETERS.items():
        sql = sql.replace(name, literal)
    key = hashlib.sha256(json.dumps([sql, upstream], sort_keys=True).encode()).hexdigest()
    cached = CACHE_DIR / f"{key}.json"
    if cached.exists():
        return {c: [tuple(p) for p in pairs] for c, pairs in json.loads(cached.read_text()).items()}
    found = {}
    for column, node in lineage(None, sql, upstream, dialect="duckdb", copy=False).items():
        leaves = {
            (leaf.source.name, leaf.name.split(".")[-1].strip('"'))
            for leaf in node.walk()
            if not leaf.downstream and isinstance(leaf.source, exp.Table) and leaf.source.name in upstream
        }
        found[column] = sorted(leaves)
    replace_file(cached, json.dumps(found, sort_keys=True).encode())
    return found


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
