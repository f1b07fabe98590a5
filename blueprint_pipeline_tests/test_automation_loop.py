"""With `dagster dev` (and its daemon) up and BLUEPRINT_AUTOMATION=on, the loop runs by itself:
files land -> the landing sensor starts a build -> the journeys run -> delivery puts their emails
in the mailbox folder. Nothing here starts a run by hand."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from blueprint_pipeline.generator.generate import generate
from blueprint_pipeline.generator.scales import scale_named
from blueprint_pipeline.paths import PROJECT_DIR
from blueprint_pipeline_tests.test_ui import WRAPPER, free_port


@pytest.mark.slow
def test_files_to_mailbox_without_a_hand_on_it(tmp_path: Path):
    landing, mailbox = tmp_path / "landing", tmp_path / "mailbox"
    generate(landing, scale_named("tiny"), 7, force=True, report=lambda line: None)
    env = {
        **os.environ,
        "DAGSTER_HOME": str(PROJECT_DIR),
        "BLUEPRINT_DAGSTER_STORAGE": str(tmp_path / "dagster"),
        "BLUEPRINT_LANDING_DIR": str(landing),
        "BLUEPRINT_WAREHOUSE_URL": f"duckdb:///{tmp_path / 'warehouse.duckdb'}",
        "BLUEPRINT_CONFIG_DIR": str(PROJECT_DIR / "examples" / "bench-config"),  # every account enters
        "BLUEPRINT_MAILBOX_DIR": str(mailbox),
        "BLUEPRINT_AUTOMATION": "on",
    }
    dagster = str(Path(sys.executable).parent / "dagster")
    process = subprocess.Popen(
        [sys.executable, "-c", WRAPPER, dagster, "dev", "-w", "workspace.yaml", "-h", "127.0.0.1", "-p",
         str(free_port())],
        cwd=PROJECT_DIR, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and not _journey_mail(mailbox):
            time.sleep(2)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=60)
    emails = _journey_mail(mailbox)
    assert emails, "no email reached the mailbox within 5 minutes of dagster dev starting"
    failures = [p.read_text() for p in mailbox.glob("run-failure-*.eml")]  # the run-failure sensor's
    assert failures == [], failures
    assert "List-Unsubscribe:" in emails[0].read_text()


def _journey_mail(mailbox: Path) -> list[Path]:
    return [p for p in mailbox.glob("*.eml") if not p.name.startswith("run-failure-")]
