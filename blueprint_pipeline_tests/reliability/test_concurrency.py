"""Concurrent runs: two builds of the same sample started at once take turns (on
PostgreSQL under Warehouse.run_lock, on DuckDB because a run holds the file); both succeed, and the
tables and messages are those of one build."""

from __future__ import annotations

import pytest

from blueprint_pipeline_tests.builds import build_env
from blueprint_pipeline_tests.reliability.conftest import start_build
from blueprint_pipeline_tests.snapshots import differences, mailbox, snapshot


@pytest.mark.parametrize("engine", ["postgres", "duckdb"])
def test_concurrent_builds_take_turns(engine, landing, uninterrupted, tmp_path, request):
    """PostgreSQL: the run lock; DuckDB: its single writing process (a run holds the file)."""
    warehouse = request.getfixturevalue(f"{engine}_warehouse")
    tables, mails, _ = uninterrupted(warehouse)
    env = build_env(tmp_path, warehouse)
    first, second = start_build(landing, env), start_build(landing, env)
    outcomes = [p.communicate(timeout=600) for p in (first, second)]
    assert [first.returncode, second.returncode] == [0, 0], [e[-1500:] for _, e in outcomes]
    assert any("waiting for" in err for _, err in outcomes), "one run waited for the other"
    different = differences(snapshot(warehouse), tables)
    assert different == {}, f"after two concurrent builds, tables differ from one build: {different}"
    assert mailbox(tmp_path / "mailbox") == mails, "each message once: none lost, none doubled"
