"""What a sales alert says and where it goes, for standing rules and journey nodes alike.

`load_facts` reads, for the alerted buying groups only, the group, its account and owner, its
most engaged members with their last activities, and the activities behind its score; `route`
picks the address; `render` makes the email (HTML and plain text) from the shipped templates
(`blueprint_pipeline/alerts/templates/`), in Jinja's sandbox.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pandas as pd
from jinja2 import StrictUndefined
from jinja2.sandbox import SandboxedEnvironment

from blueprint_pipeline.audiences.compile import compile_filter
from blueprint_pipeline.config.alerts import Routing
from blueprint_pipeline.config.figures import PERSON_SCALE, group_scale
from blueprint_pipeline.config.models import BlueprintConfig
from blueprint_pipeline.warehouse import Session

TEMPLATES = Path(__file__).parent / "templates"
TEXT = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True)
HTML = SandboxedEnvironment(undefined=StrictUndefined, autoescape=True)
KEYS = "alert_groups_wanted"
NAMED_PERSONS = 20_000  # past this many members the contributions are read whole (a full build's alerts)


def _name(first, last, email) -> str:
    name = " ".join(str(p) for p in (first, last) if isinstance(p, str) and p)
    return name or (email if isinstance(email, str) else "") or "(no name)"


def _text(value) -> str:
    return value if isinstance(value, str) else ""


def _readiness(row) -> dict:
    """The group's readiness as an alert shows it: tier, probability, the reasons in words."""
    if row is None:
        return {"readiness": "", "readiness_reasons": []}
    return {
        "readiness": f"{row.tier} (probability {float(row.probability):.0%})",
        "readiness_reasons": [r for r in (_text(row.explanation) or "").split("; ") if r],
    }


def _complete(is_complete, complete_at: float) -> str:
    """ "complete" as every output counts it (buying_groups.is_complete, docs/figures.md)."""
    return (
        f"complete (at {complete_at:.0%})"
        if is_complete is True
        else f"not complete ({complete_at:.0%} needed)"
    )


def load_facts(
    session: Session, group_ids: list[str], blueprint: BlueprintConfig, as_of: datetime
) -> dict[str, dict]:
    """buying_group_id -> the facts an alert shows (groups that no longer exist are left out).
    Each score says whose it is and its scale (config/figures.py)."""
    if not group_ids:
        return {}
    config = blueprint.alerts
    session.replace_table(KEYS, pd.DataFrame({"key": pd.Series(sorted(set(group_ids)), dtype="string")}))
    groups = session.fetch_df(
        "select g.buying_group_id, g.buying_group_name, g.solution_interest, g.account_id, "
        "coalesce(g.completeness_score, 0) as completeness, g.is_complete, g.missing_required_roles, "
        "s.stage, "
        "coalesce(e.score, 0) as score, a.account_name, a.domain, a.industry, a.billing_country, "
        "u.email as owner_email, u.is_active as owner_active, u.user_name as owner_name "
        f"from buying_groups as g inner join {KEYS} as w on w.key = g.buying_group_id "
        "left join buying_group_stages as s on s.buying_group_id = g.buying_group_id "
        "left join buying_group_engagement as e on e.buying_group_id = g.buying_group_id "
        "left join unified_accounts as a on a.account_id = g.account_id "
        "left join stg_salesforce__users as u on u.user_id = a.owner_user_id"
    )
    statuses = {}
    if session.table_exists("buying_group_status_history"):
        statuses = dict(
            session.fetchall(
                "select buying_group_id, status from (select h.buying_group_id, h.status, row_number() over "
                "(partition by h.buying_group_id order by h.event_seq desc) as latest from "
                f"buying_group_status_history as h inner join {KEYS} as w on w.key = h.buying_group_id) as s "
                "where latest = 1"
            )
        )
    members = session.fetch_df(
        "select * from (select m.buying_group_id, m.person_id, m.role, coalesce(s.score, 0) as score, "
        "p.first_name, p.last_name, p.email, p.title, row_number() over (partition by m.buying_group_id "
        "order by coalesce(s.score, 0) desc, m.person_id) as rank "
        f"from buying_group_members as m inner join {KEYS} as w on w.key = m.buying_group_id "
        "left join person_engagement_scores as s on s.person_id = m.person_id "
        "left join unified_persons as p on p.person_id = m.person_id) as ranked "
        f"where rank <= {int(config.top_members)} order by buying_group_id, rank"
    )
    last = session.fetch_df(
        "select person_id, kind, activity_at from (select a.person_id, a.kind, a.activity_at, row_number() "
        "over (partition by a.person_id order by a.activity_at desc) as recent "
        "from int_person_activities as a "
        "where a.activity_at <= $as_of and a.person_id in (select m.person_id from buying_group_members as m "
        f"inner join {KEYS} as w on w.key = m.buying_group_id)) as r where recent <= 3 "
        "order by person_id, activity_at desc",
        {"as_of": as_of},
    )
    # The contributions are a view on DuckDB: the members' ids, given as a list, reach its scans
    # (a join does not: the view was computed whole, 3 s at 1M persons for one alert).
    persons = [
        p
        for (p,) in session.fetchall(
            f"select distinct m.person_id from buying_group_members as m inner join {KEYS} as w "
            "on w.key = m.buying_group_id"
        )
    ]
    named = "and c.person_id = any($persons)" if len(persons) <= NAMED_PERSONS else ""
    # The names are joined to the top rows only: joined inside, they turned DuckDB's plan over
    # (3 s against 0.6 s for one group at 1M persons).
    behind = session.fetch_df(
        "select ranked.*, p.first_name, p.last_name, p.email from (select m.buying_group_id, c.person_id, "
        "c.kind, c.activity_day, c.counted, c.contribution, row_number() over (partition by "
        "m.buying_group_id order by c.contribution desc, c.activity_day desc, c.person_id, c.kind) as rank "
        "from person_engagement_contributions as c inner join buying_group_members as m "
        f"on m.person_id = c.person_id inner join {KEYS} as w on w.key = m.buying_group_id "
        f"where c.contribution > 0 {named}) as ranked "
        "left join unified_persons as p on p.person_id = ranked.person_id "
        f"where ranked.rank <= {int(config.top_activities)} order by ranked.buying_group_id, ranked.rank",
        {"persons": persons} if named else None,
    )
    readiness = {}
    if session.table_exists("readiness_scores"):
        readiness = {
            r.buying_group_id: r
            for r in session.fetch_df(
                "select r.buying_group_id, r.probability, r.tier, r.explanation from readiness_scores as r "
                f"inner join {KEYS} as w on w.key = r.buying_group_id"
            ).itertuples(index=False)
        }
    session.execute(f"drop table {KEYS}")
    recent: dict[str, list[dict]] = {}
    for r in last.itertuples(index=False):
        recent.setdefault(r.person_id, []).append(
            {"kind": r.kind, "at": f"{pd.Timestamp(r.activity_at):%Y-%m-%d %H:%M}"}
        )
    facts: dict[str, dict] = {}
    for g in groups.itertuples(index=False):
        facts[g.buying_group_id] = {
            "group": {
                "id": g.buying_group_id,
                "name": g.buying_group_name,
                "stage": _text(g.stage),
                "status": statuses.get(g.buying_group_id, ""),
                "score": f"{float(g.score):.1f}",
                "score_scale": group_scale(blueprint),
                "completeness": f"{float(g.completeness):.0%}",
                "complete": _complete(
                    bool(g.is_complete) if not pd.isna(g.is_complete) else None,
                    blueprint.buying_groups.completeness_of(g.solution_interest).complete_at,
                ),
                "missing_roles": _text(g.missing_required_roles),
                **_readiness(readiness.get(g.buying_group_id)),
            },
            "account": {
                "id": g.account_id,
                "name": _text(g.account_name) or g.account_id,
                "domain": _text(g.domain),
                "industry": _text(g.industry),
                "country": _text(g.billing_country),
            },
            "owner_email": _text(g.owner_email)
            if g.owner_active is not False and not pd.isna(g.owner_active)
            else "",
            "solution_interest_key": g.solution_interest,
            "members": [],
            "activities": [],
        }
    for m in members.itertuples(index=False):
        if m.buying_group_id in facts:
            facts[m.buying_group_id]["members"].append(
                {
                    "name": _name(m.first_name, m.last_name, m.email),
                    "role": m.role,
                    "title": _text(m.title),
                    "email": _text(m.email),
                    "score": f"{float(m.score):.1f}",
                    "score_scale": PERSON_SCALE,
                    "last_activities": recent.get(m.person_id, []),
                }
            )
    for a in behind.itertuples(index=False):
        if a.buying_group_id in facts:
            facts[a.buying_group_id]["activities"].append(
                {
                    "day": f"{pd.Timestamp(a.activity_day):%Y-%m-%d}",
                    "person": _name(a.first_name, a.last_name, a.email),
                    "count": int(a.counted),
                    "kind": a.kind,
                    "points": f"{float(a.contribution):.2f}",
                }
            )
    return facts


def territories(
    session: Session, routing: Routing, account_ids: list[str], as_of: datetime
) -> dict[str, tuple]:
    """account_id -> (territory name, address) of the first territory whose filter it matches."""
    found: dict[str, tuple] = {}
    if not routing.territories or not account_ids:
        return found
    session.replace_table(KEYS, pd.DataFrame({"key": pd.Series(sorted(set(account_ids)), dtype="string")}))
    for territory in routing.territories:
        sql, params = compile_filter(territory.when)
        rows = session.fetchall(
            f"select a.account_id from unified_accounts as a inner join {KEYS} as w on w.key = a.account_id "
            f"where {sql}",
            {**params, "as_of": as_of} if "as_of" in sql else params,
        )
        for (account,) in rows:
            found.setdefault(account, (territory.name, territory.to))
    session.execute(f"drop table {KEYS}")
    return found


@dataclass(frozen=True)
class Route:
    to: str
    by: str  # what gave the address: owner, territory <name>, solution_interest, default_to


def route(routing: Routing, facts: dict, territory: tuple | None) -> Route:
    for way in routing.order:
        if way == "owner" and facts["owner_email"]:
            return Route(facts["owner_email"], "owner")
        if way == "territory" and territory:
            return Route(territory[1], f"territory {territory[0]}")
        if way == "solution_interest" and facts["solution_interest_key"] in routing.solution_interests:
            return Route(routing.solution_interests[facts["solution_interest_key"]], "solution_interest")
    return Route(routing.default_to, "default_to")


def render(
    facts: dict, interest: dict, reason: str, rule: str, sender: str, note: str = ""
) -> tuple[str, str, str]:
    """(subject, text, html) of the alert."""
    values = {
        **facts,
        "solution_interest": interest,
        "reason": reason,
        "rule": rule,
        "sender": sender,
        "note": note,
    }
    text = TEXT.from_string((TEMPLATES / "alert.txt").read_text()).render(values)
    html = HTML.from_string((TEMPLATES / "alert.html").read_text()).render(values)
    subject = f"Sales alert: {facts['group']['name']} ({reason})"
    return subject, text, html
