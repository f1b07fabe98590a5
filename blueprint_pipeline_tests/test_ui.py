"""`dagster dev` through workspace.yaml serves the asset graph grouped by layer (asked over GraphQL)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from blueprint_pipeline.paths import PROJECT_DIR

# dagster dev ignores SIGTERM inherited as ignored; reset the handlers before exec (TOOLCHAIN.md).
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


@pytest.fixture
def dagster_dev(tmp_path: Path):
    port = free_port()
    dagster = str(Path(sys.executable).parent / "dagster")
    env = {
        **os.environ,
        "DAGSTER_HOME": str(PROJECT_DIR),
        "BLUEPRINT_DAGSTER_STORAGE": str(tmp_path / "dagster"),
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            WRAPPER,
            dagster,
            "dev",
            "-w",
            "workspace.yaml",
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
        ],
        cwd=PROJECT_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                nodes = post(f"{base}/graphql", QUERY)["data"]["assetNodes"]
                if nodes:
                    break
            except (OSError, KeyError, TypeError):
                pass
            time.sleep(1)
        else:
            pytest.fail("dagster dev did not serve the asset graph within 90 s")
        yield base
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


def test_ui_shows_assets_grouped_by_layer(dagster_dev):
    nodes = post(f"{dagster_dev}/graphql", QUERY)["data"]["assetNodes"]
    groups = {node["groupName"] for node in nodes}
    keys = {"/".join(node["assetKey"]["path"]): node["groupName"] for node in nodes}
    assert {"sources", "staging"} <= groups
    assert keys["raw_salesforce__account"] == "sources"
    assert keys["stg_salesforce__accounts"] == "staging"
