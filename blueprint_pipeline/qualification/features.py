"""The readiness model's training set: per closed opportunity, its account's buying-group features
as they stood when the opportunity was created (docs/qualification.md).

Point in time: every feature reads only what happened before the creation time T. Activities
count when `activity_at < T`; a person counts when one of their source records was created, or
their first activity happened, before T; a snapshot counts when its day is before T's day. What
has no history is taken as it is now and said so: firmographics, and a person's title (so the
role they fill).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from blueprint_pipeline.config.models import BlueprintConfig
from blueprint_pipeline.reporting.kpis import opportunities_by_interest
from blueprint_pipeline.warehouse import Session

WINDOW_DAYS = 90
FEATURES = [
    "activities_90d",
    "active_persons_90d",
    "velocity_14d",
    "rule_score",
    "known_persons",
    "roles_filled",
    "completeness",
    "snapshot_completeness",
    "snapshot_score",
    "log_employees",
    "log_annual_revenue",
]
KINDS = [
    "email_open",
    "email_click",
    "page_view",
    "link_click",
    "form_fill",
    "interesting_moment",
    "event_registration",
    "event_attendance",
]


def _known_since(session: Session) -> str:
    """SQL: person_id -> the first time we could have known them (a source record or an activity)."""
    parts = ["select person_id, min(activity_at) as since from int_person_activities group by person_id"]
    for table, key, system, at in (
        ("stg_salesforce__contacts", "contact_id", "Salesforce", "created_at"),
        ("stg_salesforce__leads", "lead_id", "Salesforce", "created_at"),
        ("stg_linkedin__lead_gen_responses", "lead_gen_response_id", "LinkedIn", "submitted_at"),
    ):
        if session.table_exists(table):
            parts.append(
                f"select r.person_id, min(t.{at}) as since from {table} as t inner join person_registry as r "
                f"on r.source_key = cast(t.{key} as varchar) || '@prod.{system}' group by r.person_id"
            )
    return f"select person_id, min(since) as since from ({' union all '.join(parts)}) as k group by person_id"


def training_set(session: Session, config: BlueprintConfig) -> pd.DataFrame:
    """One row per closed opportunity of a solution interest: ids, T, FEATURES, per-kind counts,
    won (the label). Vectorised: each activity is joined to its account's opportunities once."""
    opportunities = opportunities_by_interest(session, config)
    opportunities = opportunities[opportunities["is_closed"].astype(bool)].copy()
    columns = [
        "opportunity_id",
        "account_id",
        "solution_interest",
        "created_at",
        *FEATURES,
        *[f"n_{k}" for k in KINDS],
        "won",
    ]
    if opportunities.empty or not session.table_exists("int_person_activities"):
        return pd.DataFrame(columns=columns)
    opportunities["created_at"] = pd.to_datetime(opportunities["created_at"]).astype("datetime64[us]")
    opportunities["key"] = opportunities["opportunity_id"] + "|" + opportunities["solution_interest"]
    opps = opportunities.set_index("key")
    accounts = {"a": sorted(opportunities["account_id"].dropna().unique()) or [""]}
    links = session.fetch_df(
        "select person_id, account_id from person_account_links where is_primary "
        "and account_id in (select unnest($a))",
        accounts,
    )
    activities = session.fetch_df(
        "select person_id, kind, activity_at from int_person_activities where person_id in "
        "(select person_id from person_account_links where is_primary and account_id in (select unnest($a)))",
        accounts,
    ).merge(links, on="person_id")
    activities["activity_at"] = pd.to_datetime(activities["activity_at"]).astype("datetime64[us]")

    # Activities before each opportunity's creation, with their age in days there.
    j = opportunities[["key", "account_id", "created_at"]].merge(activities, on="account_id")
    j = j[j["activity_at"] < j["created_at"]]
    age = (j["created_at"] - j["activity_at"]).dt.total_seconds() / 86400
    explainable = config.scoring.explainable
    half_life = explainable.decay.half_life_days
    decay = 0.5 ** (age / half_life) if half_life else (age <= explainable.decay.window_days).astype(float)
    j = j.assign(
        age=age,
        points=j["kind"].map(explainable.points).fillna(0.0) * decay * (age <= explainable.lookback_days),
    )
    recent = j[j["age"] <= WINDOW_DAYS]
    by = recent.groupby("key")
    out = pd.DataFrame(index=opps.index)
    out["activities_90d"] = by.size()
    out["active_persons_90d"] = by["person_id"].nunique()
    out["velocity_14d"] = (j["age"] <= 14).groupby(j["key"]).sum() - (
        (j["age"] > 14) & (j["age"] <= 28)
    ).groupby(j["key"]).sum()
    out["rule_score"] = j.groupby("key")["points"].sum().round(4)
    kinds = pd.crosstab(recent["key"], recent["kind"]) if len(recent) else pd.DataFrame()
    for kind in KINDS:
        out[f"n_{kind}"] = kinds.get(kind, 0)

    # Persons known before T, and the roles they fill in the interest's group.
    known = session.fetch_df(_known_since(session)).merge(links, on="person_id")
    known["since"] = pd.to_datetime(known["since"]).astype("datetime64[us]")
    k = opportunities[["key", "account_id", "created_at"]].merge(known, on="account_id")
    k = k[k["since"] < k["created_at"]]
    out["known_persons"] = k.groupby("key")["person_id"].nunique()
    members = _members(session)
    m = (
        opportunities[["key", "account_id", "solution_interest"]]
        .merge(members, on=["account_id", "solution_interest"])
        .merge(k[["key", "person_id"]], on=["key", "person_id"])
    )
    out["roles_filled"] = m.groupby("key")["role"].nunique()
    template = (
        opportunities[["key", "account_id", "solution_interest"]]
        .merge(_template_roles(session), on=["account_id", "solution_interest"])
        .set_index("key")["roles"]
    )
    out = out.fillna(0).astype({c: "int64" for c in out.columns if c != "rule_score"})
    out["completeness"] = (out["roles_filled"] / template.reindex(out.index)).round(4).fillna(0.0)

    # The last snapshot on a day before T's day, and firmographics as they are now.
    snapshots = _snapshots(session).sort_values("day")
    asof = opportunities.assign(day=opportunities["created_at"].dt.normalize()).sort_values("day")
    asof = pd.merge_asof(
        asof,
        snapshots,
        on="day",
        by=["account_id", "solution_interest"],
        direction="backward",
        allow_exact_matches=False,
    ).set_index("key")
    out["snapshot_completeness"] = asof["completeness_score"].astype(float)
    out["snapshot_score"] = asof["score"].astype(float)
    firms = session.fetch_df(
        "select account_id, employees, annual_revenue from unified_accounts "
        "where account_id in (select unnest($a))",
        accounts,
    ).set_index("account_id")
    for column in ("employees", "annual_revenue"):
        values = pd.to_numeric(opps["account_id"].map(firms[column]), errors="coerce")
        out[f"log_{column}"] = np.log1p(values.astype(float))
    rows = opps[["opportunity_id", "account_id", "solution_interest", "created_at"]].join(out)
    rows["won"] = opps["is_won"].astype(bool)
    return (
        rows.reset_index(drop=True)[columns]
        .sort_values(["created_at", "opportunity_id"])
        .reset_index(drop=True)
    )


def _template_roles(session: Session) -> pd.DataFrame:
    """account_id, solution_interest -> the number of roles in the group's template."""
    if not session.table_exists("buying_group_roles"):
        return pd.DataFrame(columns=["account_id", "solution_interest", "roles"])
    return session.fetch_df(
        "select g.account_id, g.solution_interest, count(*) as roles from buying_group_roles as r "
        "inner join buying_groups as g on g.buying_group_id = r.buying_group_id group by 1, 2"
    )


def _members(session: Session) -> pd.DataFrame:
    """Current members (person, role) of each account's group per interest."""
    if not session.table_exists("buying_group_members"):
        return pd.DataFrame(columns=["account_id", "solution_interest", "person_id", "role"])
    return session.fetch_df(
        "select g.account_id, g.solution_interest, m.person_id, m.role from buying_group_members as m "
        "inner join buying_groups as g on g.buying_group_id = m.buying_group_id"
    )


def _snapshots(session: Session) -> pd.DataFrame:
    if not session.table_exists("buying_group_snapshots"):
        return pd.DataFrame(columns=["account_id", "solution_interest", "day", "completeness_score", "score"])
    frame = session.fetch_df(
        "select account_id, solution_interest, snapshot_date, completeness_score, score "
        "from buying_group_snapshots"
    )
    return frame.assign(day=pd.to_datetime(frame["snapshot_date"]).astype("datetime64[us]"))
