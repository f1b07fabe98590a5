"""The readiness model (issue 11, slice 3) on synthetic training sets whose truth is known.

Win odds depend on activities_90d and known_persons together; the rule-based score carries only
a weak, noisy part of that. A model trained on the real labels beats the rule-based score on the
held-out (latest) 20% and passes; the same rows with the training labels shuffled (the held-out
period keeps its true labels) give a model no better than chance: the check fails. Training is
deterministic for a seed.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from blueprint_pipeline.qualification.features import FEATURES, KINDS
from blueprint_pipeline.qualification.model import train


def history(n: int = 400, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(0.0, index=range(n), columns=[*FEATURES, *[f"n_{k}" for k in KINDS]])
    frame["activities_90d"] = rng.poisson(8, n)
    frame["known_persons"] = rng.integers(1, 12, n)
    odds = 0.35 * (frame["activities_90d"] - 8) + 0.45 * (frame["known_persons"] - 6)
    frame["won"] = rng.random(n) < 1 / (1 + np.exp(-odds))
    frame["rule_score"] = 0.2 * frame["activities_90d"] + rng.normal(0, 3, n)
    frame["snapshot_score"] = np.nan  # no snapshots before: imputed
    frame["opportunity_id"] = [f"o{i:04d}" for i in range(n)]
    frame["created_at"] = pd.Timestamp("2026-01-01") + pd.to_timedelta(np.arange(n), unit="h")
    return frame


def test_a_model_with_the_signal_beats_the_rule_score():
    trained = train(history())
    assert trained.passed, trained.metrics
    metrics = trained.metrics
    assert metrics["auc"] > 0.75 and metrics["rule_auc"] < metrics["auc"]
    assert 0 <= metrics["brier"] < 0.25 and metrics["top_decile_precision"] >= 0.5
    assert set(metrics["validation_auc"]) == {"logistic_regression", "gradient_boosting"}
    assert metrics["window"] == "2026-01-01 to 2026-01-14"  # 320 hourly rows train and validate


def test_training_is_deterministic_for_a_seed():
    one, two = train(history(), seed=5), train(history(), seed=5)
    assert one.name == two.name and one.metrics == two.metrics
    rows = history()[[*FEATURES, *[f"n_{k}" for k in KINDS]]].astype(float).to_numpy()
    assert (one.model.predict_proba(rows) == two.model.predict_proba(rows)).all()


def test_the_check_fails_on_shuffled_labels():
    frame = history()
    head = frame.index < int(len(frame) * 0.8)  # train and validation; the held-out period keeps the truth
    frame.loc[head, "won"] = np.random.default_rng(9).permutation(frame.loc[head, "won"].to_numpy())
    trained = train(frame)
    assert not trained.passed, trained.metrics
    assert trained.metrics["auc"] < 0.65


@pytest.mark.parametrize("rows", [10, 39])
def test_too_little_history_gives_no_model(rows):
    trained = train(history(rows))
    assert trained.model is None and not trained.passed and "too little history" in trained.reason


def test_the_model_asset_versions_each_training(warehouse, tmp_path, monkeypatch):
    import dagster as dg

    from blueprint_pipeline.defs.qualification.model import qualification_models
    from blueprint_pipeline.resources import BlueprintConfigResource
    from blueprint_pipeline.run_facts import AS_OF_TAG

    monkeypatch.setenv("BLUEPRINT_MODELS_DIR", str(tmp_path / "models"))
    resources = {
        "warehouse": warehouse,
        "blueprint_config": BlueprintConfigResource(config_dir=str(tmp_path)),
    }
    for day, data in (("2026-11-23", history()), ("2026-11-24", history()), ("2026-11-25", history(seed=4))):
        with warehouse.transaction() as session:
            session.replace_table("qualification_training_set", data)
        result = dg.materialize(
            [qualification_models], resources=resources, tags={AS_OF_TAG: f"{day}T00:00:00"}
        )
        assert result.success
        [check] = result.get_asset_check_evaluations()
        assert check.check_name == "better_than_rule_score" and check.passed
    with warehouse.session() as session:
        rows = session.fetch_df("select * from qualification_models order by trained_at")
    # The same data twice is one version (deterministic training); new data, a new version.
    assert len(rows) == 2 and rows["passed"].astype(bool).all() and rows["version"].nunique() == 2
    assert (tmp_path / "models" / f"readiness-{rows['version'][0]}.pkl").exists()
