"""The fault suite: a build killed with SIGKILL at the worst moment, then run again.

The run kills itself at a fault point (blueprint_pipeline/core/faults.py): in ingestion, with a file's
rows written and not committed; in a SQL model, with its new table built and not swapped in; in
journey delivery, with a message handed over and not marked sent; in the journeys, with their
state, outbox and CRM field updates written and not committed; in each activation asset, with its
files in place and its state not committed, or its new folder written and not swapped in. The next
run, with the same as-of, must leave every table exactly as one uninterrupted build does, every
activation file byte for byte the same, and the mailbox must hold each message once: none lost,
none doubled. On PostgreSQL the ingestion, model, delivery and CRM write-back points, one build
each; on DuckDB (whose file is recovered from its write-ahead log) the model point, and the
journeys and every activation point in one chain of killed runs (each run dies at the next point,
then one run completes), which keeps the suite's time down.

Concurrent runs are in test_concurrency.py (a file of their own, so the test workers share the load).
"""

from __future__ import annotations

import signal

import pytest

from blueprint_pipeline.core.faults import FAULT_ENV
from blueprint_pipeline_tests.builds import build_env
from blueprint_pipeline_tests.reliability.conftest import build, start_build
from blueprint_pipeline_tests.snapshots import differences, files, mailbox, snapshot

ACTIVATION_CHAIN = (
    "journeys",
    "linkedin_audiences",
    "marketo_static_lists",
    "activation_files",
    "crm_writeback",
)


def _killed_at(point: str, landing, env) -> None:
    killed = start_build(landing, env | {FAULT_ENV: point})
    out, err = killed.communicate(timeout=2400)  # Spark's builds under the suite's load: see tiny_sample
    assert killed.returncode == -signal.SIGKILL, (
        f"the run did not reach the {point} point: {out[-1500:]}{err[-1500:]}"
    )


def _same_activation_files(folder, expected: dict[str, bytes], after: str) -> None:
    built = files(folder)
    assert expected, "the uninterrupted build wrote activation files"
    different = sorted(n for n in set(built) | set(expected) if built.get(n) != expected.get(n))
    assert different == [], f"after a kill at {after}, activation files differ from an uninterrupted build"


@pytest.mark.parametrize(
    ("point", "engine"),
    [("ingest", "postgres"), ("model", "postgres"), ("deliver", "postgres"), ("crm_writeback", "postgres"),
     ("model", "duckdb")],
)  # fmt: skip
def test_a_killed_build_leaves_nothing_half_done(point, engine, landing, uninterrupted, tmp_path, request):
    warehouse = request.getfixturevalue(f"{engine}_warehouse")
    tables, mails, activation = uninterrupted(warehouse)
    env = build_env(tmp_path, warehouse)
    _killed_at(point, landing, env)

    again = build(landing, env)
    assert "build OK" in again
    built = snapshot(warehouse)
    if point == "deliver":
        # The message in hand when the run died was handed over again, with its Message-ID (the
        # mailbox file is replaced; a mail system drops the copy): one more attempt, recorded.
        outboxes = {
            t: built[t][0].index("attempts") for t in ("journey_outbox", "sales_alert_outbox") if t in built
        }
        assert sum(int(row[i]) for t, i in outboxes.items() for row in built[t][1:]) == len(mails) + 1
        built, tables = (  # copies: `tables` is shared by the module's tests
            t | {o: [row[:i] + row[i + 1 :] for row in t[o]] for o, i in outboxes.items()}
            for t in (built, tables)
        )
    different = differences(built, tables)
    assert different == {}, f"after a kill at {point}, tables differ from an uninterrupted build: {different}"
    assert mailbox(tmp_path / "mailbox") == mails and mails, "each message once: none lost, none doubled"
    _same_activation_files(tmp_path / "activation", activation, point)


def test_kills_in_the_journeys_and_every_activation_asset_change_no_output(
    landing, uninterrupted, tmp_path, duckdb_warehouse
):
    """Each run of the chain dies at the next point, after the previous runs died at theirs (so
    the later ones re-run activations an earlier one completed at the same as-of); then one run
    completes: tables, messages and every activation file as in one uninterrupted build."""
    tables, mails, activation = uninterrupted(duckdb_warehouse)
    env = build_env(tmp_path, duckdb_warehouse)
    for point in ACTIVATION_CHAIN:
        _killed_at(point, landing, env)
    assert "build OK" in build(landing, env)
    different = differences(snapshot(duckdb_warehouse), tables)
    assert different == {}, f"after kills at {ACTIVATION_CHAIN}, tables differ: {different}"
    assert mailbox(tmp_path / "mailbox") == mails and mails, "each message once: none lost, none doubled"
    _same_activation_files(tmp_path / "activation", activation, ", ".join(ACTIVATION_CHAIN))
