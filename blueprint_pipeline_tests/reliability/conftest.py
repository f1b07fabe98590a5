"""The reliability suites' builds: a tiny sample, built by `blueprint run` in a subprocess (so a
kill takes the whole run), and the tables of one uninterrupted build to compare with."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from blueprint_pipeline.paths import PROJECT_DIR
from blueprint_pipeline.warehouse import DuckDBWarehouse
from blueprint_pipeline_tests.builds import build_env
from blueprint_pipeline_tests.snapshots import mailbox, snapshot

AS_OF = "2026-11-25T00:00:00"
CONFIG = str(PROJECT_DIR / "examples" / "config")


def start_build(landing: Path, env: dict) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "blueprint_pipeline.cli", "run", "--landing", str(landing), "--config", CONFIG,
         "--as-of", AS_OF],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def build(landing: Path, env: dict) -> str:
    process = start_build(landing, env)
    out, err = process.communicate(timeout=600)
    assert process.returncode == 0, out[-2000:] + err[-3000:]
    return out


@pytest.fixture(scope="module")
def landing(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("faults")
    env = {k: v for k, v in os.environ.items() if not k.startswith("BLUEPRINT_")}
    subprocess.run(
        [sys.executable, "-m", "blueprint_pipeline.cli", "generate", "--scale", "tiny", "--seed", "3",
         "--out", str(root / "landing")],
        env=env, check=True, capture_output=True,
    )  # fmt: skip
    return root / "landing"


@pytest.fixture(scope="module")
def uninterrupted(landing, tmp_path_factory):
    """The tables and mailbox of one uninterrupted build, per engine."""
    built = {}

    def of(warehouse) -> tuple[dict, list[str]]:
        kind = warehouse.dialect
        if kind not in built:
            folder = tmp_path_factory.mktemp(f"uninterrupted-{kind}")
            target = DuckDBWarehouse(path=str(folder / "w.duckdb")) if kind == "duckdb" else warehouse
            build(landing, build_env(folder, target))
            built[kind] = (snapshot(target), mailbox(folder / "mailbox"))
            if kind == "postgres":  # the reference lived in the test's schema: start the test afresh
                with warehouse.session() as session:
                    for table in session.list_tables():
                        session.execute(f'drop table "{table}"')
        return built[kind]

    return of
