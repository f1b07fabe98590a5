"""The scoring config as the tables the SQL models join (no config value is pasted into SQL):
built here for the scoring assets and for `blueprint simulate-config` alike."""

from __future__ import annotations

import pandas as pd

from blueprint_pipeline.config.scoring import ScoringConfig


def activity_kinds(scoring: ScoringConfig) -> pd.DataFrame:
    """Source activity -> kind: one row per (source, match)."""
    kinds = scoring.activity_kinds
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
    return pd.DataFrame(rows, columns=["source", "match", "kind"], dtype="string")


def points(scoring: ScoringConfig) -> pd.DataFrame:
    model = scoring.explainable
    return pd.DataFrame(
        {
            "kind": pd.Series(list(model.points), dtype="string"),
            "points": pd.Series([float(v) for v in model.points.values()], dtype="float64"),
            "daily_cap": pd.Series([model.cap_for(k) or 1_000_000 for k in model.points], dtype="int64"),
        }
    )


def settings(scoring: ScoringConfig) -> pd.DataFrame:
    model = scoring.explainable
    return pd.DataFrame(
        {
            "half_life_days": pd.Series([model.decay.half_life_days], dtype="float64"),
            "window_days": pd.Series([model.decay.window_days], dtype="float64"),
            "lookback_days": pd.Series([model.lookback_days], dtype="float64"),
            "group_aggregation": pd.Series([model.group_aggregation], dtype="string"),
            "model": pd.Series([scoring.model], dtype="string"),
        }
    )


def suite_weights(scoring: ScoringConfig) -> pd.DataFrame:
    model = scoring.suite_compatible
    return pd.DataFrame(
        {
            "kind": pd.Series(list(model.weights), dtype="string"),
            "weight": pd.Series([float(v) for v in model.weights.values()], dtype="float64"),
            "window_days": pd.Series([float(model.window_days)] * len(model.weights), dtype="float64"),
            "daily_cap": pd.Series([model.daily_cap] * len(model.weights), dtype="int64"),
        }
    )


def config_tables(scoring: ScoringConfig) -> dict[str, pd.DataFrame]:
    return {
        "scoring_activity_kinds": activity_kinds(scoring),
        "scoring_points": points(scoring),
        "scoring_settings": settings(scoring),
        "scoring_suite_weights": suite_weights(scoring),
    }
