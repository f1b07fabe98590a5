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
from dataclasses import dataclass

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
    parts = ["select person_id, min(first_activity_at) as since from person_activity_days group by person_id"]
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
    "person_activity_days",
    "person_registry",
    "scoring_points",
    "scoring_settings",
    "stg_salesforce__contacts",
    "stg_salesforce__leads",
    "stg_linkedin__lead_gen_responses",
    "unified_accounts",
]
CUT_DAYS_INLINE = 64  # up to this many cut days are given to the query as values, else as a table
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
    rows = examples.join(features_as_of(session, examples))
    return (
        rows[[*LABELLED, *COLUMNS, "label"]]
        .astype({c: "float64" for c in COLUMNS})
        .sort_values(["as_of", "example_id"])
        .reset_index(drop=True)
    )


@dataclass(frozen=True)
class Rules:
    """The explainable model's rules the day sums were summed with (scoring_points,
    scoring_settings): the days weighed activity by activity must be weighed by the same ones."""

    points: dict[str, float]
    half_life_days: float | None
    window_days: float | None
    lookback_days: float


def rules_of(session: Session) -> Rules:
    """The rules in the warehouse's scoring tables, written from the config by the run that
    summed the days (scoring_model_tables): not the config of this process, which a user may
    have changed since."""
    points = session.fetch_df("select kind, points from scoring_points")
    half_life, window, lookback = session.fetchall(
        "select half_life_days, window_days, lookback_days from scoring_settings"
    )[0]
    return Rules(
        points={str(k): float(v) for k, v in zip(points["kind"], points["points"], strict=True)},
        half_life_days=None if pd.isna(half_life) else float(half_life),
        window_days=None if pd.isna(window) else float(window),
        lookback_days=float(lookback),
    )


def features_as_of(session: Session, examples: pd.DataFrame) -> pd.DataFrame:
    """COLUMNS for each example (account_id, solution_interest, as_of = T), on the examples' index,
    from what was known before T: one query in the warehouse (within the caller's transaction: it
    holds scratch tables), which returns one row of counts per example; the ratios, roundings and
    logarithms are taken here, by one rule whichever warehouse counted. The scoring rules (points,
    decay, lookback) are those the day sums were summed with (rules_of)."""
    out = pd.DataFrame(index=examples.index, columns=COLUMNS, dtype="float64")
    needed = ("person_activity_days", "int_person_activities", "scoring_points", "scoring_settings")
    if examples.empty or not all(session.table_exists(t) for t in needed):
        return out
    t = pd.to_datetime(examples["as_of"]).astype("datetime64[us]")
    rules = rules_of(session)
    horizon = max(WINDOW_DAYS, rules.lookback_days)
    ex = pd.DataFrame(
        {
            "key": range(len(examples)),
            "account_id": examples["account_id"].to_numpy(),
            "solution_interest": examples["solution_interest"].to_numpy(),
            "t": t.to_numpy(),
            # The oldest day that can count: the days before it are not read.
            "lo": (t - pd.Timedelta(days=horizon + 1)).dt.normalize().to_numpy(),
        }
    )
    cutoffs = _cutoffs(rules)
    moments = pd.Series(ex["t"].unique())
    cut_days = sorted({d for c in cutoffs for d in (moments - pd.Timedelta(days=c)).dt.normalize()})
    # Scratch tables of this call's own (steps may run at once), inside the caller's transaction:
    # dropped below, or with everything else by the rollback if the query fails.
    scratch = f"qualification_examples_{uuid.uuid4().hex[:12]}"
    session.replace_table(scratch, ex)
    if len(cut_days) > CUT_DAYS_INLINE:  # many times T (a training set): a table of the days
        session.replace_table(f"{scratch}_cut", pd.DataFrame({"day": cut_days}).astype("datetime64[us]"))
        on_cut_day = f"in (select day from {scratch}_cut)"
        params = {}
    else:  # a few: values the warehouse filters the activities' scan with, before any join
        on_cut_day = "in (" + ", ".join(f"cast($cut_day_{i} as date)" for i in range(len(cut_days))) + ")"
        params = {f"cut_day_{i}": day.strftime("%Y-%m-%d") for i, day in enumerate(cut_days)}
    single_t = len(moments) == 1
    if single_t:
        params |= {"t": str(moments[0]), "lo": str(ex["lo"].iloc[0])}
    sql, more = _features_sql(session, rules, scratch, cutoffs, on_cut_day, single_t)
    counted = session.fetch_df(sql, params | more).set_index("key").reindex(ex["key"])
    session.execute(f"drop table {scratch}")
    session.execute(f"drop table if exists {scratch}_cut")
    firmographics = ["employees", "annual_revenue"]
    counted = counted.astype({c: "float64" for c in counted.columns if c not in firmographics})

    f = pd.DataFrame(index=counted.index, columns=COLUMNS, dtype="float64")
    for column in ("activities_90d", "active_persons_90d", "velocity_14d", "known_persons", "roles_filled",
                   *[f"n_{k}" for k in KINDS]):  # fmt: skip
        f[column] = counted[column]
    # Rounded here, not in SQL: one rounding rule (half to even) whichever warehouse summed.
    f["rule_score"] = counted["rule_score"].round(4)
    # The breadth of the group engaged: a share, so that large accounts do not win by size alone.
    per_person = counted["known_persons"].where(counted["known_persons"] > 0)
    f["engaged_share_90d"] = (counted["active_persons_90d"] / per_person).round(4)
    f["activities_per_person_90d"] = (counted["activities_90d"] / per_person).round(4)
    f = f.fillna(0)
    f["completeness"] = (counted["roles_filled"] / counted["template_roles"]).round(4).fillna(0.0)
    # The last snapshot on a day before T's day, and firmographics as they are now.
    f["snapshot_completeness"] = counted["snapshot_completeness"]
    f["snapshot_score"] = counted["snapshot_score"]
    for column in firmographics:
        f[f"log_{column}"] = np.log1p(pd.to_numeric(counted[column], errors="coerce").astype(float))
    f.index = examples.index
    return f[COLUMNS].astype("float64")


def _cutoffs(rules: Rules) -> list[float]:
    """The ages in days where a feature's window starts or ends: the day each falls in is weighed
    activity by activity, every other day by its sums (person_activity_days)."""
    ends = [0, 14, 28, WINDOW_DAYS, rules.lookback_days]
    if not rules.half_life_days:
        ends.append(rules.window_days)
    return sorted(set(float(c) for c in ends))


def _features_sql(
    session: Session,
    rules: Rules,
    scratch: str,
    cutoffs: list[float],
    on_cut_day: str,
    single_t: bool,
) -> tuple[str, dict]:
    """The features' counts per example key, from the day sums and, on the days a cut-off falls
    in, from the activities one by one (as the scores are: docs/decisions.md, "scores stay exact
    when runs work incrementally")."""
    points = sorted(rules.points.items())
    params: dict = {"lookback": rules.lookback_days, "window": float(WINDOW_DAYS)}
    params |= {f"kind_{i}": kind for i, kind in enumerate(KINDS)}
    params |= {f"points_kind_{i}": kind for i, (kind, _) in enumerate(points)}
    params |= {f"points_{i}": float(value) for i, (_, value) in enumerate(points)}
    params |= {f"cut_{i}": c for i, c in enumerate(cutoffs)}
    whens = " ".join(f"when $points_kind_{i} then $points_{i}" for i in range(len(points)))
    weight = f"case a.kind {whens} else 0.0 end" if points else "0.0"
    if rules.half_life_days:
        params["half_life"] = rules.half_life_days
        decay = "power(0.5, age / $half_life)"
        whole_decayed = "anchored_all * power(0.5, day_age / 86400.0 / $half_life)"
    else:
        params["decay_window"] = rules.window_days
        decay = "case when age <= $decay_window then 1.0 else 0.0 end"
        whole_decayed = "case when day_age < $decay_window * 86400 then anchored_all else 0.0 end"
    # A cut-off c falls inside the day that is between c and c + 1 days old at T (day_age: the
    # seconds from the day's start to T, its oldest activity's age).
    cut = " or ".join(
        f"(day_age >= $cut_{i} * 86400 and day_age < ($cut_{i} + 1) * 86400)" for i in range(len(cutoffs))
    )
    cut = f"({cut})"
    per_kind = "".join(
        f", sum(case when kind = $kind_{i} then in_window else 0 end) as n_{kind}"
        for i, kind in enumerate(KINDS)
    )
    per_kind_totals = "".join(f", sum(pp.n_{kind}) as n_{kind}" for kind in KINDS)
    members = (
        "select g.account_id, g.solution_interest, m.person_id, m.role from buying_group_members as m "
        "inner join buying_groups as g on g.buying_group_id = m.buying_group_id"
        if session.table_exists("buying_group_members")
        else "select '' as account_id, '' as solution_interest, '' as person_id, '' as role where false"
    )
    templates = (
        "select g.account_id, g.solution_interest, count(*) as roles from buying_group_roles as r "
        "inner join buying_groups as g on g.buying_group_id = r.buying_group_id group by 1, 2"
        if session.table_exists("buying_group_roles")
        else "select '' as account_id, '' as solution_interest, 0 as roles where false"
    )
    snapshots = (
        "select account_id, solution_interest, snapshot_date, completeness_score, score "
        "from buying_group_snapshots"
        if session.table_exists("buying_group_snapshots")
        else "select '' as account_id, '' as solution_interest, cast(null as date) as snapshot_date, "
        "0.0 as completeness_score, 0.0 as score where false"
    )
    if single_t:  # every example at the same time (readiness scores): the day rows need no join
        days = """select d.person_id, cast($t as timestamp) as t, d.kind, d.activities,
            coalesce(d.anchored_all, 0.0) as anchored_all,
            epoch(cast($t as timestamp) - cast(d.activity_day as timestamp)) as day_age
        from person_activity_days as d
        where d.activity_day >= cast($lo as timestamp) and d.activity_day <= cast($t as timestamp)"""
    else:
        days = """select m.person_id, m.t, d.kind, d.activities,
            coalesce(d.anchored_all, 0.0) as anchored_all,
            epoch(m.t - cast(d.activity_day as timestamp)) as day_age
        from person_moments as m
        inner join person_activity_days as d
            on d.person_id = m.person_id and d.activity_day >= m.lo and d.activity_day <= m.t"""
    sql = f"""
    with examples as (
        select key, account_id, solution_interest, t, lo from {scratch}
    ),
    moments as (
        select distinct account_id, t, lo from examples
    ),
    persons as (
        select m.account_id, m.t, m.lo, l.person_id
        from moments as m
        inner join person_account_links as l on l.account_id = m.account_id and l.is_primary
    ),
    person_moments as (
        select distinct person_id, t, lo from persons
    ),
    days as (
        {days}
    ),
    one_by_one as (
        select m.person_id, m.t, a.kind, epoch(m.t - a.activity_at) / 86400.0 as age,
            epoch(m.t - cast(cast(a.activity_at as date) as timestamp)) as day_age, {weight} as weight
        from person_moments as m
        inner join int_person_activities as a on a.person_id = m.person_id and a.activity_at < m.t
        where cast(a.activity_at as date) {on_cut_day}
            and a.activity_at >= m.lo
    ),
    counted as (
        select person_id, t, kind,
            case when day_age < $window * 86400 then activities else 0 end as in_window,
            case when day_age < 14 * 86400 then activities else 0 end as last_14,
            case when day_age >= 15 * 86400 and day_age < 28 * 86400 then activities else 0 end as prior_14,
            case when day_age < $lookback * 86400 then {whole_decayed} else 0.0 end as rule
        from days
        where day_age >= 86400 and not {cut}
        union all
        select person_id, t, kind,
            case when age <= $window then 1 else 0 end,
            case when age <= 14 then 1 else 0 end,
            case when age > 14 and age <= 28 then 1 else 0 end,
            case when age <= $lookback then weight * {decay} else 0.0 end
        from one_by_one
        where {cut}
    ),
    per_person as (
        select person_id, t,
            sum(in_window) as in_window,
            sum(last_14) - sum(prior_14) as velocity_14d,
            sum(rule) as rule
            {per_kind}
        from counted
        group by person_id, t
    ),
    activity as (
        select p.account_id, p.t,
            sum(pp.in_window) as activities_90d,
            count(distinct case when pp.in_window > 0 then p.person_id end) as active_persons_90d,
            sum(pp.velocity_14d) as velocity_14d,
            sum(pp.rule) as rule_score
            {per_kind_totals}
        from persons as p
        inner join per_person as pp on pp.person_id = p.person_id and pp.t = p.t
        group by p.account_id, p.t
    ),
    known as (
        select p.account_id, p.t, p.person_id
        from persons as p
        inner join ({_known_since(session)}) as k on k.person_id = p.person_id and k.since < p.t
    ),
    known_counts as (
        select account_id, t, count(distinct person_id) as known_persons from known group by account_id, t
    ),
    roles as (
        select e.key, count(distinct m.role) as roles_filled
        from examples as e
        inner join ({members}) as m
            on m.account_id = e.account_id and m.solution_interest = e.solution_interest
        inner join known as k on k.account_id = e.account_id and k.t = e.t and k.person_id = m.person_id
        group by e.key
    ),
    last_snapshot as (
        select key, completeness_score, score from (
            select e.key, s.completeness_score, s.score,
                row_number() over (partition by e.key order by s.snapshot_date desc) as nth
            from examples as e
            inner join ({snapshots}) as s
                on s.account_id = e.account_id and s.solution_interest = e.solution_interest
                and s.snapshot_date < cast(e.t as date)
        ) as ranked
        where nth = 1
    )
    select e.key,
        coalesce(a.activities_90d, 0) as activities_90d,
        coalesce(a.active_persons_90d, 0) as active_persons_90d,
        coalesce(a.velocity_14d, 0) as velocity_14d,
        coalesce(a.rule_score, 0.0) as rule_score,
        {", ".join(f"coalesce(a.n_{k}, 0) as n_{k}" for k in KINDS)},
        coalesce(kc.known_persons, 0) as known_persons,
        coalesce(r.roles_filled, 0) as roles_filled,
        tr.roles as template_roles,
        ls.completeness_score as snapshot_completeness,
        ls.score as snapshot_score,
        u.employees,
        u.annual_revenue
    from examples as e
    left join activity as a on a.account_id = e.account_id and a.t = e.t
    left join known_counts as kc on kc.account_id = e.account_id and kc.t = e.t
    left join roles as r on r.key = e.key
    left join ({templates}) as tr
        on tr.account_id = e.account_id and tr.solution_interest = e.solution_interest
    left join last_snapshot as ls on ls.key = e.key
    left join unified_accounts as u on u.account_id = e.account_id
    """
    return sql, params
