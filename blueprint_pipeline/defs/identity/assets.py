"""The identity graph's components (which source records are one person) and stable person ids."""

import dagster as dg
import pandas as pd

from blueprint_pipeline.core.histories import check_history_moves_forward
from blueprint_pipeline.core.run_facts import run_facts
from blueprint_pipeline.identity.graph import components
from blueprint_pipeline.identity.stable_ids import EVENT_COLUMNS, RECORDS, REGISTRY_COLUMNS, Evidence, assign
from blueprint_pipeline.resources import BlueprintConfigResource
from blueprint_pipeline.warehouse import Warehouse
from blueprint_pipeline.warehouse.stateful import create


@dg.asset(
    kinds={"python", "scipy"},
    deps=["int_identity_nodes", "int_identity_edges", "int_identity_match_pairs"],
)
def int_identity_components(
    context: dg.AssetExecutionContext, warehouse: Warehouse, blueprint_config: BlueprintConfigResource
) -> dg.MaterializeResult:
    """One row per source record with its component (the person it belongs to, before stable ids):
    connected components of the identity graph, computed with scipy's sparse graph routines. The
    graph's edges are the deterministic ones (ids, conversions, merges, exact email) and the model's
    matches and reviewers' `same` pairs (int_identity_match_pairs)."""
    facts = run_facts(context, blueprint_config.loaded.version)
    with warehouse.transaction() as session:
        nodes = session.fetch_df("select source_key from int_identity_nodes")
        edges = session.fetch_df(
            "select source_key, other_key from int_identity_edges "
            "union all select source_key, other_key from int_identity_match_pairs "
            "where outcome in ('match', 'same')"
        )
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


def _evidence(session) -> Evidence:
    """The graph's edges with their causes, as int_identity_components read them, and the pairs
    reviewers keep apart (stable_ids.Evidence)."""
    edges = session.fetch_df(
        "select source_key, other_key, cast($records as varchar) as cause from int_identity_edges "
        "union all select source_key, other_key, cause from int_identity_match_pairs "
        "where outcome in ('match', 'same')",
        {"records": RECORDS},
    )
    apart = session.fetch_df(
        "select source_key, other_key from int_identity_match_pairs where outcome = 'different'"
    )
    model = session.fetch_df("select distinct cause from int_identity_match_pairs where cause like 'model %'")
    return Evidence(edges, apart, model["cause"].iloc[0] if len(model) else None)


@dg.asset(
    kinds={"python"},
    deps=[int_identity_components],
)
def person_registry(
    context: dg.AssetExecutionContext, warehouse: Warehouse, blueprint_config: BlueprintConfigResource
) -> dg.MaterializeResult:
    """Stable person ids: source key -> person_id, kept across builds; creations, merges (the older
    id survives) and splits are appended to `person_id_history`, with the as-of time, config version
    and cause (new or changed records, a new model version, a reviewer's decision)."""
    facts = run_facts(context, blueprint_config.loaded.version)
    with warehouse.transaction() as session:
        check_history_moves_forward(session, facts.as_of, "person_id_history")
        found = session.fetch_df("select source_key, component_key from int_identity_components")
        previous = (
            session.fetch_df("select source_key, person_id, person_created_at from person_registry")
            if session.table_exists("person_registry")
            else pd.DataFrame(columns=REGISTRY_COLUMNS)
        )
        result = assign(found, previous, facts.as_of, _evidence(session))
        session.replace_table("person_registry", result.registry)
        create(session, "person_id_history")
        events = result.events.assign(config_version=facts.config_version)
        if len(events):
            session.insert_from_local_query(
                "person_id_history",
                [*EVENT_COLUMNS, "config_version"],
                "select * from events",
                frames={"events": events},
            )
    counts = result.events["event"].value_counts().to_dict()
    causes = result.events.groupby(["event", "cause"]).size()
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": len(result.registry),
            "persons": int(result.registry["person_id"].nunique()),
            "persons_created": int(counts.get("created", 0)),
            "persons_merged": int(counts.get("merged", 0)),
            "persons_split": int(counts.get("split", 0)),
            "events_by_cause": ", ".join(f"{e} {c}: {n}" for (e, c), n in causes.items()) or "(none)",
            **facts.metadata(),
        }
    )
