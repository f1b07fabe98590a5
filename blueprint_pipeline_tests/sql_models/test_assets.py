"""The runner as Dagster assets: specs from the translator, subsetting, blocking checks."""

from __future__ import annotations

import dagster as dg
import pytest

from blueprint_pipeline import catalog
from blueprint_pipeline.resources import BlueprintConfigResource
from blueprint_pipeline.sql_models.assets import build_sql_model_assets, spec_for
from blueprint_pipeline.sql_models.project import load_project
from blueprint_pipeline_tests.conftest import FIXTURES
from blueprint_pipeline_tests.sql_models.test_runner import BATCH_1, CUSTOMERS, load_raw


@pytest.fixture
def project():
    return load_project(FIXTURES / "sql_project")


def materialize(project, warehouse, selection=None):
    return dg.materialize(
        build_sql_model_assets(project),
        resources={"warehouse": warehouse, "blueprint_config": BlueprintConfigResource()},
        instance=dg.DagsterInstance.ephemeral(),
        selection=selection,
        tags={"blueprint/as_of": "2026-11-25T09:30:00Z"},
        raise_on_error=False,
    )


def test_translator_specs(project):
    spec = spec_for(project.models["customer_totals"])
    assert spec.key == dg.AssetKey("customer_totals")
    assert catalog.layer_of(spec) == "marts"  # its group, set by the catalog: the model's folder
    assert {d.asset_key for d in spec.deps} == {
        dg.AssetKey("stg_shop__orders"),
        dg.AssetKey("stg_shop__customers"),
    }
    assert spec.kinds == {"sql"}  # the catalog adds the warehouse
    assert "select" in spec.metadata["sql"].value.lower()
    staged = spec_for(project.models["stg_shop__orders"])
    assert {d.asset_key for d in staged.deps} == {dg.AssetKey("raw_shop__orders")}
    # The code version follows the SQL text.
    assert spec.code_version == project.models["customer_totals"].code_version
    assert spec.code_version != staged.code_version


def test_materialize_records_metadata_and_checks(duckdb_warehouse, project):
    load_raw(duckdb_warehouse, BATCH_1)
    result = materialize(project, duckdb_warehouse)
    assert result.success
    by_key = {
        e.materialization.asset_key.to_user_string(): e.materialization.metadata
        for e in result.get_asset_materialization_events()
    }
    assert by_key["customer_totals"]["dagster/row_count"].value == 2
    assert by_key["customer_totals"]["blueprint/as_of"].value == "2026-11-25T09:30:00"
    assert len(by_key["customer_totals"]["blueprint/config_version"].value) == 12
    checks = {
        (e.asset_key.to_user_string(), e.check_name): e.passed for e in result.get_asset_check_evaluations()
    }
    assert checks[("stg_shop__customers", "unique__customer_id")] is True
    assert checks[("customer_totals", "expression__totals_not_negative")] is True


def test_subset_runs_only_selected_models(duckdb_warehouse, project):
    load_raw(duckdb_warehouse, BATCH_1)
    result = materialize(
        project, duckdb_warehouse, selection="key:stg_shop__orders or key:stg_shop__customers"
    )
    assert result.success
    built = {e.materialization.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    assert built == {"stg_shop__orders", "stg_shop__customers"}
    with duckdb_warehouse.session() as s:
        assert not s.table_exists("customer_totals")


def test_failing_primary_key_blocks_downstream_and_keeps_the_last_good_table(duckdb_warehouse, project):
    load_raw(duckdb_warehouse, BATCH_1)
    assert materialize(project, duckdb_warehouse).success
    good = duckdb_warehouse.fetchall("select * from stg_shop__customers order by 1")

    load_raw(duckdb_warehouse, BATCH_1, [*CUSTOMERS, ("Bob", "Bob twin", "smb")])  # "bob" twice
    result = materialize(project, duckdb_warehouse)
    assert not result.success
    built = {e.materialization.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    assert "stg_shop__customers" not in built  # the bad version was rolled back, never published
    assert "customer_totals" not in built  # downstream of the failed blocking check: not built
    assert "stg_shop__orders" in built  # independent models still build
    assert duckdb_warehouse.fetchall("select * from stg_shop__customers order by 1") == good
    failed = [e for e in result.get_asset_check_evaluations() if not e.passed]
    assert [(e.check_name, e.severity) for e in failed] == [
        ("unique__customer_id", dg.AssetCheckSeverity.ERROR)
    ]
    assert failed[0].metadata["failing_rows"].value == 2


def test_warning_check_does_not_block(duckdb_warehouse, project):
    load_raw(duckdb_warehouse, BATCH_1, [*CUSTOMERS, ("carol", "Carol", "mid-market")])
    result = materialize(project, duckdb_warehouse)
    assert result.success
    failed = [(e.check_name, e.severity) for e in result.get_asset_check_evaluations() if not e.passed]
    assert ("accepted_values__segment", dg.AssetCheckSeverity.WARN) in failed
    assert all(severity == dg.AssetCheckSeverity.WARN for _, severity in failed)


def test_a_broken_model_does_not_stop_independent_ones(duckdb_warehouse, tmp_path):
    import shutil

    root = tmp_path / "project"
    shutil.copytree(FIXTURES / "sql_project", root)
    (root / "marts" / "broken.sql").write_text("select order_id as from {{ ref('stg_shop__orders') }}")
    (root / "marts" / "after_broken.sql").write_text("select * from {{ ref('broken') }}")
    project = load_project(root)
    load_raw(duckdb_warehouse, BATCH_1)
    result = materialize(project, duckdb_warehouse)
    assert not result.success
    built = {e.materialization.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    assert {"customer_totals", "order_history", "order_events"} <= built
    assert not {"broken", "after_broken"} & built
    failure = next(e for e in result.all_events if e.is_step_failure)
    error = failure.step_failure_data.error
    assert "1 model(s) failed in marts: broken:" in error.cause.message


def test_great_expectations_suite_runs_as_a_check(warehouse, project):
    # customer_totals: alice 12.5, bob 5.5; the suite allows totals up to 10 -> 1 of 2 rows unexpected.
    load_raw(warehouse, BATCH_1)
    result = materialize(project, warehouse)
    assert result.success  # a failed suite warns, it does not block
    gx = next(e for e in result.get_asset_check_evaluations() if e.check_name == "gx_suite")
    assert gx.asset_key == dg.AssetKey("customer_totals") and not gx.passed
    assert gx.severity == dg.AssetCheckSeverity.WARN
    assert gx.metadata["expectations"].value == 2 and gx.metadata["expectations_failed"].value == 1
    assert gx.metadata["rows_evaluated"].value == 2
    assert (
        "| expect_column_values_to_be_between | total_amount | NO | 50.00 |" in gx.metadata["results"].value
    )
