"""Schema versions of the stateful tables, upgraded in place (docs/reliability.md#migrations).

Most tables are rebuilt by every run and need no migration. The stateful ones
(warehouse/stateful.py, their columns and steps side by side) carry state from run to run, so a
release that changes their shape must upgrade what is there. `schema_versions` holds each one's
version; every run, before its first step and under the run lock, applies the steps above it in
order, all in one transaction with their version rows.

A table that does not exist yet is recorded at its latest version (this release's code will create
it in that shape); one that exists without a row was created by a release before versions existed:
it is at version 1. Steps are idempotent (`if not exists`) all the same. Steps are SQL in DuckDB's
dialect, like every statement here.
"""

from __future__ import annotations

from datetime import UTC, datetime

from blueprint_pipeline.core.errors import WarehouseError
from blueprint_pipeline.warehouse.base import Warehouse, quote
from blueprint_pipeline.warehouse.stateful import TABLES, Step

VERSIONS_TABLE = "schema_versions"


# Table -> its upgrade steps, from the registry of stateful tables.
STEPS: dict[str, tuple[Step, ...]] = {name: table.steps for name, table in TABLES.items()}


def latest(table: str) -> int:
    return max((step.version for step in STEPS[table]), default=1)


def migrate(warehouse: Warehouse) -> list[str]:
    """Bring every stateful table that exists to its latest version: what was done, as lines.

    One transaction, so the upgrade is all or nothing, and on DuckDB a second process waits for it
    (on PostgreSQL the run lock already keeps two runs apart)."""
    done, records = [], []
    with warehouse.transaction() as session:
        session.execute(
            f"create table if not exists {VERSIONS_TABLE} (table_name varchar, version bigint, "
            "migrated_at timestamp, why varchar)"
        )
        present = set(session.list_tables())
        versions = dict(
            session.fetchall(f"select table_name, max(version) from {VERSIONS_TABLE} group by table_name")
        )
        for table, steps in STEPS.items():
            if table not in present:
                if table not in versions:  # this release's code will create it in its latest shape
                    records.append((table, latest(table), "created in this shape"))
                continue
            current = start = int(versions.get(table, 1))
            for step in (s for s in steps if s.version > current):
                try:
                    for statement in step.statements:
                        session.execute(statement)
                except Exception as exc:  # noqa: BLE001 - named and re-raised: the run must not start
                    raise WarehouseError(
                        f"upgrading table {table} from version {current} to {step.version} ({step.why}) "
                        f"failed: {exc}"
                    ) from exc
                records.append((table, step.version, step.why))
                done.append(f"{table}: version {current} -> {step.version} ({step.why})")
                current = step.version
            if table not in versions and current == start:
                records.append((table, current, "version recorded"))
        _record(session, records)
    return done


def _record(session, records: list[tuple[str, int, str]]) -> None:
    """The versions reached, in one statement (on Spark each insert is a job: a first build
    records every table)."""
    if not records:
        return
    at = datetime.now(UTC).replace(tzinfo=None)
    rows = ", ".join(f"($table_{i}, $version_{i}, $at, $why_{i})" for i in range(len(records)))
    params: dict = {"at": at}
    for i, (table, version, why) in enumerate(records):
        params |= {f"table_{i}": table, f"version_{i}": version, f"why_{i}": why}
    session.execute(f"insert into {quote(VERSIONS_TABLE)} values {rows}", params)
