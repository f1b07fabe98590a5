"""The implementation guide's KPIs, per solution interest (or journey) and per week (docs/reporting.md).

Weeks start on Monday. Group-level KPIs read each group's last daily snapshot of the week
(`buying_group_snapshots`), so a week's figure is what the week ended with. Each function returns
one KPI table; `KPIS` names them with the guide's definition.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from blueprint_pipeline.config.models import BlueprintConfig
from blueprint_pipeline.warehouse import Session

WEEK_END_SNAPSHOTS = (
    "select * from (select s.*, cast(date_trunc('week', s.snapshot_date) as date) as week, "
    "row_number() over (partition by s.buying_group_id, date_trunc('week', s.snapshot_date) "
    "order by s.snapshot_date desc) as last_of_week from buying_group_snapshots as s) as w "
    "where last_of_week = 1"
)


@dataclass(frozen=True)
class Kpi:
    table: str
    definition: str  # the guide's, with how it is measured here
    grain: str
    figure: str | None = None  # the figure it measures, whose label (figures.labels) states its scale


TEXT = {"solution_interest", "journey_id", "measure", "band", "top_rejection_reason"}


def _empty(columns: list[str]) -> pd.DataFrame:
    """No rows, but the column types a filled table has (the warehouse creates them from these)."""

    def dtype(column: str) -> str:
        if column == "week":
            return "datetime64[us]"
        if column in TEXT:
            return "object"
        return "float64" if any(w in column for w in ("rate", "mean", "median")) else "int64"

    return pd.DataFrame({c: pd.Series(dtype=dtype(c)) for c in columns})


def _week(times: pd.Series) -> pd.Series:
    """The Monday each time's week starts on, as SQL's date_trunc('week', ...) gives it: a
    timestamp at midnight, the type every KPI's `week` has (dates as Python objects became text)."""
    return pd.to_datetime(times).dt.to_period("W-SUN").dt.start_time.astype("datetime64[us]")


def with_timestamp_weeks(frame: pd.DataFrame) -> pd.DataFrame:
    """The KPI table with its `week` as a timestamp (midnight on the Monday) on either warehouse:
    PostgreSQL returns SQL dates as Python dates, which a table would store as text."""
    if "week" not in frame.columns:
        return frame
    return frame.assign(week=pd.to_datetime(frame["week"]).astype("datetime64[us]"))


def _rate(numerator: pd.Series, denominator: pd.Series) -> pd.Series:
    return (numerator / denominator.where(denominator > 0)).round(4)


def completeness(session: Session, config: BlueprintConfig) -> pd.DataFrame:
    if not session.table_exists("buying_group_snapshots"):
        return _empty(
            [
                "week",
                "solution_interest",
                "buying_groups",
                "complete_groups",
                "completeness_rate",
                "mean_completeness",
            ]
        )
    frame = session.fetch_df(
        f"select week, solution_interest, count(*) as buying_groups, "
        # Complete as `buying_groups.is_complete` says (the interest's method and threshold), the
        # one definition every output counts (docs/figures.md).
        "cast(sum(case when is_complete then 1 else 0 end) as bigint) as complete_groups, "
        # The mean in decimals: a sum of doubles depends on row order, which moved a tie at the
        # fourth decimal between two identical builds.
        "cast(round(avg(cast(completeness_score as decimal(18, 6))), 4) as double) as mean_completeness "
        f"from ({WEEK_END_SNAPSHOTS}) as s "
        "group by week, solution_interest order by week, solution_interest"
    )
    frame["completeness_rate"] = _rate(frame["complete_groups"], frame["buying_groups"])
    return frame[
        [
            "week",
            "solution_interest",
            "buying_groups",
            "complete_groups",
            "completeness_rate",
            "mean_completeness",
        ]
    ]


def engagement(session: Session, config: BlueprintConfig) -> pd.DataFrame:
    columns = ["week", "solution_interest", "buying_groups", "mean_score", "median_score"]
    if not session.table_exists("buying_group_snapshots"):
        return _empty(columns)
    frame = session.fetch_df(f"select week, solution_interest, score from ({WEEK_END_SNAPSHOTS}) as s")
    if frame.empty:
        return _empty(columns)
    frame["score"] = frame["score"].astype(float)
    grouped = frame.groupby(["week", "solution_interest"])["score"]
    out = pd.DataFrame(
        {
            "buying_groups": grouped.size(),
            "mean_score": grouped.mean().round(2),
            "median_score": grouped.median().round(2),
        }
    ).reset_index()
    return out[columns]


def mqa(session: Session, config: BlueprintConfig) -> pd.DataFrame:
    """Accounts with a group in a qualified stage (alerts.milestones.qualified_stages)."""
    columns = ["week", "solution_interest", "accounts", "qualified_accounts", "mqa_rate"]
    if not session.table_exists("buying_group_snapshots"):
        return _empty(columns)
    frame = session.fetch_df(
        f"select week, solution_interest, count(distinct account_id) as accounts, "
        "count(distinct case when stage in (select unnest($q)) then account_id end) as qualified_accounts "
        f"from ({WEEK_END_SNAPSHOTS}) as s group by week, solution_interest order by week, solution_interest",
        {"q": list(config.alerts.milestones.qualified_stages) or [""]},
    )
    frame["mqa_rate"] = _rate(frame["qualified_accounts"], frame["accounts"])
    return frame[columns]


def _group_created(session: Session) -> str:
    """SQL: each group's creation: its first stage-history entry, else its first snapshot."""
    history = (
        "select buying_group_id, min(changed_at) as created_at from buying_group_stage_history "
        "group by buying_group_id"
        if session.table_exists("buying_group_stage_history")
        else "select cast(null as varchar) as buying_group_id, cast(null as timestamp) as created_at"
    )
    return (
        "select g.buying_group_id, g.account_id, g.solution_interest, coalesce(h.created_at, "
        "(select cast(min(snapshot_date) as timestamp) from buying_group_snapshots as s "
        "where s.buying_group_id = g.buying_group_id)) as created_at "
        f"from buying_groups as g left join ({history}) as h on h.buying_group_id = g.buying_group_id"
    )


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


def velocity(session: Session, config: BlueprintConfig) -> pd.DataFrame:
    """Days from a group's creation to the first opportunity of its interest on its account
    created on or after it (the sales-qualified opportunity), by the week that opportunity came."""
    columns = ["week", "solution_interest", "opportunities", "mean_days", "median_days"]
    if not session.table_exists("buying_groups"):
        return _empty(columns)
    groups = session.fetch_df(_group_created(session))
    joined = opportunities_by_interest(session, config).merge(
        groups, on=["account_id", "solution_interest"], suffixes=("", "_group")
    )
    joined = joined[pd.to_datetime(joined["created_at"]) >= pd.to_datetime(joined["created_at_group"])]
    if joined.empty:
        return _empty(columns)
    joined = joined.sort_values("created_at").drop_duplicates("buying_group_id")
    joined["days"] = (
        pd.to_datetime(joined["created_at"]) - pd.to_datetime(joined["created_at_group"])
    ).dt.total_seconds() / 86400
    joined["week"] = _week(joined["created_at"])
    grouped = joined.groupby(["week", "solution_interest"])["days"]
    out = pd.DataFrame(
        {
            "opportunities": grouped.size(),
            "mean_days": grouped.mean().round(2),
            "median_days": grouped.median().round(2),
        }
    ).reset_index()
    return out[columns]


def qualification(session: Session, config: BlueprintConfig) -> pd.DataFrame:
    """Persons in a role of the interest's groups at the week's last snapshot, over the persons
    linked (primary link, today) to those groups' accounts."""
    columns = ["week", "solution_interest", "linked_persons", "qualified_persons", "qualification_rate"]
    if not session.table_exists("buying_group_role_snapshots") or not session.table_exists(
        "person_account_links"
    ):
        return _empty(columns)
    frame = session.fetch_df(
        "with weekly as (select r.buying_group_id, "
        "cast(date_trunc('week', r.snapshot_date) as date) as week, "
        "cast(sum(r.members) as bigint) as members, row_number() over (partition by r.buying_group_id, "
        "date_trunc('week', r.snapshot_date) order by r.snapshot_date desc) as last_of_week "
        "from buying_group_role_snapshots as r group by r.buying_group_id, r.snapshot_date), "
        "linked as (select account_id, count(distinct person_id) as persons from person_account_links "
        "where is_primary group by account_id) "
        "select w.week, g.solution_interest, cast(sum(coalesce(l.persons, 0)) as bigint) as linked_persons, "
        "cast(sum(w.members) as bigint) as qualified_persons from weekly as w "
        "inner join buying_groups as g on g.buying_group_id = w.buying_group_id "
        "left join linked as l on l.account_id = g.account_id where w.last_of_week = 1 "
        "group by w.week, g.solution_interest order by w.week, g.solution_interest"
    )
    frame["qualification_rate"] = _rate(frame["qualified_persons"], frame["linked_persons"])
    return frame[columns]


def alert_response(session: Session, config: BlueprintConfig) -> pd.DataFrame:
    """Alerts followed, within `reporting.alert_response_days`, by a CRM Task on the account or an
    opportunity created on it, by the week the alert fired."""
    columns = ["week", "solution_interest", "alerts", "responded", "response_rate"]
    if not session.table_exists("sales_alert_log") or not session.table_exists("buying_groups"):
        return _empty(columns)
    alerts = session.fetch_df(
        "select a.fired_at, g.account_id, g.solution_interest from sales_alert_log as a "
        "inner join buying_groups as g on g.buying_group_id = a.buying_group_id"
    )
    if alerts.empty:
        return _empty(columns)
    follow = []
    if session.table_exists("stg_salesforce__tasks"):
        follow.append(
            session.fetch_df(
                "select coalesce(account_id, what_id) as account_id, created_at as at "
                "from stg_salesforce__tasks"
            )
        )
    opportunities = opportunities_by_interest(session, config)
    follow.append(opportunities[["account_id", "created_at"]].rename(columns={"created_at": "at"}))
    events = pd.concat(follow, ignore_index=True).dropna()
    window = pd.Timedelta(days=config.reporting.alert_response_days)
    alerts["fired_at"] = pd.to_datetime(alerts["fired_at"])
    events["at"] = pd.to_datetime(events["at"])
    merged = alerts.reset_index().merge(events, on="account_id", how="left")
    merged["hit"] = (merged["at"] >= merged["fired_at"]) & (merged["at"] <= merged["fired_at"] + window)
    responded = merged.groupby("index")["hit"].any()
    alerts["responded"] = responded.reindex(alerts.index, fill_value=False).astype(int)
    alerts["week"] = _week(alerts["fired_at"])
    out = (
        alerts.groupby(["week", "solution_interest"])
        .agg(alerts=("responded", "size"), responded=("responded", "sum"))
        .reset_index()
    )
    out["response_rate"] = _rate(out["responded"], out["alerts"])
    return out[columns]


def journey_completion(session: Session, config: BlueprintConfig) -> pd.DataFrame:
    """Enrolments (test ones aside) that met the journey's exit criteria or reached an exit node,
    by the week they entered."""
    columns = ["week", "journey_id", "enrolments", "completed", "completion_rate"]
    if not session.table_exists("journey_enrolments"):
        return _empty(columns)
    frame = session.fetch_df(
        "select cast(date_trunc('week', entered_at) as date) as week, journey_id, count(*) as enrolments, "
        "cast(sum(case when status = 'exited' or (status = 'finished' and end_reason like 'exit node%') "
        "then 1 else 0 end) as bigint) as completed from journey_enrolments where not coalesce(test, false) "
        "group by 1, 2 order by 1, 2"
    )
    frame["completion_rate"] = _rate(frame["completed"], frame["enrolments"])
    return frame[columns]


def email_engagement(session: Session, config: BlueprintConfig) -> pd.DataFrame:
    """Journey emails sent, and the share opened and clicked (tracking events by message token), by
    the week they were sent."""
    columns = ["week", "journey_id", "sent", "opened", "clicked", "open_rate", "click_rate"]
    if not session.table_exists("journey_outbox"):
        return _empty(columns)
    events = (
        "select message_token, max(case when event = 'open' then 1 else 0 end) as opened, "
        "max(case when event = 'click' then 1 else 0 end) as clicked from stg_tracking__events group by 1"
        if session.table_exists("stg_tracking__events")
        else "select cast(null as varchar) as message_token, 0 as opened, 0 as clicked"
    )
    frame = session.fetch_df(
        "select cast(date_trunc('week', o.sent_at) as date) as week, o.journey_id, count(*) as sent, "
        "cast(sum(coalesce(e.opened, 0)) as bigint) as opened, "
        "cast(sum(coalesce(e.clicked, 0)) as bigint) as clicked "
        f"from journey_outbox as o left join ({events}) as e on e.message_token = "
        "replace(replace(split_part(o.message_id, '@', 1), '<', ''), '>', '') "
        "where o.channel = 'email' and o.status = 'sent' and o.journey_id is not null "
        "and not coalesce(o.test, false) group by 1, 2 order by 1, 2"
    )
    frame["open_rate"] = _rate(frame["opened"], frame["sent"])
    frame["click_rate"] = _rate(frame["clicked"], frame["sent"])
    return frame[columns]


def band(value: float, edges: list[float], percent: bool) -> str:
    if pd.isna(value):
        return "no snapshot before"
    fmt = (lambda x: f"{x:.0%}") if percent else (lambda x: f"{x:g}")
    for low, high in zip(edges, edges[1:], strict=False):
        if value < high:
            return f"{fmt(low)}-{fmt(high)}" if value >= low else f"below {fmt(low)}"
    return f"{fmt(edges[-1])}" + ("" if percent else "+")


def band_labels(edges: list[float], percent: bool) -> list[str]:
    """Every band's label, lowest first (for charts' category order)."""
    values = [edges[0] - 1, *edges[:-1], edges[-1]]
    return [band(v, edges, percent) for v in values] + ["no snapshot before"]


def win_rate_by_band(session: Session, config: BlueprintConfig) -> pd.DataFrame:
    """Closed opportunities of each interest, won or lost, by the group's completeness band and
    score band in the last snapshot on or before the opportunity's creation day."""
    columns = ["solution_interest", "measure", "band", "opportunities", "won", "win_rate"]
    if not session.table_exists("buying_group_snapshots"):
        return _empty(columns)
    closed = opportunities_by_interest(session, config)
    closed = closed[closed["is_closed"].astype(bool)]
    snapshots = session.fetch_df(
        "select account_id, solution_interest, snapshot_date, completeness_score, score "
        "from buying_group_snapshots"
    )
    if closed.empty:
        return _empty(columns)
    # One time resolution on both sides: each engine returns its own, and merge_asof needs one.
    closed = closed.assign(day=pd.to_datetime(closed["created_at"]).dt.normalize().astype("datetime64[us]"))
    snapshots = snapshots.assign(day=pd.to_datetime(snapshots["snapshot_date"]).astype("datetime64[us]"))
    closed, snapshots = closed.sort_values("day"), snapshots.sort_values("day")
    at_creation = pd.merge_asof(
        closed,
        snapshots.drop(columns="snapshot_date"),
        on="day",
        by=["account_id", "solution_interest"],
        direction="backward",
    )
    settings = config.reporting
    rows = []
    for measure, column, edges, percent in (
        ("completeness", "completeness_score", settings.completeness_bands, True),
        ("score", "score", settings.score_bands, False),
    ):
        banded = at_creation.assign(
            band=[
                band(float(v) if v is not None else float("nan"), edges, percent) for v in at_creation[column]
            ]
        )
        grouped = banded.groupby(["solution_interest", "band"])["is_won"]
        part = pd.DataFrame({"opportunities": grouped.size(), "won": grouped.sum().astype(int)}).reset_index()
        rows.append(part.assign(measure=measure))
    out = pd.concat(rows, ignore_index=True)
    out["win_rate"] = _rate(out["won"], out["opportunities"])
    return out[columns].sort_values(["solution_interest", "measure", "band"]).reset_index(drop=True)


def mqa_acceptance(session: Session, config: BlueprintConfig) -> pd.DataFrame:
    """Sales' usable decisions on marketing-qualified accounts (`sales_feedback`), accepted and
    rejected, and the reason given most often for a rejection (ties: the first alphabetically)."""
    columns = ["week", "solution_interest", "decisions", "accepted", "rejected", "acceptance_rate"]
    columns.append("top_rejection_reason")
    if not session.table_exists("sales_feedback"):
        return _empty(columns)
    frame = session.fetch_df(
        "select solution_interest, decision, reason, decided_at from sales_feedback where problem = ''"
    )
    if frame.empty:
        return _empty(columns)
    frame["week"] = _week(frame["decided_at"])
    frame["accepted"] = (frame["decision"] == "accepted").astype("int64")
    frame["rejected"] = (frame["decision"] == "rejected").astype("int64")
    out = (
        frame.groupby(["week", "solution_interest"], as_index=False)
        .agg(decisions=("decision", "size"), accepted=("accepted", "sum"), rejected=("rejected", "sum"))
        .astype({"decisions": "int64", "accepted": "int64", "rejected": "int64"})
    )
    out["acceptance_rate"] = _rate(out["accepted"], out["decisions"])
    rejections = frame[frame["rejected"] == 1].assign(reason=lambda f: f["reason"].str.strip().str.lower())
    top = (
        rejections.groupby(["week", "solution_interest", "reason"], as_index=False)
        .size()
        .sort_values(["week", "solution_interest", "size", "reason"], ascending=[True, True, False, True])
        .drop_duplicates(["week", "solution_interest"])
        .rename(columns={"reason": "top_rejection_reason"})
    )
    out = out.merge(top[["week", "solution_interest", "top_rejection_reason"]], how="left")
    out["top_rejection_reason"] = out["top_rejection_reason"].fillna("")
    return out[columns].sort_values(["week", "solution_interest"]).reset_index(drop=True)


KPIS = {
    completeness: Kpi(
        "kpi_buying_group_completeness",
        "Buying group completeness rate: the share of buying groups that are complete (completeness "
        "score at their solution interest's threshold, buying_groups.is_complete; docs/figures.md).",
        "one row per week and solution interest",
    ),
    engagement: Kpi(
        "kpi_buying_group_engagement",
        "Buying group engagement score: the mean (and median) "
        "group score, person scores rolled up to the group.",
        "one row per week and solution interest",
        figure="group_score",
    ),
    mqa: Kpi(
        "kpi_mqa_rate",
        "Marketing-qualified account rate: the share of accounts whose buying group is in a "
        "qualified stage (alerts.milestones.qualified_stages).",
        "one row per week and solution interest",
    ),
    velocity: Kpi(
        "kpi_pipeline_velocity",
        "Pipeline velocity: days from buying-group creation to the "
        "sales-qualified opportunity (the first opportunity of the interest's type on the account "
        "after it).",
        "one row per week of opportunity creation and solution interest",
    ),
    qualification: Kpi(
        "kpi_lead_qualification_rate",
        "Lead-to-buying-group qualification rate: the share of "
        "persons linked to the groups' accounts who are in a role.",
        "one row per week and solution interest",
    ),
    alert_response: Kpi(
        "kpi_sales_alert_response_rate",
        "Sales alert response rate: the share of alerts "
        "followed by a CRM Task or an opportunity on the account within "
        "reporting.alert_response_days.",
        "one row per week of the alert and solution interest",
    ),
    journey_completion: Kpi(
        "kpi_journey_completion_rate",
        "Account journey completion rate: the share of "
        "enrolments that met the exit criteria or reached an exit node.",
        "one row per week of entry and journey",
    ),
    email_engagement: Kpi(
        "kpi_email_engagement_rate",
        "B2B email engagement rate: the share of journey emails sent that were opened, and clicked.",
        "one row per week sent and journey",
    ),
    mqa_acceptance: Kpi(
        "kpi_mqa_acceptance",
        "MQA acceptance by sales: the share of sales' decisions on marketing-qualified accounts that "
        "accepted them (the sales feedback file), and the most frequent reason for a rejection.",
        "one row per week of the decision and solution interest",
    ),
    win_rate_by_band: Kpi(
        "kpi_win_rate_by_band",
        "Win rate of closed opportunities by the group's completeness "
        "band and score band when the opportunity was created: what to tune thresholds with.",
        "one row per solution interest, measure and band",
    ),
}
