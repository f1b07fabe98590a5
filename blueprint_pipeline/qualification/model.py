"""The readiness model: trained on won and lost history, chosen on validation, judged against the
rule-based score on the latest period (docs/qualification.md).

The split is by time: the oldest 60% of closed opportunities train, the next 20% choose between a
logistic regression and gradient boosting, the latest 20% are held out. The chosen model is refit
on train and validation and measured on the held-out period: ROC AUC, precision in the top decile,
calibration (Brier score and observed rate per predicted band). It passes when its AUC beats the
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
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from blueprint_pipeline.qualification.features import FEATURES, KINDS

COLUMNS = [*FEATURES, *[f"n_{k}" for k in KINDS]]
MIN_ROWS = 40  # below this, or with one class in a split, there is no model: too little history


def candidates(seed: int) -> dict:
    return {
        "logistic_regression": make_pipeline(
            SimpleImputer(strategy="median", keep_empty_features=True),
            StandardScaler(),
            LogisticRegression(max_iter=2000, random_state=seed),
        ),
        # Imputed too: a feature with no value at all (no snapshot before any opportunity) breaks
        # the booster's binning.
        "gradient_boosting": make_pipeline(
            SimpleImputer(strategy="median", keep_empty_features=True),
            HistGradientBoostingClassifier(max_depth=3, max_iter=150, learning_rate=0.05, random_state=seed),
        ),
    }


@dataclass
class Trained:
    name: str | None  # None: not enough history
    model: object | None
    metrics: dict = field(default_factory=dict)
    reason: str = ""

    @property
    def passed(self) -> bool:
        return self.model is not None and self.metrics.get("auc", 0) > self.metrics.get("rule_auc", 1)


def data_hash(frame: pd.DataFrame) -> str:
    return hashlib.sha256(
        frame[["opportunity_id", *COLUMNS, "won"]].to_csv(index=False).encode()
    ).hexdigest()[:16]


def _auc(y: np.ndarray, score: np.ndarray) -> float:
    return float(roc_auc_score(y, score)) if len(set(y)) == 2 else float("nan")


def train(frame: pd.DataFrame, seed: int = 7) -> Trained:
    """Split by creation time, choose on validation, measure on the held-out period."""
    frame = frame.sort_values(["created_at", "opportunity_id"]).reset_index(drop=True)
    n = len(frame)
    a, b = int(n * 0.6), int(n * 0.8)
    parts = {"train": frame.iloc[:a], "validation": frame.iloc[a:b], "test": frame.iloc[b:]}
    if n < MIN_ROWS or any(p["won"].nunique() < 2 for p in parts.values()):
        return Trained(
            None,
            None,
            {"rows": n},
            f"{n} closed opportunities: too little history (need {MIN_ROWS}, both outcomes in each period)",
        )
    X = {k: p[COLUMNS].astype(float).to_numpy() for k, p in parts.items()}
    y = {k: p["won"].astype(int).to_numpy() for k, p in parts.items()}
    chosen, best = None, -1.0
    validation = {}
    for name, model in candidates(seed).items():
        model.fit(X["train"], y["train"])
        validation[name] = _auc(y["validation"], model.predict_proba(X["validation"])[:, 1])
        if validation[name] > best:
            chosen, best = name, validation[name]
    model = candidates(seed)[chosen]
    model.fit(np.vstack([X["train"], X["validation"]]), np.concatenate([y["train"], y["validation"]]))
    probability = model.predict_proba(X["test"])[:, 1]
    top = np.argsort(-probability)[: max(1, len(probability) // 10)]
    bands = pd.cut(probability, [0, 0.25, 0.5, 0.75, 1.0], include_lowest=True)
    calibration = pd.DataFrame({"band": bands, "won": y["test"]}).groupby("band", observed=True)["won"].mean()
    test = parts["test"]
    metrics = {
        "rows": n,
        "auc": round(_auc(y["test"], probability), 4),
        "rule_auc": round(_auc(y["test"], test["rule_score"].astype(float).to_numpy()), 4),
        "top_decile_precision": round(float(y["test"][top].mean()), 4),
        "brier": round(float(brier_score_loss(y["test"], probability)), 4),
        "calibration": {str(k): round(float(v), 3) for k, v in calibration.items()},
        "validation_auc": {k: round(v, 4) for k, v in validation.items()},
        "window": f"{frame['created_at'].iloc[0]:%Y-%m-%d} to {frame['created_at'].iloc[b - 1]:%Y-%m-%d}",
        "held_out": f"{test['created_at'].iloc[0]:%Y-%m-%d} to {test['created_at'].iloc[-1]:%Y-%m-%d}",
        "data_hash": data_hash(frame),
        "seed": seed,
    }
    return Trained(chosen, model, metrics)
