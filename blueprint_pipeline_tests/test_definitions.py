"""The definitions load (never skipped), with one asset group per layer and the run-one-at-a-time instance."""

from __future__ import annotations

import os
import subprocess
import sys

import dagster as dg
import yaml

from blueprint_pipeline.core.paths import PROJECT_DIR
from blueprint_pipeline.core.selections import FAST_PATH
from blueprint_pipeline.core.step_order import AFTER_THE_ALERTS
from blueprint_pipeline.definitions import build_definitions, defs
from blueprint_pipeline.defs.sources.sensors import fast_path_target
from blueprint_pipeline.sql_models.assets import GX_CHECK


def test_definitions_load():
    dg.Definitions.validate_loadable(defs())


def test_groups_follow_the_layers():
    graph = build_definitions().resolve_asset_graph()
    groups = {graph.get(key).group_name for key in graph.get_all_asset_keys()}
    sql_layers = {p.name for p in (PROJECT_DIR / "dbt_like_sql").iterdir() if p.is_dir()} - {"macros"}
    python_only = {
        "journeys",
        "activation",
        "governance",
        "qualification",
    }  # layers of Python assets only (docs/architecture.md's layers; reporting has SQL models too)
    assert groups == {"sources"} | sql_layers | python_only
    key = dg.AssetKey("raw_salesforce__opportunity_contact_role")
    assert graph.get(key).group_name == "sources"


def test_python_models_that_sql_refs_are_assets():
    # dbt_like_sql/python_models.yml lets models ref() tables Python assets build: each must exist.
    declared = yaml.safe_load((PROJECT_DIR / "dbt_like_sql" / "python_models.yml").read_text())
    keys = build_definitions().resolve_asset_graph().get_all_asset_keys()
    missing = {e["name"] for e in declared["python_models"]} - {k.to_user_string() for k in keys}
    assert not missing


def test_dagster_dev_entry_point_loads():
    # What `dagster dev -w workspace.yaml` and the daemon load, in a fresh process.
    workspace = yaml.safe_load((PROJECT_DIR / "workspace.yaml").read_text())
    module = workspace["load_from"][0]["python_module"]["module_name"]
    env = {**os.environ, "DAGSTER_HOME": str(PROJECT_DIR), "BLUEPRINT_DAGSTER_STORAGE": "/tmp/unused"}
    done = subprocess.run(
        [sys.executable, "-m", "dagster", "definitions", "validate", "-m", module],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]


def test_project_instance_runs_one_at_a_time(tmp_path, monkeypatch):
    monkeypatch.setenv("BLUEPRINT_DAGSTER_STORAGE", str(tmp_path))
    instance = dg.DagsterInstance.from_config(str(PROJECT_DIR))
    try:
        assert instance.get_concurrency_config().run_queue_config.max_concurrent_runs == 1
        assert instance.run_coordinator.dequeue_interval_seconds == 1  # the fast path's wait in the queue
        assert type(instance.run_storage).__name__ == "SqliteRunStorage"
        assert (tmp_path / "history" / "runs.db").exists()
    finally:
        instance.dispose()


def test_only_what_nobody_waits_on_runs_after_the_alerts():
    # Steps tagged AFTER_THE_ALERTS start last among those ready: none may be what a sales alert,
    # its delivery or a journey needs, or the alert would wait for it after all.
    graph = build_definitions().resolve_asset_graph()
    later = {
        key.to_user_string()
        for key in graph.get_all_asset_keys()
        if graph.get(key).assets_def.op.tags.get("dagster/priority") == AFTER_THE_ALERTS["dagster/priority"]
    }
    assert {"linkedin_audiences", "marketo_static_lists", "crm_buying_group_writeback", "dashboard"} <= later
    urgent = [dg.AssetKey(k) for k in ("sales_alerts", "journey_deliveries", "journey_enrolments")]
    needed = {k.to_user_string() for key in urgent for k in graph.get_ancestor_asset_keys(key)}
    assert not later & needed


def test_the_fast_path_runs_every_data_test_but_the_sampled_suites():
    graph = build_definitions().resolve_asset_graph()
    everything = dg.AssetSelection.from_string(FAST_PATH).resolve_checks(graph)
    run = fast_path_target().resolve_checks(graph)
    left_out = everything - run
    assert left_out and {check.name for check in left_out} == {GX_CHECK}
    assert (
        dg.AssetCheckKey(
            dg.AssetKey("person_activity_days"), "unique_combination__person_id__kind__activity_day"
        )
        in run
    )


def test_docs_list_every_source_field():
    from blueprint_pipeline.core.paths import SQL_PROJECT_DIR
    from blueprint_pipeline.sql_models.project import load_project

    doc = (PROJECT_DIR / "docs" / "sources.md").read_text()
    for (system, name), obj in load_project(SQL_PROJECT_DIR).sources.items():
        row = next((line for line in doc.splitlines() if line.startswith(f"| {system} | {name} |")), None)
        assert row is not None, f"docs/sources.md has no row for {system} {name}"
        for field in obj.columns:
            assert field in row, f"docs/sources.md: {system} {name} lacks {field}"


def test_every_asset_reads_well_in_the_ui():
    """Kinds (at most three, the warehouse among them), an owner, its layer as a tag, a
    description that states the grain (docs/reporting.md#the-ui)."""
    graph = build_definitions().resolve_asset_graph()
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        name = key.to_user_string()
        assert len(node.kinds) <= 3 and "duckdb" in node.kinds, name
        assert node.owners, name
        assert node.tags.get("layer") == node.group_name, name
        description = (node.description or "").lower()
        assert "grain" in description or "one row per" in description, name


def test_previews_leave_out_personal_columns(duckdb_warehouse):
    import pandas as pd

    from blueprint_pipeline.sql_models.published import published

    with duckdb_warehouse.transaction() as session:
        session.replace_table(
            "buying_groups",
            pd.DataFrame({"buying_group_id": ["g1"], "account_id": ["A1"], "completeness_score": [0.5],
                          "email": ["ann@x.com"], "first_name": ["Ann"], "person_id": ["p_1"], "title": ["CIO"]}),
        )  # fmt: skip
    metadata = published(duckdb_warehouse, "buying_groups")
    preview = metadata["preview"].value
    assert metadata["dagster/row_count"] == 1 and metadata["key figure: mean completeness"] == 0.5
    assert "g1" in preview and "A1" in preview and "4 column(s) that may identify a person" in preview
    for value in ("ann@x.com", "Ann", "p_1", "CIO"):
        assert value not in preview
