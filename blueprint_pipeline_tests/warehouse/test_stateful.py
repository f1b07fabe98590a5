"""The registry of stateful tables (warehouse/stateful.py) is the one place their shape is written:
no other module creates a table or an index with `if not exists`, every table it shapes is created
as listed on both warehouses, and a whole build leaves each one with exactly the listed columns."""

from __future__ import annotations

import re
from pathlib import Path

import blueprint_pipeline
from blueprint_pipeline.warehouse.stateful import TABLES, create

PACKAGE = Path(blueprint_pipeline.__file__).parent
# The creations that are not a registry table's: the versions table the migrations keep beside
# the registry, one raw table per source object (its columns from the file contract), and the
# Spark catalog's own table in its PostgreSQL database (not a warehouse table).
ELSEWHERE = {"warehouse/migrations.py": 1, "ingestion/raw_load.py": 1, "warehouse/spark_catalog.py": 1}
CREATES = re.compile(r"create\s+(unique\s+)?(table|index)\s+if\s+not\s+exists", re.IGNORECASE)
SHAPED = [name for name, table in TABLES.items() if table.columns is not None]


def test_no_module_but_the_registry_creates_a_stateful_table():
    found = {}
    for path in PACKAGE.rglob("*.py"):
        where = path.relative_to(PACKAGE).as_posix()
        if where != "warehouse/stateful.py" and (count := len(CREATES.findall(path.read_text()))):
            found[where] = count
    assert found == ELSEWHERE


def test_each_table_is_created_as_listed_and_again_without_change(warehouse):
    with warehouse.transaction() as session:
        create(session, *SHAPED)
        create(session, *SHAPED)  # a second writer's call changes nothing
        columns = {name: [c for c, _ in session.columns(name)] for name in SHAPED}
    assert columns == {name: list(TABLES[name].columns) for name in SHAPED}
    with warehouse.transaction() as session:  # the ledger's unique rule is in place
        session.execute(
            "insert into ingested_files (batch_id, checksum, source_table) values (1, 'a', 'raw_x')"
        )
    try:
        with warehouse.transaction() as session:
            session.execute(
                "insert into ingested_files (batch_id, checksum, source_table) values (2, 'a', 'raw_x')"
            )
    except Exception as exc:  # noqa: BLE001 - each driver names the violation its own way
        assert re.search("(?i)duplicate|unique|constraint", str(exc)), exc
    else:
        raise AssertionError("a second ledger row for the same bytes and raw table was accepted")


def test_a_build_leaves_each_table_with_the_listed_columns(warehouse, uninterrupted_outputs):
    tables = uninterrupted_outputs(warehouse)["tables"]
    built = {name: list(tables[name][0]) for name in SHAPED if name in tables}
    assert built == {name: list(TABLES[name].columns) for name in built}
    # The journey, stage, audience, member and activation tables all exist after a full build.
    assert len(built) >= len(SHAPED) - 3, sorted(set(SHAPED) - set(built))
