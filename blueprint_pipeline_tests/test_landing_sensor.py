"""The landing sensor asks for a build once per new or changed file set, from its cursor alone."""

from __future__ import annotations

import os

import dagster as dg

from blueprint_pipeline.defs.sources.sensors import landing_files_sensor
from blueprint_pipeline.resources import LandingResource


def evaluate(tmp_path, cursor=None):
    context = dg.build_sensor_context(
        cursor=cursor, resources={"landing": LandingResource(path=str(tmp_path))}
    )
    return landing_files_sensor(context), context.cursor


def test_new_changed_and_unchanged_files(tmp_path):
    result, cursor = evaluate(tmp_path)
    assert isinstance(result, dg.SkipReason)  # nothing landed yet (folders may not exist)

    (tmp_path / "salesforce").mkdir()
    (tmp_path / "salesforce" / "Account.csv").write_text("Id\n001000000000001AAA\n")
    (tmp_path / "salesforce" / "notes.txt").write_text("not a CSV")
    first, cursor = evaluate(tmp_path, cursor)
    assert isinstance(first, dg.RunRequest) and first.tags["blueprint/new_files"] == "1"

    again, cursor2 = evaluate(tmp_path, cursor)
    assert isinstance(again, dg.SkipReason) and cursor2 == cursor

    path = tmp_path / "salesforce" / "Account.csv"
    path.write_text("Id\n001000000000001AAA\n001000000000002AAA\n")
    os.utime(path, ns=(1, 1))
    changed, _ = evaluate(tmp_path, cursor)
    assert isinstance(changed, dg.RunRequest) and changed.run_key != first.run_key


def test_activity_extracts_and_tracking_events_take_the_fast_path(tmp_path):
    """A new Marketo activities file or tracking events file starts a fast-path run (no full
    build); the landing sensor leaves them to it, and takes every other file."""
    from blueprint_pipeline.defs.sources.sensors import fresh_activities_sensor

    def both(cursors):
        resources = {"landing": LandingResource(path=str(tmp_path))}
        results = []
        for name, sensor in (("landing", landing_files_sensor), ("fresh", fresh_activities_sensor)):
            context = dg.build_sensor_context(cursor=cursors.get(name), resources=resources)
            results.append(sensor(context))
            cursors[name] = context.cursor
        return results

    cursors: dict = {}
    both(cursors)
    (tmp_path / "marketo").mkdir()
    (tmp_path / "marketo" / "activities_0042.csv").write_text("marketoGUID\n1\n")
    landing, fresh = both(cursors)
    assert isinstance(landing, dg.SkipReason) and isinstance(fresh, dg.RunRequest)
    (tmp_path / "marketo" / "leads.csv").write_text("id\n1\n")
    (tmp_path / "tracking").mkdir()
    (tmp_path / "tracking" / "events_1.csv").write_text("event_id\nx\n")
    landing, fresh = both(cursors)
    assert isinstance(landing, dg.RunRequest) and landing.tags["blueprint/new_files"] == "1"
    assert isinstance(fresh, dg.RunRequest) and fresh.tags["blueprint/new_files"] == "1"


def test_fresh_activities_asks_on_every_pass_of_the_sensor_loop():
    # Dagster's sensor loop passes every 5 s; an interval of 5 skipped the passes that started a
    # little early, so the fast path waited up to 10 s for its tick (docs/decisions.md).
    from blueprint_pipeline.defs.sources.sensors import fresh_activities_sensor

    assert fresh_activities_sensor.minimum_interval_seconds < 5
