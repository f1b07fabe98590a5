"""The readiness model on synthetic training sets whose truth is known.

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

from blueprint_pipeline.config.qualification import Tiers
from blueprint_pipeline.qualification.features import COLUMNS
from blueprint_pipeline.qualification.model import MODEL_COLUMNS, contributions, probability, tier, train
from blueprint_pipeline.qualification.reasons import reasons


def history(n: int = 400, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(0.0, index=range(n), columns=COLUMNS)
    frame["activities_90d"] = rng.poisson(8, n)
    frame["known_persons"] = rng.integers(1, 12, n)
    odds = 0.35 * (frame["activities_90d"] - 8) + 0.45 * (frame["known_persons"] - 6)
    frame["label"] = rng.random(n) < 1 / (1 + np.exp(-odds))
    frame["rule_score"] = 0.2 * frame["activities_90d"] + rng.normal(0, 3, n)
    frame["snapshot_score"] = np.nan  # no snapshots before: imputed
    frame["example_id"] = [f"o{i:04d}" for i in range(n)]
    frame["label_source"] = "opportunity"
    frame["as_of"] = pd.Timestamp("2026-01-01") + pd.to_timedelta(np.arange(n), unit="h")
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
    rows = history()[MODEL_COLUMNS].astype(float).to_numpy()
    assert (probability(one.model, rows) == probability(two.model, rows)).all()


def test_the_check_fails_on_shuffled_labels():
    frame = history()
    head = frame.index < int(len(frame) * 0.8)  # train and validation; the held-out period keeps the truth
    frame.loc[head, "label"] = np.random.default_rng(9).permutation(frame.loc[head, "label"].to_numpy())
    trained = train(frame)
    assert not trained.passed, trained.metrics
    assert trained.metrics["auc"] < 0.65


@pytest.mark.parametrize("rows", [10, 39])
def test_too_little_history_gives_no_model(rows):
    trained = train(history(rows))
    assert trained.model is None and not trained.passed and "too little history" in trained.reason


def test_the_model_asset_versions_each_training(warehouse, tmp_path, monkeypatch):
    import dagster as dg

    from blueprint_pipeline.core.run_facts import AS_OF_TAG
    from blueprint_pipeline.defs.qualification.model import qualification_models
    from blueprint_pipeline.resources import BlueprintConfigResource

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


def test_explanations_say_what_the_model_does():
    """Each reason is a feature whose return to the training median moves the probability by
    exactly the stated contribution, in the stated direction; the largest come first."""
    bundle = train(history()).model
    X = history(20, seed=11)[MODEL_COLUMNS].astype(float).to_numpy()
    base, c = probability(bundle, X), contributions(bundle, X)
    why = reasons(X, c, 3, MODEL_COLUMNS)
    j = MODEL_COLUMNS.index("activities_90d")
    for i, row in enumerate(why):
        assert len(row) <= 3 and [abs(v) for _, v, _ in row] == sorted(
            (abs(v) for _, v, _ in row), reverse=True
        )
        for feature, value, sentence in row:
            moved = X[i : i + 1].copy()
            moved[0, MODEL_COLUMNS.index(feature)] = bundle["reference"][MODEL_COLUMNS.index(feature)]
            assert np.isclose(base[i] - probability(bundle, moved)[0], value)
            assert ("raises" if value > 0 else "lowers") in sentence
    # More activity than typical raises readiness (the synthetic truth), and says so in words.
    busy = int(np.argmax(X[:, j]))
    assert c[busy, j] > 0
    full = dict((f, s) for f, _, s in reasons(X[busy : busy + 1], c[busy : busy + 1], 20, MODEL_COLUMNS)[0])
    assert full["activities_90d"].startswith(
        f"{X[busy, j]:g} activities in the last 90 days (raises readiness by "
    )
    # A feature at its typical value contributes nothing and is never a reason.
    typical = np.array([bundle["reference"]])
    nothing = contributions(bundle, typical)
    assert np.allclose(nothing, 0) and reasons(typical, nothing, 3, MODEL_COLUMNS) == [[]]


@pytest.mark.parametrize(
    ("p", "expected"),
    [(0.0, "long_term"), (0.2999, "long_term"), (0.3, "nurture"), (0.5999, "nurture"), (0.6, "fast_track"),
     (1.0, "fast_track")],
)  # fmt: skip
def test_tier_thresholds(p, expected):
    assert tier(np.array([p]), Tiers(fast_track=0.6, nurture=0.3))[0] == expected


def test_tiers_must_be_ordered():
    with pytest.raises(ValueError, match="nurture .* must be below fast_track"):
        Tiers(fast_track=0.3, nurture=0.5)


def test_reasons_rank_each_row_by_size_ties_in_column_order():
    """The ranking is computed for every row at once; it must be each row's own: features by the
    size of their effect (ties: the earlier column first), never one with no value or under half
    a point, at most `top`. Random rows with ties, missing values and tiny effects."""
    rng = np.random.default_rng(5)
    n, k = 400, len(MODEL_COLUMNS)
    c = rng.choice([-0.2, -0.05, -0.004, 0.0, 0.004, 0.05, 0.2], size=(n, k)) * rng.integers(1, 3, (n, k))
    X = np.where(rng.random((n, k)) < 0.1, np.nan, rng.random((n, k)) * 10)
    for top in (1, 3, k):
        got = [[f for f, _, _ in r] for r in reasons(X, c, top, MODEL_COLUMNS)]
        want = []
        for values, row in zip(X, c, strict=True):
            ranked = sorted(range(k), key=lambda j, row=row: -abs(row[j]))  # sorted() is stable
            want.append(
                [MODEL_COLUMNS[j] for j in ranked if abs(row[j]) >= 0.005 and not np.isnan(values[j])][:top]
            )
        assert got == want
    assert any(len(r) < 3 for r in want) and any(len(r) == 3 for r in want)
