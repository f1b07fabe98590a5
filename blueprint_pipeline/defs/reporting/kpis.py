"""Group `reporting`: the KPI tables (docs/reporting.md)."""

from collections.abc import Iterator

import dagster as dg

from blueprint_pipeline.core.run_facts import run_facts
from blueprint_pipeline.figures import labels
from blueprint_pipeline.published import published
from blueprint_pipeline.reporting.kpis import KPIS, with_timestamp_weeks
from blueprint_pipeline.resources import BlueprintConfigResource
from blueprint_pipeline.warehouse import Warehouse

INPUTS = [
    "buying_group_snapshots",
    "buying_group_role_snapshots",
    "buying_group_stage_history",
    "buying_groups",
    "person_account_links",
    "account_aliases",
    "stg_salesforce__opportunities",
    "stg_salesforce__tasks",
    "stg_tracking__events",
    "sales_alerts",
    "journey_enrolments",
    "journey_deliveries",
    "sales_feedback",
]


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            kpi.table,
            description=f"{kpi.definition}\n\nGrain: {kpi.grain}.",
            kinds={"python"},
            deps=INPUTS,
            tags={"kpi": ""},
        )
        for kpi in KPIS.values()
    ],
    can_subset=True,
)
def kpis(
    context: dg.AssetExecutionContext, warehouse: Warehouse, blueprint_config: BlueprintConfigResource
) -> Iterator[dg.MaterializeResult]:
    """Each KPI table, replaced every build from the tables it measures."""
    loaded = blueprint_config.loaded
    facts = run_facts(context, loaded.version)
    selected = {key.path[-1] for key in context.selected_asset_keys}
    latest = {}
    with warehouse.transaction() as session:
        for compute, kpi in KPIS.items():
            if kpi.table in selected:
                frame = with_timestamp_weeks(compute(session, loaded.config))
                session.replace_table(kpi.table, frame)
                latest[kpi.table] = frame.sort_values(frame.columns[0]).tail(3) if len(frame) else frame
    for kpi in KPIS.values():
        if kpi.table in latest:
            yield dg.MaterializeResult(
                asset_key=kpi.table,
                metadata={
                    **published(warehouse, kpi.table),
                    "definition": kpi.definition,
                    **({"figure": labels(loaded.config)[kpi.figure]} if kpi.figure else {}),
                    "latest": dg.MetadataValue.md(
                        latest[kpi.table].to_markdown(index=False)
                        if len(latest[kpi.table])
                        else "no rows yet"
                    ),
                    **facts.metadata(),
                },
            )
