"""What the KPI tables need from Python: the reporting config as tables, and the band labels.

The KPIs themselves are SQL models (dbt_like_sql/reporting/, docs/reporting.md). The config they
depend on reaches them as tables (`config_tables`), as the scoring config reaches the scoring
models: no config value is pasted into SQL. `opportunities_by_interest` is the qualification
training set's reading of the opportunities (the KPIs have their own, the macro
`opportunities_by_interest` in dbt_like_sql/macros/reporting.sql).
"""

from __future__ import annotations

import pandas as pd

from blueprint_pipeline.config.models import BlueprintConfig
from blueprint_pipeline.warehouse import Session

NO_SNAPSHOT = "no snapshot before"


def opportunities_by_interest(session: Session, config: BlueprintConfig) -> pd.DataFrame:
    """Opportunities with the account they are on after merges and the solution interest whose
    `opportunity_type` they carry (an interest without one takes every type)."""
    if not session.table_exists("stg_salesforce__opportunities"):
        return pd.DataFrame(
            columns=["opportunity_id", "account_id", "solution_interest", "created_at", "is_closed", "is_won"]
        )
    opportunities = session.fetch_df(
        "select o.opportunity_id, coalesce(a.account_id, o.account_id) as account_id, o.opportunity_type, "
        "o.created_at, coalesce(o.is_closed, false) as is_closed, coalesce(o.is_won, false) as is_won "
        "from stg_salesforce__opportunities as o left join account_aliases as a "
        "on a.alias_account_id = o.account_id"
        if session.table_exists("account_aliases")
        else "select opportunity_id, account_id, opportunity_type, created_at, coalesce(is_closed, false) as "
        "is_closed, coalesce(is_won, false) as is_won from stg_salesforce__opportunities"
    )
    rows = []
    for name, interest in config.buying_groups.solution_interests.items():
        wanted = (
            opportunities
            if interest.opportunity_type is None
            else opportunities[opportunities["opportunity_type"] == interest.opportunity_type]
        )
        rows.append(wanted.assign(solution_interest=name))
    return pd.concat(rows, ignore_index=True) if rows else opportunities.assign(solution_interest=None)


def band(value: float, edges: list[float], percent: bool) -> str:
    if pd.isna(value):
        return NO_SNAPSHOT
    fmt = (lambda x: f"{x:.0%}") if percent else (lambda x: f"{x:g}")
    for low, high in zip(edges, edges[1:], strict=False):
        if value < high:
            return f"{fmt(low)}-{fmt(high)}" if value >= low else f"below {fmt(low)}"
    return f"{fmt(edges[-1])}" + ("" if percent else "+")


def band_labels(edges: list[float], percent: bool) -> list[str]:
    """Every band's label, lowest first (for charts' category order)."""
    values = [edges[0] - 1, *edges[:-1], edges[-1]]
    return [band(v, edges, percent) for v in values] + [NO_SNAPSHOT]


def bands(edges: list[float], percent: bool) -> pd.DataFrame:
    """One row per band, lowest first: its label and its edges (`lower_edge` <= value <
    `upper_edge`; null: open). A value in no row (no snapshot) is `no snapshot before`."""
    inner = list(zip(edges, edges[1:], strict=False))
    rows = [(None, edges[0], edges[0] - 1)] if inner else []
    rows += [(low, high, low) for low, high in inner]
    rows.append((edges[-1] if inner else None, None, edges[-1]))
    return pd.DataFrame(
        {
            "band": pd.Series([band(value, edges, percent) for _, _, value in rows], dtype="string"),
            "band_order": pd.Series(range(len(rows)), dtype="int64"),
            "lower_edge": pd.Series([low for low, _, _ in rows], dtype="float64"),
            "upper_edge": pd.Series([high for _, high, _ in rows], dtype="float64"),
        }
    )


def config_tables(config: BlueprintConfig) -> dict[str, pd.DataFrame]:
    """The reporting config as the tables the KPI models join."""
    settings = config.reporting
    interests = config.buying_groups.solution_interests
    return {
        "reporting_settings": pd.DataFrame(
            {"alert_response_days": pd.Series([settings.alert_response_days], dtype="int64")}
        ),
        "reporting_bands": pd.concat(
            [
                bands(settings.completeness_bands, percent=True).assign(measure="completeness"),
                bands(settings.score_bands, percent=False).assign(measure="score"),
            ],
            ignore_index=True,
        ).astype({"measure": "string"})[["measure", "band", "band_order", "lower_edge", "upper_edge"]],
        "reporting_qualified_stages": pd.DataFrame(
            {"stage": pd.Series(list(config.alerts.milestones.qualified_stages), dtype="string")}
        ),
        "reporting_solution_interests": pd.DataFrame(
            {
                "solution_interest": pd.Series(list(interests), dtype="string"),
                "opportunity_type": pd.Series(
                    [interest.opportunity_type for interest in interests.values()], dtype="string"
                ),
            }
        ),
    }
