"""The fault suite (issue 12): a build killed with SIGKILL at the worst moment, then run again.

The run kills itself at a fault point (blueprint_pipeline/faults.py): in ingestion, with a file's
rows written and not committed; in a SQL model, with its new table built and not swapped in; in
journey delivery, with a message handed over and not marked sent. The next run, with the same
as-of, must leave every table exactly as one uninterrupted build does, and the mailbox must hold
each message once: none lost, none doubled. On PostgreSQL every point; on DuckDB (whose file is
recovered from its write-ahead log) the SQL model point.

Concurrent runs are in test_concurrency.py (a file of their own, so the test workers share the load).
"""

from __future__ import annotations

import signal

import pytest

from blueprint_pipeline.faults import FAULT_ENV
from blueprint_pipeline_tests.builds import build_env
from blueprint_pipeline_tests.reliability.conftest import build, start_build
from blueprint_pipeline_tests.snapshots import differences, mailbox, snapshot


@pytest.mark.parametrize(
    ("point", "engine"),
    [("ingest", "postgres"), ("model", "postgres"), ("deliver", "postgres"), ("model", "duckdb")],
)
def test_a_killed_build_leaves_nothing_half_done(point, engine, landing, uninterrupted, tmp_path, request):
    warehouse = request.getfixturevalue(f"{engine}_warehouse")
    tables, mails = uninterrupted(warehouse)
    env = build_env(tmp_path, warehouse)
    killed = start_build(landing, env | {FAULT_ENV: point})
    out, err = killed.communicate(timeout=600)
    assert killed.returncode == -signal.SIGKILL, (
        f"the run did not reach the {point} point: {out[-1500:]}{err[-1500:]}"
    )

    again = build(landing, env)
    assert "build OK" in again
    built = snapshot(warehouse)
    if point == "deliver":
        # The message in hand when the run died was handed over again, with its Message-ID (the
        # mailbox file is replaced; a mail system drops the copy): one more attempt, recorded.
        attempts = built["journey_outbox"][0].index("attempts")
        assert sum(int(row[attempts]) for row in built["journey_outbox"][1:]) == len(mails) + 1
        built, tables = (  # copies: `tables` is shared by the module's tests
            t | {"journey_outbox": [row[:attempts] + row[attempts + 1 :] for row in t["journey_outbox"]]}
            for t in (built, tables)
        )
    different = differences(built, tables)
    assert different == {}, f"after a kill at {point}, tables differ from an uninterrupted build: {different}"
    assert mailbox(tmp_path / "mailbox") == mails and mails, "each message once: none lost, none doubled"
