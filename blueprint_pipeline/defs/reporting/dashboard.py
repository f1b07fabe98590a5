"""Group `reporting`: the stakeholder dashboard (docs/reporting.md#dashboard) and its frames.

The frames are SQL models in dbt_like_sql/reporting/ (`dashboard_*.sql`): one multi-asset builds
the selected ones by the SQL layers' runner, as `kpis` builds the KPIs, then renders the page from
them and the KPI tables. Its inputs are those models, so the graph shows what the page reads and a
frame whose input is missing fails the step, naming it, before any page is written.
"""

from collections.abc import Iterator

import dagster as dg

from blueprint_pipeline.core.run_facts import run_facts
from blueprint_pipeline.core.step_order import AFTER_THE_ALERTS
from blueprint_pipeline.defs.reporting.kpis import FRAME_MODELS, KPI_MODELS, LAYER, PROJECT
from blueprint_pipeline.reporting.dashboard import top_engagement, write
from blueprint_pipeline.resources import BlueprintConfigResource, reports_dir
from blueprint_pipeline.sql_models.assets import build_selected_models, check_specs_for, spec_for
from blueprint_pipeline.warehouse import Warehouse

PAGE = "dashboard"


@dg.multi_asset(
    specs=[
        *(spec_for(m) for m in FRAME_MODELS),
        dg.AssetSpec(
            PAGE,
            kinds={"python", "html"},
            deps=[m.name for m in (*KPI_MODELS, *FRAME_MODELS)],
            description="dashboard.html (one self-contained page: overview, progression, coverage, "
            "journeys, tuning; opens with no network) and sales_handoff.csv (the qualified buying "
            "groups), in data/reports (BLUEPRINT_REPORTS_DIR), drawn from the KPI tables and the "
            "dashboard's frames.",
        ),
    ],
    op_tags=AFTER_THE_ALERTS,
    check_specs=[spec for m in FRAME_MODELS for spec in check_specs_for(m)],
    can_subset=True,
)
def dashboard(
    context: dg.AssetExecutionContext, warehouse: Warehouse, blueprint_config: BlueprintConfigResource
) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
    """The selected frames, each replaced every build from the tables it reads (a frame whose input
    is missing fails the step, naming it, and no page is written); then, if selected, the page and
    the hand-off from what the frames and the KPI tables hold."""
    loaded = blueprint_config.loaded
    yield from build_selected_models(context, PROJECT, warehouse, loaded.version, layer=LAYER)
    if dg.AssetKey(PAGE) not in context.selected_asset_keys:
        return
    facts = run_facts(context, loaded.version)
    with warehouse.session() as session:
        path, handed_off = write(reports_dir(), session, loaded.config, f"{facts.as_of:%Y-%m-%d %H:%M} UTC")
        top = top_engagement(session, loaded.config)
    yield dg.MaterializeResult(
        asset_key=PAGE,
        metadata={
            "path": dg.MetadataValue.path(str(path)),
            "bytes": path.stat().st_size,
            "sales_handoff_rows": handed_off,
            "summary/dashboard": f"{path} (open it in a browser; sales hand-off: {handed_off} "
            "qualified groups)",
            **({"summary/engagement": top} if top else {}),
            **facts.metadata(),
        },
    )
