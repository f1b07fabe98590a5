"""The membership history's new entries, worked out in the warehouse (docs/buying-groups.md).

Each build appends what changed against the last entry per group and person: `added`, `changed`
(another role or actor), `removed`. A removal says why in matched_condition: an override (then the
actor is `manual`: it was sales' act), the group gone (the account left the solution interest's
audience), or no role fitting any more. The entries are numbered on from the history's last
`event_seq`, in (group, person) order byte by byte, on every engine.

One outer join of this build's members with the history's current state: at a million persons
the same work in pandas fetched the whole state and took seconds of merging (docs/benchmarks.md).
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime

import pandas as pd

from blueprint_pipeline.warehouse import Session, quote

EVENTS_TABLE = "buying_group_member_events"
_REMOVALS = "bg_manual_removals"

GONE = "the account left the solution interest's audience"
NO_ROLE = "no role fits any more, or the person's primary account changed"


# The history's last entry per group and person: the current membership (removed ones aside).
LAST_ENTRIES = (
    "select * from (select *, row_number() over (partition by buying_group_id, person_id "
    f"order by event_seq desc) as latest from {quote(EVENTS_TABLE)}) as e where latest = 1"
)


def journey_state(session: Session) -> pd.DataFrame:
    """Per group and person whose last membership event a journey made: that event."""
    return session.fetch_df(
        "select buying_group_id, person_id, event, role, matched_condition "
        f"from ({LAST_ENTRIES}) as e where actor = 'journey'"
    )


def append_membership_events(
    session: Session,
    members: str,
    groups: str,
    manual_removals: pd.DataFrame,
    as_of: datetime,
    config_version: str,
) -> Counter[str]:
    """Append to the history what changed between its current state and this build's `members`
    table (buying_group_id, person_id, role, actor, matched_condition); `groups` is this build's
    groups table (a removal from a group not in it: the account left the audience);
    `manual_removals` (buying_group_id, person_id, reason) are the overrides' removals. Returns the
    number of entries per event."""
    session.temporary_table(_REMOVALS, manual_removals[["buying_group_id", "person_id", "reason"]])
    first = int(session.scalar(f"select coalesce(max(event_seq), 0) from {quote(EVENTS_TABLE)}")) + 1
    with session.dropped_after(_REMOVALS):
        session.execute(
            f"insert into {quote(EVENTS_TABLE)} (event_seq, buying_group_id, person_id, event, role, actor, "
            "matched_condition, happened_at, config_version) "
            'select $first - 1 + row_number() over (order by buying_group_id collate "C", '
            'person_id collate "C"), buying_group_id, person_id, event, role, actor, matched_condition, '
            "cast($as_of as timestamp), $config_version from ("
            "select coalesce(c.buying_group_id, p.buying_group_id) as buying_group_id, "
            "coalesce(c.person_id, p.person_id) as person_id, "
            "case when p.person_id is null then 'added' when c.person_id is null then 'removed' "
            "else 'changed' end as event, "
            "case when c.person_id is null then p.role else c.role end as role, "
            "case when c.person_id is not null then c.actor when r.reason is not null then 'manual' "
            "else p.actor end as actor, "
            "case when c.person_id is not null then c.matched_condition when r.reason is not null "
            f"then r.reason when g.buying_group_id is null then $gone else $no_role end as matched_condition "
            f"from {quote(members)} as c "
            f"full outer join (select * from ({LAST_ENTRIES}) as l where event <> 'removed') as p "
            "on p.buying_group_id = c.buying_group_id and p.person_id = c.person_id "
            f"left join {quote(groups)} as g "
            "on c.person_id is null and g.buying_group_id = p.buying_group_id "
            f"left join {quote(_REMOVALS)} as r on c.person_id is null "
            "and r.buying_group_id = p.buying_group_id and r.person_id = p.person_id "
            "where p.person_id is null or c.person_id is null "
            "or c.role is distinct from p.role or c.actor is distinct from p.actor) as changes",
            {
                "first": first,
                "as_of": as_of.isoformat(sep=" "),
                "config_version": config_version,
                "gone": GONE,
                "no_role": NO_ROLE,
            },
        )
    return Counter(
        dict(
            session.fetchall(
                f"select event, count(*) from {quote(EVENTS_TABLE)} where event_seq >= $first group by event",
                {"first": first},
            )
        )
    )
