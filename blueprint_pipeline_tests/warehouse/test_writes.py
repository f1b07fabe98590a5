"""One writer per table, shown in the graph: a whole build (the tiny sample's, on each warehouse)
logs every write with the step that made it (warehouse/writes.py). Each write must be to one of
the step's own assets, to a stateful table the registry names that step's asset as writer
(`WRITERS`), or a declared exception (`SHARED_WRITES`, and `MAINTENANCE` deleting rows)."""

from __future__ import annotations

from blueprint_pipeline.definitions import build_definitions
from blueprint_pipeline.warehouse.stateful import MAINTENANCE, SHARED_WRITES, WRITERS, shared_writer
from blueprint_pipeline.warehouse.writes import targets


def _undeclared(writes: list[dict]) -> set[tuple[str, str]]:
    """(step, table) of each write no declaration covers."""
    final: dict[tuple[str, tuple[str, ...], str], str] = {}  # (step, its assets, table) -> last action
    for write in writes:
        if write["step"]:  # outside a step: the migrations before the run
            final[(write["step"], tuple(write["assets"]), write["table"])] = write["action"]
    found = set()
    for (step, assets, table), action in final.items():
        if action == "drop":
            continue  # a work table the step made and dropped (`<model>__building`, ...)
        mine = set(assets)
        if table in mine or WRITERS.get(table) in mine or any(shared_writer(table, a) for a in mine):
            continue
        if mine & set(MAINTENANCE) and action in ("delete", "update"):
            continue
        found.add((step, table))
    return found


def test_every_write_is_declared(warehouse, uninterrupted_outputs):
    writes = uninterrupted_outputs(warehouse)["writes"]
    assert len({w["step"] for w in writes if w["step"]}) > 30  # the whole build was logged
    assert _undeclared(writes) == set()


def test_the_declared_writers_are_assets():
    keys = {k.to_user_string() for k in build_definitions().resolve_asset_graph().get_all_asset_keys()}
    assert set(WRITERS.values()) <= keys
    assert set(MAINTENANCE) <= keys
    patterns = {p for writers, _ in SHARED_WRITES.values() for p in writers}
    assert all(any(shared_writer(t, k) for k in keys) for t in SHARED_WRITES), patterns


def test_the_log_names_what_each_statement_writes():
    assert targets('create table "a" as select 1') == [("create", "a")]
    assert targets('drop table if exists "b__building"') == [("drop", "b__building")]
    assert targets('alter table "c__building" rename to "c"') == [("drop", "c__building"), ("create", "c")]
    assert targets("insert into d (x) select 1") == [("insert", "d")]
    assert targets("delete from e where exists (select 1 from f)") == [("delete", "e")]
    assert targets("update g set x = 1") == [("update", "g")]
    assert targets("create unique index if not exists i on h (x)") == []
    assert targets("select * from j") == []
