"""Stable person ids over the identity graph's components (int_identity_components, computed
with the person matching in matching.py)."""

import dagster as dg

from blueprint_pipeline.core.histories import check_history_moves_forward
from blueprint_pipeline.core.run_facts import run_facts
from blueprint_pipeline.identity.registry import assign_all, assign_changed
from blueprint_pipeline.identity.stable_ids import EVENT_COLUMNS
from blueprint_pipeline.resources import BlueprintConfigResource
from blueprint_pipeline.warehouse import Warehouse
from blueprint_pipeline.warehouse.stateful import create


@dg.asset(
    kinds={"python"},
    deps=["int_identity_components"],
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
        if session.table_exists("person_registry") and not facts.full_refresh:
            result, assigned = assign_changed(session, facts.as_of)
        else:
            result, assigned = assign_all(session, facts.as_of)
        rows, persons = session.fetchall("select count(*), count(distinct person_id) from person_registry")[0]
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
            "dagster/row_count": int(rows),
            "persons": int(persons),
            "records_assigned": assigned,
            "summary/person ids": f"{int(persons):,} persons; {assigned:,} record(s) assigned ids "
            + ("this build" if assigned >= rows else "this build, the others' persons unchanged"),
            "persons_created": int(counts.get("created", 0)),
            "persons_merged": int(counts.get("merged", 0)),
            "persons_split": int(counts.get("split", 0)),
            "events_by_cause": ", ".join(f"{e} {c}: {n}" for (e, c), n in causes.items()) or "(none)",
            **facts.metadata(),
        }
    )
