"""The readiness model's features: an account's buying-group features as they stood at a time T
(docs/qualification.md). The training set takes T = each closed opportunity's creation or each
sales decision; readiness scoring takes T = now.

Point in time: every feature reads only what happened before the creation time T. Activities
count when `activity_at < T`; a person counts when one of their source records was created, or
their first activity happened, before T; a snapshot counts when its day is before T's day. What
has no history is taken as it is now and said so: firmographics, and a person's title (so the
role they fill).
"""

from __future__ import annotations

import uuid

import numpy as np
import pandas as pd

from blueprint_pipeline.config.models import BlueprintConfig
from blueprint_pipeline.reporting.kpis import opportunities_by_interest
from blueprint_pipeline.warehouse import Session

WINDOW_DAYS = 90
FEATURES = [
    "activities_90d",
    "active_persons_90d",
    "engaged_share_90d",
    "activities_per_person_90d",
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


# The tables features_as_of reads (the assets that compute features declare them as deps).
FEATURE_INPUTS = [
    "buying_groups",
    "buying_group_members",
    "buying_group_roles",
    "buying_group_snapshots",
    "int_person_activities",
    "person_account_links",
    "person_registry",
    "stg_salesforce__contacts",
    "stg_salesforce__leads",
    "stg_linkedin__lead_gen_responses",
    "unified_accounts",
]
LABELLED = ["example_id", "label_source", "account_id", "solution_interest", "as_of"]
COLUMNS = [*FEATURES, *[f"n_{k}" for k in KINDS]]


def training_set(session: Session, config: BlueprintConfig) -> pd.DataFrame:
    """One row per labelled example: each closed opportunity of a solution interest (as of its
    creation; the label: won) and, with `qualification.use_sales_feedback`, each usable sales
    decision (as of the decision; the label: accepted). LABELLED ids, COLUMNS, `label`."""
    opportunities = opportunities_by_interest(session, config)
    opportunities = opportunities[opportunities["is_closed"].astype(bool)]
    examples = pd.DataFrame(
        {
            "example_id": opportunities["opportunity_id"],
            "label_source": "opportunity",
            "account_id": opportunities["account_id"],
            "solution_interest": opportunities["solution_interest"],
            "as_of": opportunities["created_at"],
            "label": opportunities["is_won"].astype(bool),
        }
    )
    if config.qualification.use_sales_feedback and session.table_exists("sales_feedback"):
        decisions = session.fetch_df(
            "select feedback_id, account_id, solution_interest, decided_at, decision = 'accepted' as label "
            "from sales_feedback where problem = ''"
        )
        examples = pd.concat(
            [
                examples,
                pd.DataFrame(
                    {
                        "example_id": decisions["feedback_id"],
                        "label_source": "sales_feedback",
                        "account_id": decisions["account_id"],
                        "solution_interest": decisions["solution_interest"],
                        "as_of": decisions["decided_at"],
                        "label": decisions["label"].astype(bool),
                    }
                ),
            ],
            ignore_index=True,
        )
    examples = examples.assign(as_of=pd.to_datetime(examples["as_of"]).astype("datetime64[us]"))
    rows = examples.join(features_as_of(session, config, examples))
    return (
        rows[[*LABELLED, *COLUMNS, "label"]]
        .astype({c: "float64" for c in COLUMNS})
        .sort_values(["as_of", "example_id"])
        .reset_index(drop=True)
    )


def features_as_of(session: Session, config: BlueprintConfig, examples: pd.DataFrame) -> pd.DataFrame:
    """COLUMNS for each example (account_id, solution_interest, as_of = T), on the examples' index,
    from what was known before T. The activity windows are one query in the warehouse (within the
    caller's transaction: it holds a scratch table); persons, roles and snapshots are joined here."""
    out = pd.DataFrame(index=examples.index, columns=COLUMNS, dtype="float64")
    if examples.empty or not session.table_exists("int_person_activities"):
        return out
    ex = examples[["account_id", "solution_interest"]].assign(
        key=examples.index, t=pd.to_datetime(examples["as_of"]).astype("datetime64[us]")
    )
    by_key = ex.set_index("key")
    accounts = {"a": sorted(ex["account_id"].dropna().unique()) or [""]}
    links = session.fetch_df(
        "select person_id, account_id from person_account_links where is_primary "
        "and account_id in (select unnest($a))",
        accounts,
    )
    out = pd.DataFrame(index=by_key.index).join(_activity_features(session, config, ex).set_index("key"))

    # Persons known before T, and the roles they fill in the interest's group.
    known = session.fetch_df(_known_since(session)).merge(links, on="person_id")
    known["since"] = pd.to_datetime(known["since"]).astype("datetime64[us]")
    k = ex[["key", "account_id", "t"]].merge(known, on="account_id")
    k = k[k["since"] < k["t"]]
    out["known_persons"] = k.groupby("key")["person_id"].nunique()
    # The breadth of the group engaged: a share, so that large accounts do not win by size alone.
    per_person = out["known_persons"].where(out["known_persons"] > 0)
    out["engaged_share_90d"] = (out["active_persons_90d"] / per_person).round(4)
    out["activities_per_person_90d"] = (out["activities_90d"] / per_person).round(4)
    members = _members(session)
    m = (
        ex[["key", "account_id", "solution_interest"]]
        .merge(members, on=["account_id", "solution_interest"])
        .merge(k[["key", "person_id"]], on=["key", "person_id"])
    )
    out["roles_filled"] = m.groupby("key")["role"].nunique()
    template = (
        ex[["key", "account_id", "solution_interest"]]
        .merge(_template_roles(session), on=["account_id", "solution_interest"])
        .set_index("key")["roles"]
    )
    out = out.fillna(0)
    out["completeness"] = (out["roles_filled"] / template.reindex(out.index)).round(4).fillna(0.0)

    # The last snapshot on a day before T's day, and firmographics as they are now.
    snapshots = _snapshots(session).sort_values("day")
    asof = ex.assign(day=ex["t"].dt.normalize()).sort_values("day")
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
        values = pd.to_numeric(by_key["account_id"].map(firms[column]), errors="coerce")
        out[f"log_{column}"] = np.log1p(values.astype(float))
    return out[COLUMNS].reindex(examples.index).astype("float64")


def _activity_features(session: Session, config: BlueprintConfig, ex: pd.DataFrame) -> pd.DataFrame:
    """key -> the activity counts, velocity, rule score and counts per kind of each example, from
    its account's activities before its T, in the warehouse: an account's activities times its
    examples would not fit in memory at the large scales (docs/scaling.md)."""
    explainable = config.scoring.explainable
    points = sorted(explainable.points.items())
    params: dict = {"lookback": float(explainable.lookback_days), "window": float(WINDOW_DAYS)}
    params |= {f"kind_{i}": kind for i, kind in enumerate(KINDS)}
    params |= {f"points_kind_{i}": kind for i, (kind, _) in enumerate(points)}
    params |= {f"points_{i}": float(value) for i, (_, value) in enumerate(points)}
    whens = " ".join(f"when $points_kind_{i} then $points_{i}" for i in range(len(points)))
    weight = f"case kind {whens} else 0.0 end" if points else "0.0"
    if explainable.decay.half_life_days:
        params["half_life"] = float(explainable.decay.half_life_days)
        decay = "power(0.5, age / $half_life)"
    else:
        params["decay_window"] = float(explainable.decay.window_days)
        decay = "case when age <= $decay_window then 1.0 else 0.0 end"
    per_kind = "".join(
        f", sum(case when age <= $window and kind = $kind_{i} then 1 else 0 end) as n_{kind}"
        for i, kind in enumerate(KINDS)
    )
    # A scratch table of this call's own (steps may run at once), inside the caller's transaction:
    # dropped below, or with everything else by the rollback if the query fails.
    scratch = f"qualification_examples_{uuid.uuid4().hex[:12]}"
    session.replace_table(scratch, ex[["key", "account_id", "t"]])
    frame = session.fetch_df(
        f"""
        with aged as (
            select e.key, a.person_id, a.kind, epoch(e.t - a.activity_at) / 86400.0 as age
            from {scratch} as e
            inner join person_account_links as l on l.account_id = e.account_id and l.is_primary
            inner join int_person_activities as a on a.person_id = l.person_id and a.activity_at < e.t
        )
        select
            key,
            sum(case when age <= $window then 1 else 0 end) as activities_90d,
            count(distinct case when age <= $window then person_id end) as active_persons_90d,
            sum(case when age <= 14 then 1 else 0 end)
                - sum(case when age > 14 and age <= 28 then 1 else 0 end) as velocity_14d,
            sum(case when age <= $lookback then {weight} * {decay} else 0.0 end)
                as rule_score
            {per_kind}
        from aged
        group by key
        """,
        params,
    )
    session.execute(f"drop table {scratch}")
    # Rounded here, not in SQL: one rounding rule (half to even) whichever warehouse summed.
    return frame.astype({c: "float64" for c in frame.columns if c != "key"}).assign(
        rule_score=lambda f: f["rule_score"].round(4)
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
