"""The readiness model: trained on won and lost history (and sales' decisions), chosen on
validation, judged against the rule-based score on the latest period, and explained per group
(docs/qualification.md).

The split is by time: the oldest 80% of labelled examples choose between a logistic regression
and gradient boosting (time-ordered cross-validation; boosting only when clearly better) and
train the chosen one; the latest 20% are held out and measure it: ROC AUC, precision in the
top decile, calibration (Brier score and observed rate per predicted band). It passes when its AUC beats the
rule-based score's on the same period.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import brier_score_loss, roc_auc_score
from sklearn.model_selection import TimeSeriesSplit
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from blueprint_pipeline.config.qualification import Tiers
from blueprint_pipeline.qualification.features import COLUMNS, FEATURES

MIN_ROWS = 40  # the default of `qualification.min_examples`
# What the model reads: the training set's features without the eight per-kind counts. Those are
# nearly collinear with the total; on small histories they earn large opposite weights and give
# reasons like "0 email clicks raises readiness" that no salesperson can believe.
MODEL_COLUMNS = FEATURES
FOLDS = 4  # time-ordered cross-validation folds that choose the model
BOOSTING_MARGIN = 0.03  # validation AUC gradient boosting must gain over logistic regression
TIERS = ["fast_track", "nurture", "long_term"]


def candidates(seed: int) -> dict:
    return {
        "logistic_regression": make_pipeline(
            SimpleImputer(strategy="median", keep_empty_features=True),
            StandardScaler(),
            LogisticRegression(C=0.3, max_iter=2000, random_state=seed),
        ),
        # Imputed too: a feature with no value at all (no snapshot before any opportunity) breaks
        # the booster's binning.
        "gradient_boosting": make_pipeline(
            SimpleImputer(strategy="median", keep_empty_features=True),
            # Shallow, with large leaves and shrinkage: histories are small and noisy, and a tree
            # that fits noise gives reasons a salesperson cannot believe.
            HistGradientBoostingClassifier(
                max_depth=2,
                min_samples_leaf=20,
                l2_regularization=1.0,
                max_iter=100,
                learning_rate=0.05,
                random_state=seed,
            ),
        ),
    }


@dataclass
class Trained:
    name: str | None  # None: not enough history
    model: dict | None  # the fitted pipeline, its columns and the reference row (see probability)
    metrics: dict = field(default_factory=dict)
    reason: str = ""

    @property
    def passed(self) -> bool:
        return self.model is not None and self.metrics.get("auc", 0) > self.metrics.get("rule_auc", 1)


def data_hash(frame: pd.DataFrame) -> str:
    return hashlib.sha256(frame[["example_id", *COLUMNS, "label"]].to_csv(index=False).encode()).hexdigest()[
        :16
    ]


def _auc(y: np.ndarray, score: np.ndarray) -> float:
    return float(roc_auc_score(y, score)) if len(set(y)) == 2 else float("nan")


def _validation_auc(model, X: np.ndarray, y: np.ndarray) -> float:
    """Mean AUC over expanding time-ordered folds (each fold trains on what came before it)."""
    scores = []
    for train_rows, test_rows in TimeSeriesSplit(n_splits=FOLDS).split(X):
        if len(set(y[train_rows])) == 2 and len(set(y[test_rows])) == 2:
            model.fit(X[train_rows], y[train_rows])
            scores.append(_auc(y[test_rows], model.predict_proba(X[test_rows])[:, 1]))
    return float(np.mean(scores)) if scores else float("nan")


def train(frame: pd.DataFrame, seed: int = 7, min_rows: int = MIN_ROWS) -> Trained:
    """Split by time (T): choose on the oldest 80% by time-ordered cross-validation, measure on
    the latest 20% (held out)."""
    frame = frame.sort_values(["as_of", "example_id"]).reset_index(drop=True)
    n = len(frame)
    b = int(n * 0.8)
    parts = {"known": frame.iloc[:b], "test": frame.iloc[b:]}
    if n < min_rows or any(p["label"].nunique() < 2 for p in parts.values()):
        return Trained(
            None,
            None,
            {"rows": n, "data_hash": data_hash(frame)},
            f"{n} labelled examples: too little history (need {min_rows}, both outcomes in each period)",
        )
    X = {k: p[MODEL_COLUMNS].astype(float).to_numpy() for k, p in parts.items()}
    y = {k: p["label"].astype(int).to_numpy() for k, p in parts.items()}
    validation = {
        name: _validation_auc(model, X["known"], y["known"]) for name, model in candidates(seed).items()
    }
    # Gradient boosting only when clearly better: the simpler model's reasons are steadier.
    gain = validation["gradient_boosting"] - validation["logistic_regression"]
    chosen = "gradient_boosting" if gain > BOOSTING_MARGIN else "logistic_regression"
    model = candidates(seed)[chosen]
    known = X["known"]
    model.fit(known, y["known"])
    probability = model.predict_proba(X["test"])[:, 1]
    top = np.argsort(-probability)[: max(1, len(probability) // 10)]
    bands = pd.cut(probability, [0, 0.25, 0.5, 0.75, 1.0], include_lowest=True)
    calibration = pd.DataFrame({"band": bands, "won": y["test"]}).groupby("band", observed=True)["won"].mean()
    test = parts["test"]
    metrics = {
        "rows": n,
        "from_sales_feedback": int((frame["label_source"] == "sales_feedback").sum())
        if "label_source" in frame
        else 0,
        "auc": round(_auc(y["test"], probability), 4),
        "rule_auc": round(_auc(y["test"], test["rule_score"].astype(float).to_numpy()), 4),
        "top_decile_precision": round(float(y["test"][top].mean()), 4),
        "brier": round(float(brier_score_loss(y["test"], probability)), 4),
        "calibration": {str(k): round(float(v), 3) for k, v in calibration.items()},
        "validation_auc": {k: round(v, 4) for k, v in validation.items()},
        "window": f"{frame['as_of'].iloc[0]:%Y-%m-%d} to {frame['as_of'].iloc[b - 1]:%Y-%m-%d}",
        "held_out": f"{test['as_of'].iloc[0]:%Y-%m-%d} to {test['as_of'].iloc[-1]:%Y-%m-%d}",
        "data_hash": data_hash(frame),
        "seed": seed,
    }
    # What the explanations compare each group with: a typical example of the training data.
    # A feature never known gets 0, as the imputer (keep_empty_features) fills it.
    reference = pd.DataFrame(known).median().fillna(0.0).tolist()
    bundle = {"model": model, "columns": MODEL_COLUMNS, "reference": reference}
    return Trained(chosen, bundle, metrics)


def probability(bundle: dict, X: np.ndarray) -> np.ndarray:
    return bundle["model"].predict_proba(X)[:, 1]


def contributions(bundle: dict, X: np.ndarray) -> np.ndarray:
    """Per row and feature: how much the probability drops when that feature alone is set to the
    training data's median (positive: the feature raises readiness). Model-agnostic, and exactly
    what the explanation says: putting the feature back to typical moves the score by this much."""
    base = probability(bundle, X)
    out = np.empty_like(X, dtype=float)
    for j, typical in enumerate(bundle["reference"]):
        moved = X.copy()
        moved[:, j] = typical
        out[:, j] = base - probability(bundle, moved)
    return out


def tier(p: np.ndarray, tiers: Tiers) -> np.ndarray:
    """fast_track at or above tiers.fast_track, nurture at or above tiers.nurture, else long_term."""
    return np.where(p >= tiers.fast_track, "fast_track", np.where(p >= tiers.nurture, "nurture", "long_term"))
