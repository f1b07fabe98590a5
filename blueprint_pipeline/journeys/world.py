"""What a journey run reads, loaded once per run into plain lookups (the engine is pure Python
over these, so it is tested on hand-made worlds as well as on the warehouse)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pandas as pd

from blueprint_pipeline.audiences.compile import compile_filter
from blueprint_pipeline.buying_groups.stages import HISTORY, JOURNEY_MOVES, MOVES_NOT_APPLIED
from blueprint_pipeline.buying_groups.title_parser import parse_title
from blueprint_pipeline.config.journeys import AccountCondition, JourneysConfig, SplitAccounts
from blueprint_pipeline.warehouse import Session


@dataclass
class World:
    as_of: datetime
    accounts: dict[str, dict] = field(default_factory=dict)  # account_id -> account fields
    groups: dict[tuple[str, str], dict] = field(default_factory=dict)  # (interest, account) -> group facts
    members: dict[str, dict[str, str]] = field(default_factory=dict)  # group id -> {person_id: role}
    person_scores: dict[str, float] = field(default_factory=dict)
    persons: dict[str, dict] = field(default_factory=dict)  # person_id -> fields, consent
    account_persons: dict[str, list[str]] = field(default_factory=dict)  # primary links
    activities: dict[str, list[tuple[str, datetime]]] = field(default_factory=dict)  # person -> (kind, at)
    stage_moves: dict[str, list[tuple[str, datetime]]] = field(default_factory=dict)  # group -> (to, at)
    group_created: dict[str, datetime] = field(default_factory=dict)
    opportunities: dict[str, list[datetime]] = field(default_factory=dict)  # account -> created_at
    audiences: dict[str, set[str]] = field(default_factory=dict)
    lists: dict[str, set[str]] = field(default_factory=dict)
    account_matches: dict[int, set[str]] = field(default_factory=dict)  # id(condition.account) -> accounts
    sent: dict[tuple[str, str], list[datetime]] = field(
        default_factory=lambda: defaultdict(list)
    )  # (channel, person)
    sent_to_account: dict[str, list[datetime]] = field(default_factory=lambda: defaultdict(list))
    sent_to_group: dict[str, list[datetime]] = field(default_factory=lambda: defaultdict(list))
    stage_models: dict[str, str] = field(default_factory=dict)  # solution interest -> stage model


def _text(value) -> str:
    """A text field as a string: NULL arrives as None, NaN or pd.NA, and must never become "nan"
    (an address) or count as present."""
    return value.strip() if isinstance(value, str) else ""


def _flag(value) -> bool:
    return bool(value) if value is not None and not pd.isna(value) else False


def interest_facts(config) -> dict[str, dict]:
    """Solution interest -> what journeys show of it and its stage model (`config`: BlueprintConfig)."""
    return {
        name: {"name": i.name, "description": i.description, "business_outcome": i.business_outcome,
               "stage_model": i.stage_model}
        for name, i in config.buying_groups.solution_interests.items()
    }  # fmt: skip


def _lists_of(frame: pd.DataFrame, key: str, value: str) -> dict[str, list]:
    return {k: list(v) for k, v in frame.groupby(key, sort=False)[value]} if len(frame) else {}


def load_world(session: Session, config: JourneysConfig, as_of: datetime, lookback_days: int) -> World:
    """Everything the live journeys may read, as of `as_of`; activities from `lookback_days` back."""
    world = World(as_of)
    accounts = session.fetch_df(
        "select account_id, account_name, domain, industry, employees, billing_country from unified_accounts"
    )
    world.accounts = {
        r.account_id: {
            "id": r.account_id,
            "name": _text(r.account_name) or r.account_id,
            "domain": _text(r.domain),
            "industry": _text(r.industry),
            "employees": int(r.employees) if not pd.isna(r.employees) else "",
            "country": _text(r.billing_country),
        }
        for r in accounts.itertuples(index=False)
    }
    groups = session.fetch_df(
        "select g.buying_group_id, g.buying_group_name, g.solution_interest, g.account_id, g.members, "
        "coalesce(g.completeness_score, 0) as completeness, "
        "coalesce(g.missing_required_roles, '') as missing, "
        "s.stage, coalesce(e.score, 0) as score from buying_groups as g "
        "left join buying_group_stages as s on s.buying_group_id = g.buying_group_id "
        "left join buying_group_engagement as e on e.buying_group_id = g.buying_group_id"
    )
    statuses = _current_statuses(session)
    tiers = (
        dict(session.fetchall("select buying_group_id, tier from readiness_scores"))
        if session.table_exists("readiness_scores")
        else {}
    )
    for r in groups.itertuples(index=False):
        world.groups[(r.solution_interest, r.account_id)] = {
            "id": r.buying_group_id,
            "name": r.buying_group_name,
            "stage": r.stage,
            "score": float(r.score),
            "completeness": float(r.completeness),
            "missing_roles": r.missing,
            "members": int(r.members),
            "status": statuses.get(r.buying_group_id, ""),
            "readiness_tier": tiers.get(r.buying_group_id, ""),
        }
    members = session.fetch_df("select buying_group_id, person_id, role from buying_group_members")
    for r in members.itertuples(index=False):
        world.members.setdefault(r.buying_group_id, {})[r.person_id] = r.role
    scores = session.fetch_df("select person_id, score from person_engagement_scores")
    world.person_scores = dict(zip(scores["person_id"], scores["score"].astype(float), strict=True))
    persons = session.fetch_df(
        "select p.person_id, p.first_name, p.last_name, p.email, p.email_domain, p.title, p.phone, "
        "p.department, p.country, p.email_opt_out, p.email_bounced, p.sms_opt_in, l.account_id "
        "from unified_persons as p "
        "inner join person_account_links as l on l.person_id = p.person_id and l.is_primary"
    )
    levels = {t: parse_title(t).seniority for t in persons["title"].dropna().unique()}  # per title
    for r in persons.itertuples(index=False):
        world.persons[r.person_id] = {
            "first_name": _text(r.first_name),
            "last_name": _text(r.last_name),
            "email": _text(r.email),
            "email_domain": _text(r.email_domain),
            "title": _text(r.title),
            "phone": _text(r.phone),
            "department": _text(r.department),
            "country": _text(r.country),
            "seniority": levels.get(r.title) or "",
            "email_opt_out": _flag(r.email_opt_out),
            "email_bounced": _flag(r.email_bounced),
            "sms_opt_in": _flag(r.sms_opt_in),
        }
    world.account_persons = _lists_of(persons, "account_id", "person_id")
    # Unsubscribes and bounces tracked since the last full build (the fast path stages them before
    # unified_persons is rebuilt): suppressed at once.
    if session.table_exists("stg_tracking__events"):
        for person_id, event in session.fetchall(
            "select distinct person_id, event from stg_tracking__events "
            "where event in ('unsubscribe', 'bounce')"
        ):
            if person_id in world.persons:
                world.persons[person_id]["email_opt_out" if event == "unsubscribe" else "email_bounced"] = (
                    True
                )
    since = as_of - timedelta(days=lookback_days)
    activities = session.fetch_df(
        "select person_id, kind, activity_at from int_person_activities "
        "where activity_at > $since and activity_at <= $as_of order by activity_at",
        {"since": since, "as_of": as_of},
    )
    for r in activities.itertuples(index=False):
        world.activities.setdefault(r.person_id, []).append((r.kind, r.activity_at.to_pydatetime()))
    for r in stage_moves(session).itertuples(index=False):
        at = r.changed_at.to_pydatetime()
        world.stage_moves.setdefault(r.buying_group_id, []).append((r.to_stage, at))
        world.group_created.setdefault(r.buying_group_id, at)
    opportunities = session.fetch_df(
        "select account_id, created_at from stg_salesforce__opportunities where account_id is not null"
    )
    for r in opportunities.itertuples(index=False):
        if not pd.isna(r.created_at):
            world.opportunities.setdefault(r.account_id, []).append(r.created_at.to_pydatetime())
    audience = session.fetch_df("select audience_id, account_id from account_audience_members")
    world.audiences = {k: set(v) for k, v in _lists_of(audience, "audience_id", "account_id").items()}
    if session.table_exists("journey_account_lists"):
        lists = session.fetch_df(LIST_MEMBERS)
        world.lists = {k: set(v) for k, v in _lists_of(lists, "list_name", "account_id").items()}
    for condition in account_conditions(config):
        sql, params = compile_filter(condition.account)
        found = session.fetch_df(
            f"select a.account_id from unified_accounts as a where {sql}",
            {**params, "as_of": as_of} if "as_of" in sql else params,
        )
        world.account_matches[id(condition.account)] = set(found["account_id"])
    _load_sent(session, world)
    return world


def stage_moves(session: Session) -> pd.DataFrame:
    """Every stage move in order: the history's, then the journeys' own moves that the stage asset
    has not appended to it yet (it does so at its next run): a journey sees every move made so far,
    whether the stage asset has run since or not."""
    moves = f"select buying_group_id, to_stage, changed_at, 0 as pending, change_seq as seq from {HISTORY}"
    if session.table_exists(JOURNEY_MOVES):
        pending = f"select j.buying_group_id, j.to_stage, j.changed_at, 1, j.event_seq {MOVES_NOT_APPLIED}"
        moves += f" union all {pending}"
    return session.fetch_df(
        f"select buying_group_id, to_stage, changed_at from ({moves}) as m order by pending, seq"
    )


LIST_MEMBERS = (
    "select list_name, account_id from (select list_name, account_id, action, row_number() over "
    "(partition by list_name, account_id order by event_seq desc) as latest from journey_account_lists) as l "
    "where latest = 1 and action = 'add'"
)


def _current_statuses(session: Session) -> dict[str, str]:
    if not session.table_exists("buying_group_status_history"):
        return {}
    rows = session.fetchall(
        "select buying_group_id, status from (select buying_group_id, status, row_number() over "
        "(partition by buying_group_id order by event_seq desc) as latest "
        "from buying_group_status_history) as s "
        "where latest = 1"
    )
    return dict(rows)


def _load_sent(session: Session, world: World) -> None:
    """Messages of the last 7 days that count towards the limits (not held back, not test sends)."""
    if not session.table_exists("journey_outbox"):
        return
    rows = session.fetch_df(
        "select channel, person_id, account_id, buying_group_id, created_at from journey_outbox "
        "where status <> 'held' and not test and channel <> 'sales_alert' and created_at > $since",
        {"since": world.as_of - timedelta(days=7)},
    )
    for r in rows.itertuples(index=False):
        at = r.created_at.to_pydatetime()
        world.sent[(r.channel, r.person_id)].append(at)
        world.sent_to_account[r.account_id].append(at)
        world.sent_to_group[r.buying_group_id].append(at)


def account_conditions(config: JourneysConfig) -> list[AccountCondition]:
    """Every split path's account condition with an account filter (run in the warehouse)."""
    return [
        path.when
        for journey in config.journeys.values()
        for node in journey.nodes.values()
        if isinstance(node, SplitAccounts)
        for path in node.paths
        if path.when.account is not None
    ]
