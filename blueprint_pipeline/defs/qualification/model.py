"""Group `qualification`: the readiness model, versioned (docs/qualification.md)."""

import json
import pickle
from collections.abc import Iterator

import dagster as dg
import pandas as pd

from blueprint_pipeline.core.atomic_files import replace_file
from blueprint_pipeline.core.run_facts import run_facts
from blueprint_pipeline.qualification.model import train
from blueprint_pipeline.resources import BlueprintConfigResource, models_dir, retrain_cron, schedule_status
from blueprint_pipeline.warehouse import Warehouse

VERSIONS = "qualification_models"
CHECK = "better_than_rule_score"


@dg.asset(
    name=VERSIONS,
    kinds={"python"},
    deps=["qualification_training_set"],
    check_specs=[
        dg.AssetCheckSpec(
            CHECK,
            asset=VERSIONS,
            description="The model's ROC AUC on the held-out (latest) period beats the rule-based score's; "
            "readiness scores use the last model that passed.",
        )
    ],
)
def qualification_models(
    context: dg.AssetExecutionContext, warehouse: Warehouse, blueprint_config: BlueprintConfigResource
) -> Iterator:
    """Trains the readiness model on the training set (time-based split; logistic regression or
    gradient boosting, chosen on validation; retrained by the schedule `retrain_readiness_model`
    and by full builds), saves it under data/models/ (BLUEPRINT_MODELS_DIR)
    and, for training data not seen before, appends a version row: training window, data hash,
    metrics, passed. Grain: one row per model version (per distinct training data)."""
    loaded = blueprint_config.loaded
    facts = run_facts(context, loaded.version)
    with warehouse.session() as session:
        frame = session.fetch_df("select * from qualification_training_set")
    frame["as_of"] = pd.to_datetime(frame["as_of"])
    trained = train(frame, min_rows=loaded.config.qualification.min_examples)
    version = trained.metrics["data_hash"]  # also for no model: each distinct data is one row
    path = models_dir() / f"readiness-{version}.pkl"
    if trained.model is not None:
        replace_file(path, pickle.dumps(trained.model))
    row = pd.DataFrame(
        [
            {
                "version": version,
                "trained_at": pd.Timestamp(facts.as_of),
                "model": trained.name or "none",
                "passed": trained.passed,
                "path": str(path) if trained.model is not None else "",
                "metrics": json.dumps(trained.metrics, sort_keys=True, default=str),
                "reason": trained.reason,
            }
        ]
    )
    with warehouse.transaction() as session:
        if not session.table_exists(VERSIONS):
            session.replace_table(VERSIONS, row)
        elif not session.scalar(f"select count(*) from {VERSIONS} where version = $v", {"v": version}):
            # Training is deterministic: the same data gives the same model, so no new version.
            session.insert_from_local_query(VERSIONS, list(row.columns), "select * from r", frames={"r": row})
    metrics = {k: v for k, v in trained.metrics.items() if isinstance(v, int | float | str)}
    yield dg.AssetCheckResult(
        check_name=CHECK,
        passed=trained.passed,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "auc": trained.metrics.get("auc", "none"),
            "rule_auc": trained.metrics.get("rule_auc", "none"),
            "reason": trained.reason or "measured on the held-out period",
        },
    )
    yield dg.MaterializeResult(
        metadata={
            "model": trained.name or "none",
            "version": version,
            **metrics,
            "summary/readiness model": (
                f"{trained.name}: AUC {trained.metrics['auc']} vs the rule-based score's "
                f"{trained.metrics['rule_auc']} on {trained.metrics['held_out']}"
                + ("" if trained.passed else " (not better: not used)")
                if trained.model is not None
                else trained.reason
            ),
            **facts.metadata(),
        }
    )


retrain_schedule = dg.ScheduleDefinition(
    name="retrain_readiness_model",
    cron_schedule=retrain_cron(),
    # Everything the scores are built from: new extracts (sales feedback, activities, opportunities)
    # are ingested first, so the model learns from them.
    target=dg.AssetSelection.assets("readiness_scores").upstream().required_multi_asset_neighbors(),
    default_status=schedule_status(),
    description="Ingests what has landed, rebuilds the training set from the latest history and sales "
    "feedback, retrains the readiness model and rescores the groups (BLUEPRINT_RETRAIN_CRON, default "
    "Mondays 05:00 UTC). A new model is used only once it passes its check.",
)
