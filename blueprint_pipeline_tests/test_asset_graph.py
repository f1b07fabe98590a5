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

from blueprint_pipeline.core.paths import SQL_PROJECT_DIR
from blueprint_pipeline.definitions import build_definitions
from blueprint_pipeline.sql_models.project import load_project
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


# Checks a Python asset computes itself, because their answer is not a count of rows failing a
# condition on its own tables. Every other check of a Python asset is a data test declared in
# dbt_like_sql/python_models.yml and run in the asset's transaction (sql_models/checks.py).
PYTHON_COMPUTED_CHECKS = {
    ("buying_groups", "solution_interests_exist"): "the groups' interests against the config",
    ("person_account_links", "linked_share"): "a share against the config's threshold",
    ("buying_group_stage_history", "moves_allowed_by_model"): "moves against the config's stage model",
    ("qualification_models", "better_than_rule_score"): "a trained model's evaluation",
    ("sales_feedback", "every_decision_usable"): "lists the unusable rows with their problem",
    ("crm_buying_group_writeback", "no_forbidden_field"): "the governance policy in the config",
    **{
        (asset, check): "the governance and consent policies in the config (activation/checks.py)"
        for asset in ("linkedin_audiences", "marketo_static_lists")
        for check in ("members_match_definition", "no_forbidden_field", "no_opted_out_person")
    },
    **{
        (f"raw_{source}", "extract_fresh"): "the extract's age against the config's freshness limit"
        for source in (
            "linkedin__lead_gen_responses",
            "marketo__leads",
            "sales__feedback",
            "salesforce__account",
            "tracking__events",
        )
    },
}


def test_python_assets_check_only_declared_tests_or_listed_computations():
    declared = {
        (m.name, t.name) for m in load_project(SQL_PROJECT_DIR).python_models.values() for t in m.tests
    }
    python_checks = {
        (asset, check)
        for asset, node in _graph()["assets"].items()
        if "sql" not in node["kinds"]
        for check in node["checks"]
    }
    assert python_checks - declared == set(PYTHON_COMPUTED_CHECKS)
