"""The fast path end to end with real processes: a build, then `dagster dev` with the
project's sensors on; an activities file lands that lifts one buying group over a score
threshold; the sales alert reaches the mailbox folder by itself, without a full build. The time it
takes is the benchmark's business (`blueprint bench --fast-path`, docs/benchmarks.md); here it
must simply arrive."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from blueprint_pipeline.core.paths import PROJECT_DIR
from blueprint_pipeline.generator.generate import generate
from blueprint_pipeline.generator.scales import scale_named
from blueprint_pipeline.runtime.fast_path import measure, probe_config

# The steps of the assets tagged AFTER_THE_ALERTS (Dagster names a multi-asset's copies kpis_2, ...).
AFTER_ALERTS_STEPS = (
    "linkedin_audiences",
    "marketo_static_lists",
    "crm_buying_group_writeback",
    "kpis",
    "dashboard",
)


@pytest.mark.slow
def test_activity_file_to_alert_in_the_mailbox(tmp_path):
    landing, warehouse = tmp_path / "landing", tmp_path / "warehouse.duckdb"
    generate(landing, scale_named("tiny"), 7, force=True, report=lambda line: None)
    config = probe_config(tmp_path / "config")
    env = {
        **os.environ,
        "DAGSTER_HOME": str(PROJECT_DIR),
        "BLUEPRINT_DAGSTER_STORAGE": str(tmp_path / "dagster"),
    }
    built = subprocess.run(
        [sys.executable, "-m", "blueprint_pipeline.runtime.cli", "run", "--landing", str(landing), "--warehouse",
         f"duckdb:///{warehouse}", "--config", str(config)],
        env=env, capture_output=True, text=True,
    )  # fmt: skip
    assert built.returncode == 0, built.stdout + built.stderr
    result = measure(
        landing, warehouse, tmp_path / "dagster", tmp_path / "mailbox", config, timeout=600
    )  # a liveness bound: ~30 s idle, slack for a loaded CI machine
    assert result.seconds is not None, f"no alert for {result.group} (lead {result.lead_id}) within 600 s"
    # The run the sensor started, read back from the instance: in order, and what sends lists out
    # or draws reports waited for the alert's steps (core/step_order.py).
    timeline = result.timeline
    assert 0 < timeline["run created"] < timeline["started"] < timeline["sales_alerts done"], (
        result.breakdown()
    )
    assert timeline["sales_alerts done"] <= timeline["journey_deliveries done"] <= timeline["run ended"]
    later = {step: start for step, (start, _) in result.steps.items() if step.startswith(AFTER_ALERTS_STEPS)}
    assert later, sorted(result.steps)  # the fast path rebuilds LinkedIn's lists and the KPIs
    assert min(later.values()) >= timeline["journey_deliveries done"], (later, result.breakdown())
