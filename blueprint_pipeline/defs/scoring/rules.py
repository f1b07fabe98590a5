"""The scoring config as a table the SQL models join: no config value is pasted into SQL."""

import dagster as dg
import pandas as pd

from blueprint_pipeline.journeys.tables import create_tables
from blueprint_pipeline.resources import BlueprintConfigResource
from blueprint_pipeline.run_facts import run_facts
from blueprint_pipeline.warehouse import Warehouse


@dg.asset(group_name="scoring", kinds={"python"}, automation_condition=dg.AutomationCondition.eager())
def scoring_activity_kinds(
    context: dg.AssetExecutionContext, warehouse: Warehouse, blueprint_config: BlueprintConfigResource
) -> dg.MaterializeResult:
    """Source activity -> kind (config `scoring.activity_kinds`): one row per (source, match)."""
    kinds = blueprint_config.loaded.config.scoring.activity_kinds
    rows = [
        (source, match, kind)
        for source, mapping in (
            ("marketo_activity_type", kinds.marketo_activity_types),
            ("marketo_program_status", kinds.marketo_program_statuses),
            ("crm_campaign_member_status", kinds.crm_campaign_member_statuses),
            ("tracking_event", kinds.tracking_events),
        )
        for match, kind in mapping.items()
        if kind is not None
    ]
    if kinds.linkedin_form_response:
        rows.append(("linkedin_form_response", "*", kinds.linkedin_form_response))
    frame = pd.DataFrame(rows, columns=["source", "match", "kind"], dtype="string")
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
            group_name="scoring",
            kinds={"python"},
            automation_condition=dg.AutomationCondition.eager(),
        ),
        dg.AssetSpec(
            "scoring_settings",
            group_name="scoring",
            kinds={"python"},
            automation_condition=dg.AutomationCondition.eager(),
        ),
        dg.AssetSpec(
            "person_score_adjustments",
            group_name="scoring",
            kinds={"python"},
            description="Append-only: points journeys add to persons' scores (change_score nodes). "
            "Created here, written by the journeys layer.",
            automation_condition=dg.AutomationCondition.eager(),
        ),
    ]
)
def scoring_model_tables(
    context: dg.AssetExecutionContext, warehouse: Warehouse, blueprint_config: BlueprintConfigResource
):
    """The explainable model's config as tables: points and daily cap per kind; decay, lookback and
    group aggregation in one row."""
    model = blueprint_config.loaded.config.scoring.explainable
    points = pd.DataFrame(
        {
            "kind": pd.Series(list(model.points), dtype="string"),
            "points": pd.Series([float(v) for v in model.points.values()], dtype="float64"),
            "daily_cap": pd.Series([model.cap_for(k) or 1_000_000 for k in model.points], dtype="int64"),
        }
    )
    settings = pd.DataFrame(
        {
            "half_life_days": pd.Series([model.decay.half_life_days], dtype="float64"),
            "window_days": pd.Series([model.decay.window_days], dtype="float64"),
            "lookback_days": pd.Series([model.lookback_days], dtype="float64"),
            "group_aggregation": pd.Series([model.group_aggregation], dtype="string"),
            "model": pd.Series([blueprint_config.loaded.config.scoring.model], dtype="string"),
        }
    )
    with warehouse.transaction() as session:
        session.replace_table("scoring_points", points)
        session.replace_table("scoring_settings", settings)
        create_tables(session, ["person_score_adjustments"])
        adjustments = int(session.scalar("select count(*) from person_score_adjustments"))
    facts = run_facts(context, blueprint_config.loaded.version).metadata()
    yield dg.MaterializeResult(
        asset_key="scoring_points", metadata={"dagster/row_count": len(points), **facts}
    )
    yield dg.MaterializeResult(asset_key="scoring_settings", metadata={"dagster/row_count": 1, **facts})
    yield dg.MaterializeResult(
        asset_key="person_score_adjustments", metadata={"dagster/row_count": adjustments, **facts}
    )


@dg.asset(group_name="scoring", kinds={"python"}, automation_condition=dg.AutomationCondition.eager())
def scoring_suite_weights(
    context: dg.AssetExecutionContext, warehouse: Warehouse, blueprint_config: BlueprintConfigResource
) -> dg.MaterializeResult:
    """The suite-compatible model's config as a table: weight per kind, with its window and cap."""
    model = blueprint_config.loaded.config.scoring.suite_compatible
    frame = pd.DataFrame(
        {
            "kind": pd.Series(list(model.weights), dtype="string"),
            "weight": pd.Series([float(v) for v in model.weights.values()], dtype="float64"),
            "window_days": pd.Series([float(model.window_days)] * len(model.weights), dtype="float64"),
            "daily_cap": pd.Series([model.daily_cap] * len(model.weights), dtype="int64"),
        }
    )
    with warehouse.transaction() as session:
        session.replace_table("scoring_suite_weights", frame)
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": len(frame),
            **run_facts(context, blueprint_config.loaded.version).metadata(),
        }
    )
