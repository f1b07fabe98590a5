"""`dagster dev` through workspace.yaml, asked over GraphQL: it serves the asset graph grouped by
layer, and its run queue takes runs one at a time on the embedded default."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from dagster import DagsterRunStatus
from dagster_graphql import DagsterGraphQLClient

from blueprint_pipeline.core.paths import PROJECT_DIR
from blueprint_pipeline.generator.generate import generate
from blueprint_pipeline.generator.scales import scale_named
from blueprint_pipeline.warehouse import DuckDBWarehouse
from blueprint_pipeline_tests.builds import build_env

# dagster dev ignores SIGTERM inherited as ignored; reset the handlers before exec, or it never stops.
WRAPPER = (
    "import os,signal,sys; signal.signal(signal.SIGINT, signal.SIG_DFL); "
    "signal.signal(signal.SIGTERM, signal.SIG_DFL); os.execv(sys.argv[1], sys.argv[1:])"
)
QUERY = "{ assetNodes { assetKey { path } groupName } }"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def post(url: str, query: str) -> dict:
    request = urllib.request.Request(
        url, data=json.dumps({"query": query}).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


@contextmanager
def dagster_dev(env: dict, port: int) -> Iterator[None]:
    """`dagster dev` (webserver and daemon) from the project folder, stopped with its processes."""
    dagster = str(Path(sys.executable).parent / "dagster")
    process = subprocess.Popen(
        [sys.executable, "-c", WRAPPER, dagster, "dev", "-w", "workspace.yaml", "-h", "127.0.0.1", "-p", str(port)],
        cwd=PROJECT_DIR, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    try:
        yield
    finally:
        process.terminate()  # dagster dev alone: it stops its tree, code servers included
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=60)
        # Whatever of its group outlived it: a code server seen running 30 minutes after its test
        # (it ignores SIGTERM). The group is this test's own session (start_new_session).
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


@pytest.fixture(scope="module")
def embedded_dagster_dev(tmp_path_factory):
    """`dagster dev` on the embedded default: the project's SQLite instance, a DuckDB warehouse and
    a tiny landing folder, sensors off (nothing runs unless a test asks). Yields its port."""
    folder = tmp_path_factory.mktemp("dagster-dev")
    generate(folder / "landing", scale_named("tiny"), 7, force=True, report=lambda line: None)
    env = build_env(folder, DuckDBWarehouse(path=str(folder / "warehouse.duckdb")))
    env["BLUEPRINT_LANDING_DIR"] = str(folder / "landing")
    port = free_port()
    with dagster_dev(env, port):
        deadline = time.monotonic() + 300  # ~15 s alone; a loaded two-core CI machine is slower
        while time.monotonic() < deadline:
            try:
                if post(f"http://127.0.0.1:{port}/graphql", QUERY)["data"]["assetNodes"]:
                    break
            except (OSError, KeyError, TypeError):
                pass
            time.sleep(1)
        else:
            pytest.fail("dagster dev did not serve the asset graph within 300 s")
        yield port


def test_ui_shows_assets_grouped_by_layer(embedded_dagster_dev):
    nodes = post(f"http://127.0.0.1:{embedded_dagster_dev}/graphql", QUERY)["data"]["assetNodes"]
    groups = {node["groupName"] for node in nodes}
    keys = {"/".join(node["assetKey"]["path"]): node["groupName"] for node in nodes}
    assert {"sources", "staging"} <= groups
    assert keys["raw_salesforce__account"] == "sources"
    assert keys["stg_salesforce__accounts"] == "staging"


def test_the_run_queue_takes_runs_one_at_a_time(embedded_dagster_dev):
    """DuckDB allows one writing process, so the embedded instance's queue (dagster.yaml,
    max_concurrent_runs: 1) starts a run only once the run before it has ended. Two runs of the
    same assets, submitted together: the second waits in the queue, then both succeed."""
    client = DagsterGraphQLClient("127.0.0.1", port_number=embedded_dagster_dev)
    selection = [["raw_salesforce__account"], ["stg_salesforce__accounts"]]
    ids = [client.submit_job_execution("__ASSET_JOB", asset_selection=selection) for _ in range(2)]
    deadline = time.monotonic() + 600  # a liveness bound: two tiny runs, one after the other
    while time.monotonic() < deadline and not all(client.get_run_status(i) in FINISHED for i in ids):
        time.sleep(1)
    runs = post(f"http://127.0.0.1:{embedded_dagster_dev}/graphql", RUNS % json.dumps(ids))["data"][
        "runsOrError"
    ]
    first, second = sorted(runs["results"], key=lambda run: run["startTime"] or float("inf"))
    assert [first["status"], second["status"]] == ["SUCCESS", "SUCCESS"], runs
    assert second["creationTime"] < first["endTime"], "the second run existed while the first ran"
    assert second["startTime"] >= first["endTime"], f"the runs overlapped: {first} {second}"


FINISHED = {DagsterRunStatus.SUCCESS, DagsterRunStatus.FAILURE, DagsterRunStatus.CANCELED}
RUNS = (
    "{ runsOrError(filter: {runIds: %s}) { ... on Runs { results "
    "{ runId status creationTime startTime endTime } } } }"
)
