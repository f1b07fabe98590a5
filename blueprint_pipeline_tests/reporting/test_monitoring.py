"""Monitoring: the freshness check of each source system, and the run-failure sensor
that mails (through the journeys' delivery) who config names, without data values."""

from __future__ import annotations

import os
from datetime import datetime

import dagster as dg

from blueprint_pipeline.defs.reporting.monitoring import run_failure_alerts
from blueprint_pipeline.defs.sources.assets import freshness
from blueprint_pipeline.resources import BlueprintConfigResource, DeliveryResource


def test_freshness_by_the_newest_file(tmp_path):
    as_of = datetime(2026, 11, 26, 12, 0)
    old, new = tmp_path / "Account.csv", tmp_path / "Contact.csv"
    for path, at in ((old, datetime(2026, 11, 20, 12, 0)), (new, datetime(2026, 11, 25, 0, 0))):
        path.write_text("Id\n")
        os.utime(path, (at.timestamp(), at.timestamp()))
    fresh = freshness("salesforce", [old, new], 48, as_of)  # newest: 36 h old (this machine's zone aside)
    assert fresh.passed and fresh.metadata["newest_file"].value == "Contact.csv"
    stale = freshness("salesforce", [old, new], 24, as_of)  # 36 h > 24 h
    assert not stale.passed and stale.severity == dg.AssetCheckSeverity.WARN
    assert not freshness("marketo", [], 24, as_of).passed  # nothing ever landed
    assert freshness("tracking", [], None, as_of).passed  # not watched


@dg.asset
def broken():
    raise ValueError("bad value 'ann@example.com'")


def test_a_failed_run_is_mailed_once_without_values(tmp_path):
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "reporting.yaml").write_text(
        "monitoring: {run_failures_to: [ops@example.com, cto@example.com]}\n"
    )
    instance = dg.DagsterInstance.ephemeral()
    result = dg.materialize([broken], instance=instance, raise_on_error=False)
    failure = next(e for e in result.all_events if e.event_type_value == "PIPELINE_FAILURE")
    resources = {"delivery": DeliveryResource(mailbox_dir=str(tmp_path / "mailbox")),
                 "blueprint_config": BlueprintConfigResource(config_dir=str(tmp_path / "config"))}  # fmt: skip
    for _ in range(2):  # a sensor tick retried: the same two messages, not four
        context = dg.build_run_status_sensor_context(
            sensor_name="run_failure_alerts", dagster_instance=instance, dagster_run=result.dagster_run,
            dagster_event=failure, resources=resources,
        ).for_run_failure()  # fmt: skip
        run_failure_alerts(context)
    mails = sorted((tmp_path / "mailbox").glob("*.eml"))
    assert len(mails) == 2
    text = mails[0].read_text()
    assert f"Subject: [blueprint] run failed: __ephemeral_asset_job__ ({result.run_id[:8]})" in text
    assert "- broken: ValueError: bad value '...'" in text.replace("=\n", "")
    assert "ann@example.com" not in text
    assert {m.read_text().split("To: ")[1].split("\n")[0] for m in mails} == {
        "ops@example.com",
        "cto@example.com",
    }
