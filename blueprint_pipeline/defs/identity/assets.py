"""The identity graph's components: which source records are one person."""

import dagster as dg

from blueprint_pipeline.identity.graph import components
from blueprint_pipeline.resources import BlueprintConfigResource
from blueprint_pipeline.run_facts import run_facts
from blueprint_pipeline.warehouse import Warehouse


@dg.asset(
    group_name="identity",
    kinds={"python", "scipy"},
    deps=["int_identity_nodes", "int_identity_edges"],
    automation_condition=dg.AutomationCondition.eager()
    & dg.AutomationCondition.all_deps_blocking_checks_passed(),
)
def int_identity_components(
    context: dg.AssetExecutionContext, warehouse: Warehouse, blueprint_config: BlueprintConfigResource
) -> dg.MaterializeResult:
    """One row per source record with its component (the person it belongs to, before stable ids):
    connected components of the identity graph, computed with scipy's sparse graph routines."""
    facts = run_facts(context, blueprint_config.loaded.version)
    with warehouse.transaction() as session:
        nodes = session.fetch_df("select source_key from int_identity_nodes")
        edges = session.fetch_df("select source_key, other_key from int_identity_edges")
        found = components(nodes["source_key"], edges)
        session.replace_table("int_identity_components", found)
    persons = int(found["component_key"].nunique())
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": len(found),
            "persons": persons,
            "edges": len(edges),
            "dagster/table_name": "int_identity_components",
            **facts.metadata(),
        }
    )
