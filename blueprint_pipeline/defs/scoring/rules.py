"""The scoring config as a table the SQL models join: no config value is pasted into SQL."""

import dagster as dg

from blueprint_pipeline.core.run_facts import run_facts
from blueprint_pipeline.resources import BlueprintConfigResource
from blueprint_pipeline.scoring import tables
from blueprint_pipeline.warehouse import Warehouse
from blueprint_pipeline.warehouse.stateful import empty_select

JOURNEY_ADJUSTMENTS = "journey_score_adjustments"  # the journeys' own effect table


@dg.asset(kinds={"python"})
def scoring_activity_kinds(
    context: dg.AssetExecutionContext, warehouse: Warehouse, blueprint_config: BlueprintConfigResource
) -> dg.MaterializeResult:
    """Source activity -> kind (config `scoring.activity_kinds`): one row per (source, match)."""
    frame = tables.activity_kinds(blueprint_config.loaded.config.scoring)
    with warehouse.transaction() as session:
        session.replace_table("scoring_activity_kinds", frame)
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": len(frame),
            "kinds": ", ".join(sorted(set(frame["kind"]))),
            **run_facts(context, blueprint_config.loaded.version).metadata(),
        }
    )


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            "scoring_points",
            kinds={"python"},
        ),
        dg.AssetSpec(
            "scoring_settings",
            kinds={"python"},
        ),
        dg.AssetSpec(
            "person_score_adjustments",
            kinds={"python"},
            description="The points journeys added to persons' scores (change_score nodes) as the "
            f"previous run left them: a copy of `{JOURNEY_ADJUSTMENTS}`. The journeys run after "
            "scoring (an edge from them would be a cycle), so scoring reads their effect table from "
            "the run before (docs/architecture.md, the journey feedback loop).",
            metadata={"reads_previous_run": JOURNEY_ADJUSTMENTS},
        ),
    ]
)
def scoring_model_tables(
    context: dg.AssetExecutionContext, warehouse: Warehouse, blueprint_config: BlueprintConfigResource
):
    """The explainable model's config as tables: points and daily cap per kind; decay, lookback and
    group aggregation in one row."""
    scoring = blueprint_config.loaded.config.scoring
    points, settings = tables.points(scoring), tables.settings(scoring)
    with warehouse.transaction() as session:
        session.replace_table("scoring_points", points)
        session.replace_table("scoring_settings", settings)
        source = (
            JOURNEY_ADJUSTMENTS
            if session.table_exists(JOURNEY_ADJUSTMENTS)
            else f"({empty_select(JOURNEY_ADJUSTMENTS)}) as none_yet"
        )
        session.execute("drop table if exists person_score_adjustments")
        session.execute(f"create table person_score_adjustments as select * from {source}")
        adjustments = session.row_count("person_score_adjustments")
    facts = run_facts(context, blueprint_config.loaded.version).metadata()
    yield dg.MaterializeResult(
        asset_key="scoring_points", metadata={"dagster/row_count": len(points), **facts}
    )
    yield dg.MaterializeResult(asset_key="scoring_settings", metadata={"dagster/row_count": 1, **facts})
    yield dg.MaterializeResult(
        asset_key="person_score_adjustments", metadata={"dagster/row_count": adjustments, **facts}
    )


@dg.asset(kinds={"python"})
def scoring_suite_weights(
    context: dg.AssetExecutionContext, warehouse: Warehouse, blueprint_config: BlueprintConfigResource
) -> dg.MaterializeResult:
    """The suite-compatible model's config as a table: weight per kind, with its window and cap."""
    frame = tables.suite_weights(blueprint_config.loaded.config.scoring)
    with warehouse.transaction() as session:
        session.replace_table("scoring_suite_weights", frame)
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": len(frame),
            **run_facts(context, blueprint_config.loaded.version).metadata(),
        }
    )
