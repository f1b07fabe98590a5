"""Which asset step writes which table: with BLUEPRINT_WRITE_LOG set to a file, every statement that
creates, changes or drops a table is appended to it as one JSON line naming the table, what was
done and the assets of the step that did it (none outside a step). Off by default; the graph test
turns it on for a build and fails on a write to a table the writing asset does not declare."""

from __future__ import annotations

import json
import os
import re

import dagster as dg
import sqlglot
from sqlglot import exp

WRITE_LOG_ENV = "BLUEPRINT_WRITE_LOG"
_WRITES = re.compile(r"^\s*(insert|update|delete|create|drop|alter|truncate|merge|copy)\b", re.IGNORECASE)


def _name(node: exp.Expression | None) -> str:
    table = node if isinstance(node, exp.Table) else node.find(exp.Table) if node else None
    return table.name.lower() if table is not None else ""


def targets(sql: str) -> list[tuple[str, str]]:
    """(action, table) for each table the statement writes: create, drop, insert, update, delete."""
    statement = sqlglot.parse_one(sql, read="duckdb")
    if isinstance(statement, exp.Create) and statement.kind == "TABLE":
        return [("create", _name(statement.this))]
    if isinstance(statement, exp.Drop) and statement.kind == "TABLE":
        return [("drop", _name(t)) for t in statement.args.get("tables") or [statement.this]]
    if isinstance(statement, exp.TruncateTable):
        return [("delete", _name(t)) for t in statement.expressions]
    if isinstance(statement, exp.Insert | exp.Update | exp.Delete | exp.Merge):
        return [(type(statement).__name__.lower(), _name(statement.this))]
    if isinstance(statement, exp.Alter):
        renamed = [a for a in statement.actions if isinstance(a, exp.AlterRename)]
        if renamed:
            return [("drop", _name(statement.this)), ("create", _name(renamed[0].this))]
        return [("alter", _name(statement.this))]
    return []


def _writer() -> tuple[str, list[str]]:
    """The running step's op and every asset it defines; none outside a step."""
    try:
        context = dg.AssetExecutionContext.get()
    except Exception:  # no asset step is running: a sensor, the CLI, a migration
        return "", []
    assets = context.assets_def
    return assets.node_def.name, sorted(key.to_user_string() for key in assets.keys)


def record(sql: str, table: str = "") -> None:
    """Log the statement's writes (or, for a bulk load that is no SQL statement, `table`'s)."""
    path = os.environ.get(WRITE_LOG_ENV)
    if not path or not (table or _WRITES.match(sql)):
        return
    written = [("insert", table.lower())] if table else targets(sql)
    if not written:
        return
    step, assets = _writer()
    with open(path, "a", encoding="utf-8") as log:  # one short line per write: appends do not interleave
        log.writelines(
            json.dumps({"step": step, "assets": assets, "action": action, "table": name}) + "\n"
            for action, name in written
        )
