"""The readiness model's contributions, in words a salesperson can read (docs/qualification.md)."""

from __future__ import annotations

import math

import numpy as np

from blueprint_pipeline.qualification.features import COLUMNS, KINDS


def _count(noun: str):
    return lambda v: f"{v:g} {noun}"


WORDS = {
    "activities_90d": _count("activities in the last 90 days"),
    "active_persons_90d": _count("people active in the last 90 days"),
    "engaged_share_90d": lambda v: f"{v:.0%} of the known people active in the last 90 days",
    "activities_per_person_90d": lambda v: f"{v:.1f} activities per known person in the last 90 days",
    # The account's figures, said so: the email beside them shows the group's score (docs/figures.md).
    "velocity_14d": lambda v: (
        f"the account's activities {'up' if v >= 0 else 'down'} by {abs(v):g} "
        "(last 14 days against the 14 before)"
    ),
    "rule_score": lambda v: f"the account's activity points {v:.1f} (its persons, decayed, no daily cap)",
    "known_persons": _count("people known at the account"),
    "roles_filled": _count("buying-group roles filled"),
    "completeness": lambda v: f"{v:.0%} of the group's template roles filled",
    "snapshot_completeness": lambda v: f"group completeness {v:.0%} at the last daily snapshot",
    "snapshot_score": lambda v: f"group score {v:.1f} at the last daily snapshot",
    "log_employees": lambda v: f"{math.expm1(v):,.0f} employees",
    "log_annual_revenue": lambda v: f"annual revenue {math.expm1(v):,.0f}",
    **{f"n_{k}": _count(f"{k.replace('_', ' ')}s in the last 90 days") for k in KINDS},
}
assert set(WORDS) == set(COLUMNS), "every feature needs its words"


def _points(contribution: float) -> str:
    points = round(abs(contribution) * 100)
    return "1 point" if points == 1 else f"{points} points"


def reasons(
    X: np.ndarray, contributions: np.ndarray, top: int, columns: list[str]
) -> list[list[tuple[str, float, str]]]:
    """Per row (X's columns are `columns`), its `top` features by the size of their contribution:
    (feature, contribution, sentence). A feature with no value, or less than half a point of effect,
    is never a reason."""
    if not len(X):
        return []
    # The ranking for every row at once: a stable sort by size, the features that cannot be a
    # reason last (the same order as sorting each row and dropping them).
    size = np.abs(contributions)
    usable = (size >= 0.005) & ~np.isnan(X)
    order = np.argsort(np.where(usable, -size, np.inf), axis=1, kind="stable")[:, :top]
    out = []
    for i, picks in enumerate(order):
        row, values = contributions[i], X[i]
        out.append(
            [
                (
                    columns[j],
                    float(row[j]),
                    f"{WORDS[columns[j]](float(values[j]))} "
                    f"({'raises' if row[j] > 0 else 'lowers'} readiness by {_points(row[j])})",
                )
                for j in picks
                if usable[i, j]
            ]
        )
    return out
