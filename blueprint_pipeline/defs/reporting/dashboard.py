"""Group `reporting`: the stakeholder dashboard (docs/reporting.md#dashboard)."""

import dagster as dg

from blueprint_pipeline.core.run_facts import run_facts
from blueprint_pipeline.defs.reporting.kpis import KPI_MODELS
from blueprint_pipeline.reporting.dashboard import top_engagement, write
from blueprint_pipeline.resources import BlueprintConfigResource, reports_dir
from blueprint_pipeline.warehouse import Warehouse


@dg.asset(
    kinds={"python", "html"},
    deps=[
        *(m.name for m in KPI_MODELS),
        "buying_group_stages",
        "buying_group_engagement",
        "buying_group_roles",
        "buying_group_members",
        "account_engagement_scores",
        "person_engagement_scores",
        "journey_node_counts",
        "unified_accounts",
    ],
)
def dashboard(
    context: dg.AssetExecutionContext, warehouse: Warehouse, blueprint_config: BlueprintConfigResource
) -> dg.MaterializeResult:
    """dashboard.html (one self-contained page: overview, progression, coverage, journeys, tuning;
    opens with no network) and sales_handoff.csv (the qualified buying groups), in data/reports
    (BLUEPRINT_REPORTS_DIR)."""
    loaded = blueprint_config.loaded
    facts = run_facts(context, loaded.version)
    with warehouse.session() as session:
        path, handed_off = write(reports_dir(), session, loaded.config, f"{facts.as_of:%Y-%m-%d %H:%M} UTC")
        top = top_engagement(session, loaded.config)
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(path)),
            "bytes": path.stat().st_size,
            "sales_handoff_rows": handed_off,
            "summary/dashboard": f"{path} (open it in a browser; sales hand-off: {handed_off} "
            "qualified groups)",
            **({"summary/engagement": top} if top else {}),
            **facts.metadata(),
        }
    )
