"""The whole asset graph as a reviewed snapshot (`fixtures/asset_graph.json`): every asset's group,
kinds, owners, automation condition and upstream assets, every check, job, sensor and schedule. A change to the graph, meant or
not, fails here with the diff, so a refactor that is meant to change nothing shows that it did not
and one that moves an edge shows which; rewrite the file on purpose with
`BLUEPRINT_UPDATE_GRAPH=1 .venv/bin/pytest blueprint_pipeline_tests/test_asset_graph.py` and
commit it beside the change."""

from __future__ import annotations

import difflib
import json
import os

import dagster as dg

from blueprint_pipeline.definitions import build_definitions
from blueprint_pipeline_tests.conftest import FIXTURES

SNAPSHOT = FIXTURES / "asset_graph.json"
WAREHOUSE_KINDS = {"duckdb", "postgres"}  # which one depends on the warehouse configured, not the graph


def _automation(condition: dg.AutomationCondition | None) -> str | None:
    """A condition in words: its label (`eager`), else its operator over its operands."""
    if condition is None:
        return None
    if condition.get_label():
        return condition.get_label()
    return f"{condition.name}({', '.join(_automation(child) for child in condition.children)})"


def _graph() -> dict:
    definitions = build_definitions()
    graph = definitions.resolve_asset_graph()
    assets = {}
    for key in sorted(graph.get_all_asset_keys(), key=lambda k: k.to_user_string()):
        node = graph.get(key)
        assets[key.to_user_string()] = {
            "group": node.group_name,
            "kinds": sorted(node.kinds - WAREHOUSE_KINDS),
            "deps": sorted(parent.to_user_string() for parent in node.parent_keys),
            "checks": sorted(check.name for check in node.check_keys),
            "owners": sorted(node.owners),
            "automation": _automation(node.automation_condition),
        }
    return {
        "assets": assets,
        "jobs": sorted(job.name for job in definitions.resolve_all_job_defs()),
        "sensors": sorted(sensor.name for sensor in definitions.sensors or []),
        "schedules": sorted(schedule.name for schedule in definitions.schedules or []),
    }


def test_the_asset_graph_is_the_reviewed_one():
    graph = _graph()
    # One line per asset, so a diff names the asset whose edges changed.
    lines = [f"{json.dumps(k)}: {json.dumps(v, sort_keys=True)}" for k, v in graph.pop("assets").items()]
    text = '{"assets": {\n' + ",\n".join(lines) + "\n},\n" + json.dumps(graph, indent=1)[1:] + "\n"
    if os.environ.get("BLUEPRINT_UPDATE_GRAPH") == "1":
        SNAPSHOT.write_text(text)
    expected = SNAPSHOT.read_text() if SNAPSHOT.exists() else ""
    diff = "".join(
        difflib.unified_diff(expected.splitlines(True), text.splitlines(True), "reviewed", "built", n=2)
    )
    assert not diff, (
        f"the asset graph changed; if that is meant, rewrite {SNAPSHOT.name} with BLUEPRINT_UPDATE_GRAPH=1 "
        f"and commit it:\n{diff}"
    )
