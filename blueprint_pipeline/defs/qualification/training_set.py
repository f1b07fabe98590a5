"""Group `qualification`: the readiness model's training set (docs/qualification.md)."""

import hashlib

import dagster as dg

from blueprint_pipeline.core.run_facts import run_facts
from blueprint_pipeline.qualification.features import FEATURE_INPUTS, training_set
from blueprint_pipeline.resources import BlueprintConfigResource
from blueprint_pipeline.sql_models.published import published
from blueprint_pipeline.warehouse import Warehouse

TABLE = "qualification_training_set"


@dg.asset(
    name=TABLE,
    kinds={"python"},
    # The labels (opportunities by interest, their accounts' aliases, sales decisions) and what the
    # features read.
    deps=["stg_salesforce__opportunities", "account_aliases", "sales_feedback", *FEATURE_INPUTS],
)
def qualification_training_set(
    context: dg.AssetExecutionContext, warehouse: Warehouse, blueprint_config: BlueprintConfigResource
) -> dg.MaterializeResult:
    """One row per labelled example: each closed opportunity of a solution interest (label: won)
    and each usable sales decision (label: accepted), with its account's buying-group features as
    they stood at its time (activities before it, persons known by then, the last snapshot before
    its day) and firmographics. Rebuilt by the schedule `retrain_readiness_model` and by full
    builds. Grain: one row per closed opportunity and solution interest, or per sales decision."""
    loaded = blueprint_config.loaded
    facts = run_facts(context, loaded.version)
    with warehouse.transaction() as session:
        frame = training_set(session, loaded.config)
        session.replace_table(TABLE, frame)
    digest = hashlib.sha256(frame.to_csv(index=False).encode()).hexdigest()[:16]
    return dg.MaterializeResult(
        metadata={
            **published(warehouse, TABLE),
            "positive": int(frame["label"].sum()) if len(frame) else 0,
            "negative": int((~frame["label"].astype(bool)).sum()) if len(frame) else 0,
            "from_sales_feedback": int((frame["label_source"] == "sales_feedback").sum()),
            "data_hash": digest,
            **facts.metadata(),
        }
    )
