"""The single entry point: every asset, check, sensor and resource of the project."""

from __future__ import annotations

import warnings
from pathlib import Path

import dagster as dg

from blueprint_pipeline.catalog import catalogued
from blueprint_pipeline.core.paths import SQL_PROJECT_DIR
from blueprint_pipeline.defs.sources.assets import build_source_assets
from blueprint_pipeline.executors import executor_for
from blueprint_pipeline.resources import (
    ActivationResource,
    BlueprintConfigResource,
    DeliveryResource,
    LandingResource,
    executor_settings,
    warehouse_from_env,
)
from blueprint_pipeline.sql_models.assets import build_sql_model_assets
from blueprint_pipeline.sql_models.project import load_project

# SQL layers whose models a module of `defs/` declares, with what the generic layer asset lacks:
# reporting's KPIs (`defs/reporting/kpis.py`) with the reporting config tables they join, built in
# the same step, each showing its figure label and latest rows; its dashboard frames
# (`defs/reporting/dashboard.py`) with the page drawn from them.
LAYERS_DECLARED_IN_DEFS = ("reporting",)


def build_definitions(
    sql_project_dir: Path = SQL_PROJECT_DIR, with_layer_packages: bool = True
) -> dg.Definitions:
    """Everything; tests pass another SQL project (without the Python layers, which expect ours)."""
    warehouse = warehouse_from_env()
    project = load_project(sql_project_dir)
    generated = dg.Definitions(
        assets=[
            *build_source_assets(project),
            *build_sql_model_assets(
                project, declared_elsewhere=LAYERS_DECLARED_IN_DEFS if with_layer_packages else ()
            ),
        ],
        resources={
            "warehouse": warehouse,
            "blueprint_config": BlueprintConfigResource(),
            "landing": LandingResource(),
            "delivery": DeliveryResource(),
            "activation": ActivationResource(),
        },
        # In the run's process unless BLUEPRINT_EXECUTOR says otherwise (blueprint_pipeline/executors.py).
        executor=executor_for(executor_settings(), warehouse),
    )
    everything = generated
    if with_layer_packages:
        layers = dg.load_from_defs_folder(path_within_project=Path(__file__).parent)
        everything = dg.Definitions.merge(layers, generated)
    # Every asset's group, owner, kinds and automation are set here, by blueprint_pipeline/catalog.py.
    with warnings.catch_warnings():  # map_asset_specs is marked preview in this Dagster release
        warnings.simplefilter("ignore", dg.PreviewWarning)
        return catalogued(everything, warehouse.dialect)


@dg.definitions
def defs() -> dg.Definitions:
    return build_definitions()
