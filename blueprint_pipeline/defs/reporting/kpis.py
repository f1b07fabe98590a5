"""Group `reporting`: the KPI tables, SQL models in dbt_like_sql/reporting/ (docs/reporting.md),
and the reporting config they join.

One multi-asset builds both (Dagster may run it in several steps, as the SQL layers): the config
tables first (`reporting_*`: config `reporting`, the qualified
stages and each interest's opportunity type, as tables, so no config value is pasted into SQL),
then the selected models in dependency order, by the SQL layers' own runner. Each KPI's
materialisation also shows its definition, the label of the figure it measures (which depends on
the config) and its latest rows.
"""

from collections.abc import Iterator

import dagster as dg

from blueprint_pipeline.config.figures import labels
from blueprint_pipeline.core.paths import SQL_PROJECT_DIR
from blueprint_pipeline.core.run_facts import run_facts
from blueprint_pipeline.core.step_order import AFTER_THE_ALERTS
from blueprint_pipeline.reporting.kpis import config_tables
from blueprint_pipeline.resources import BlueprintConfigResource
from blueprint_pipeline.sql_models.assets import build_selected_models, check_specs_for, spec_for
from blueprint_pipeline.sql_models.project import SqlModel, load_project
from blueprint_pipeline.warehouse import Warehouse, quote

LAYER = "reporting"
PROJECT = load_project(SQL_PROJECT_DIR)
# The dashboard's frames (`dashboard_*.sql` beside the KPIs) are declared by the dashboard asset,
# which renders them (defs/reporting/dashboard.py); the other models of the folder are the KPIs.
FRAME_PREFIX = "dashboard_"
FRAME_MODELS = [m for m in PROJECT.in_order() if m.layer == LAYER and m.name.startswith(FRAME_PREFIX)]
KPI_MODELS = [m for m in PROJECT.in_order() if m.layer == LAYER and not m.name.startswith(FRAME_PREFIX)]
CONFIG_TABLES = {
    "reporting_settings": "The reporting config the KPIs use (reporting.alert_response_days).",
    "reporting_bands": "The completeness and score bands of config reporting: label and edges.",
    "reporting_qualified_stages": "The stages in which a buying group is qualified "
    "(alerts.milestones.qualified_stages).",
    "reporting_solution_interests": "Each solution interest and the CRM opportunity type it maps to "
    "(null: every type).",
}
LATEST_ROWS = 3


def _latest(warehouse: Warehouse, model: SqlModel) -> dg.MetadataValue:
    """The table's last rows by its first column (the week, for most), as a markdown table."""
    with warehouse.session() as session:
        frame = session.fetch_df(f"select * from {quote(model.name)}")
    if frame.empty:
        return dg.MetadataValue.md("no rows yet")
    return dg.MetadataValue.md(frame.sort_values(frame.columns[0]).tail(LATEST_ROWS).to_markdown(index=False))


@dg.multi_asset(
    specs=[
        *(dg.AssetSpec(name, description=text, kinds={"python"}) for name, text in CONFIG_TABLES.items()),
        *(spec_for(m).merge_attributes(tags={"kpi": ""}) for m in KPI_MODELS),
    ],
    op_tags=AFTER_THE_ALERTS,
    check_specs=[spec for m in KPI_MODELS for spec in check_specs_for(m)],
    can_subset=True,
)
def kpis(
    context: dg.AssetExecutionContext, warehouse: Warehouse, blueprint_config: BlueprintConfigResource
) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
    """The reporting config tables, then each KPI table, replaced every build from the tables it
    measures; a KPI whose input is missing fails the step, naming it."""
    config = blueprint_config.loaded.config
    selected = {key.to_user_string() for key in context.selected_asset_keys}
    tables = {name: frame for name, frame in config_tables(config).items() if name in selected}
    with warehouse.transaction() as session:
        for name, frame in tables.items():
            session.replace_table(name, frame)
    facts = run_facts(context, blueprint_config.loaded.version).metadata()
    for name, frame in tables.items():
        yield dg.MaterializeResult(asset_key=name, metadata={"dagster/row_count": len(frame), **facts})
    figures = labels(config)

    def shown(model: SqlModel) -> dict:
        figure = model.meta.get("figure")
        return {
            "definition": model.description,
            **({"figure": figures[figure]} if figure else {}),
            "latest": _latest(warehouse, model),
        }

    yield from build_selected_models(
        context, PROJECT, warehouse, blueprint_config.loaded.version, layer=LAYER, extra_metadata=shown
    )
