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
