"""Group `qualification`: readiness scores per buying group (docs/qualification.md#readiness-scores)."""

import json
import pickle
from pathlib import Path

import dagster as dg
import pandas as pd

from blueprint_pipeline.core.run_facts import run_facts
from blueprint_pipeline.qualification.features import FEATURE_INPUTS, features_as_of
from blueprint_pipeline.qualification.model import MODEL_COLUMNS, TIERS, contributions, probability, tier
from blueprint_pipeline.qualification.reasons import reasons
from blueprint_pipeline.resources import BlueprintConfigResource
from blueprint_pipeline.sql_models.published import published
from blueprint_pipeline.warehouse import Session, Warehouse

TABLE = "readiness_scores"
EMPTY = pd.DataFrame(
    {
        "buying_group_id": pd.Series(dtype="string"),
        "account_id": pd.Series(dtype="string"),
        "solution_interest": pd.Series(dtype="string"),
        "probability": pd.Series(dtype="float64"),
        "tier": pd.Series(dtype="string"),
        "explanation": pd.Series(dtype="string"),
        "contributions": pd.Series(dtype="string"),
        "model_version": pd.Series(dtype="string"),
        "scored_at": pd.Series(dtype="datetime64[us]"),
    }
)


def last_passing_model(session: Session) -> tuple[str, dict] | tuple[None, str]:
    """(version, bundle) of the newest model that passed its check and can be read, else
    (None, why not)."""
    if not session.table_exists("qualification_models"):
        return None, "no model trained yet (qualification_models)"
    rows = session.fetchall(
        "select version, path from qualification_models where passed order by trained_at desc, version"
    )
    for version, path in rows:
        if not path or not Path(path).is_file():
            continue
        bundle = pickle.loads(Path(path).read_bytes())
        if (
            isinstance(bundle, dict) and bundle.get("columns") == MODEL_COLUMNS
        ):  # older feature sets are skipped
            return version, bundle
    if rows:
        return None, f"none of the {len(rows)} models that passed is readable with today's features"
    return None, "no model has passed its check yet (qualification_models, better_than_rule_score)"


@dg.asset(
    name=TABLE,
    kinds={"python"},
    # What the model reads (the last trained) and what the features read (features_as_of): on the
    # fast path, which does not retrain, the scores wait for the new activities and snapshots.
    deps=["qualification_models", "qualification_training_set", *FEATURE_INPUTS],
)
def readiness_scores(
    context: dg.AssetExecutionContext, warehouse: Warehouse, blueprint_config: BlueprintConfigResource
) -> dg.MaterializeResult:
    """Per buying group, the probability that it turns into won business, from its features as
    they stand now and the last readiness model that passed its check; the features that raise or
    lower it most, in words (`explanation`; `contributions` as JSON); and its tier (fast_track,
    nurture, long_term; config `qualification.tiers`), which journeys split on and alerts show.
    No passing model: no rows, and the reason. Grain: one row per buying group."""
    loaded = blueprint_config.loaded
    config = loaded.config.qualification
    facts = run_facts(context, loaded.version)
    as_of = pd.Timestamp(facts.as_of)
    with warehouse.transaction() as session:
        version, bundle = last_passing_model(session)
        frame = EMPTY
        if version is not None and session.table_exists("buying_groups"):
            groups = session.fetch_df(
                "select buying_group_id, account_id, solution_interest from buying_groups order by 1"
            )
            X = features_as_of(session, groups.assign(as_of=as_of))[MODEL_COLUMNS].to_numpy(float)
            p = probability(bundle, X) if len(X) else []
            why = reasons(X, contributions(bundle, X), config.top_reasons, MODEL_COLUMNS) if len(X) else []
            frame = groups.assign(
                probability=pd.Series(p, index=groups.index, dtype="float64").round(4),
                tier=tier(p, config.tiers) if len(X) else [],
                explanation=["; ".join(sentence for _, _, sentence in r) for r in why],
                contributions=[json.dumps({f: round(c, 4) for f, c, _ in r}) for r in why],
                model_version=version,
                scored_at=as_of,
            )[list(EMPTY.columns)]
        session.replace_table(TABLE, frame if len(frame) else EMPTY)
    counts = frame["tier"].value_counts()
    return dg.MaterializeResult(
        metadata={
            **published(warehouse, TABLE),
            "model_version": version or "none",
            **{f"groups {t}": int(counts.get(t, 0)) for t in TIERS},
            "summary/readiness": (
                ", ".join(f"{int(counts.get(t, 0))} {t}" for t in TIERS) + f" (model {version})"
                if version is not None
                else bundle
            ),
            **facts.metadata(),
        }
    )
