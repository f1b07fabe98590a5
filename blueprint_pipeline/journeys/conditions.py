"""Journey conditions over a World: split paths, people, recipients, events and exit criteria."""

from __future__ import annotations

from datetime import datetime, timedelta

from blueprint_pipeline.config.journeys import (
    AccountCondition,
    BuyingGroupCondition,
    Event,
    ExitCriteria,
    PersonCondition,
    PersonField,
    Recipients,
)
from blueprint_pipeline.journeys.world import World


def account_holds(world: World, condition: AccountCondition, account_id: str, group: dict | None) -> bool:
    if condition.account is not None and account_id not in world.account_matches[id(condition.account)]:
        return False
    return condition.buying_group is None or group_holds(world, condition.buying_group, group)


def group_holds(world: World, condition: BuyingGroupCondition, group: dict | None) -> bool:
    if group is None:
        return False
    if condition.stages and group["stage"] not in condition.stages:
        return False
    if (
        condition.completeness_at_least is not None
        and group["completeness"] < condition.completeness_at_least
    ):
        return False
    if condition.score_at_least is not None and group["score"] < condition.score_at_least:
        return False
    if condition.score_below is not None and group["score"] >= condition.score_below:
        return False
    if condition.readiness_tiers and group.get("readiness_tier", "") not in condition.readiness_tiers:
        return False
    roles = list(world.members.get(group["id"], {}).values())
    return all(roles.count(c.role) >= c.at_least for c in condition.role_members)


def _field_holds(rule: PersonField, value: str) -> bool:
    value = value.strip().lower()
    wanted = [v.strip().lower() for v in (rule.value if isinstance(rule.value, list) else [rule.value])]
    return {
        "eq": lambda: value == wanted[0],
        "ne": lambda: value != wanted[0],
        "in": lambda: value in wanted,
        "not_in": lambda: value not in wanted,
        "contains": lambda: any(w in value for w in wanted),
    }[rule.op]()


def person_holds(world: World, condition: PersonCondition, person_id: str, group: dict | None) -> bool:
    person = world.persons.get(person_id)
    if person is None:
        return False
    if not all(_field_holds(rule, person[rule.field]) for rule in condition.fields):
        return False
    role = world.members.get(group["id"], {}).get(person_id) if group else None
    if condition.member is not None and (role is not None) != condition.member:
        return False
    if condition.roles and role not in condition.roles:
        return False
    if condition.activity is not None:
        since = world.as_of - timedelta(days=condition.activity.within_days)
        count = sum(
            1
            for kind, at in world.activities.get(person_id, [])
            if kind in condition.activity.kinds and at > since
        )
        if condition.activity.at_least is not None and count < condition.activity.at_least:
            return False
        if condition.activity.at_most is not None and count > condition.activity.at_most:
            return False
    return True


def recipients(world: World, rule: Recipients, group: dict | None) -> list[str]:
    """Members of the group the rule picks, in person id order; under-engaged roles are those
    whose members' scores add up to less than `under_engaged_below`."""
    if group is None:
        return []
    members = world.members.get(group["id"], {})
    if rule.members == "roles":
        return sorted(p for p, role in members.items() if role in rule.roles)
    if rule.members == "under_engaged":
        totals: dict[str, float] = {}
        for person, role in members.items():
            totals[role] = totals.get(role, 0.0) + world.person_scores.get(person, 0.0)
        weak = {role for role, total in totals.items() if total < rule.under_engaged_below}
        return sorted(p for p, role in members.items() if role in weak)
    return sorted(members)


def heard(world: World, event: Event, account_id: str, group: dict | None, since: datetime) -> str | None:
    """What happened since `since` that the listen node waits for, described, or None."""
    if event.stage_reached:
        for stage, at in world.stage_moves.get(group["id"], []) if group else []:
            if stage == event.stage_reached and since <= at <= world.as_of:
                return f"stage {stage} at {at:%Y-%m-%d %H:%M}"
        return None
    if event.score_at_least is not None:
        score = group["score"] if group else 0.0
        return f"score {score:g} >= {event.score_at_least:g}" if score >= event.score_at_least else None
    kind = "form_fill" if event.form_fill else event.activity_kind
    for person in world.account_persons.get(account_id, []):
        for found, at in world.activities.get(person, []):
            if found == kind and since <= at <= world.as_of:
                return f"{kind} at {at:%Y-%m-%d %H:%M}"
    return None


def exit_reason(
    world: World, criteria: ExitCriteria, account_id: str, group: dict | None, entered: datetime
) -> str | None:
    if group is not None and group["stage"] in criteria.stage_reached:
        return f"stage reached: {group['stage']}"
    if criteria.opportunity_created and any(at >= entered for at in world.opportunities.get(account_id, [])):
        return "opportunity created"
    if criteria.opted_out and group is not None:
        members = world.members.get(group["id"], {})
        if members and all(world.persons.get(p, {}).get("email_opt_out", False) for p in members):
            return "opted out: every member"
    return None
