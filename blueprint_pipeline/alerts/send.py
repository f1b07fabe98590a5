"""Alerts to outbox rows: the content and the address, for standing rules and journey nodes."""

from __future__ import annotations

from datetime import datetime

from blueprint_pipeline.alerts.content import load_facts, render, route, territories
from blueprint_pipeline.config.models import BlueprintConfig
from blueprint_pipeline.journeys.engine import stable_id
from blueprint_pipeline.warehouse import Session


def interest_of(config: BlueprintConfig, key: str) -> dict:
    interest = config.buying_groups.solution_interests.get(key)
    return {
        "name": interest.name if interest else key,
        "description": interest.description if interest else "",
        "business_outcome": interest.business_outcome if interest else "",
    }


def prepare(session: Session, config: BlueprintConfig, group_ids: list[str], as_of: datetime):
    """The facts and territories for the alerted groups, read once per run."""
    facts = load_facts(session, group_ids, config, as_of)
    accounts = [f["account"]["id"] for f in facts.values()]
    return facts, territories(session, config.alerts.routing, accounts, as_of)


def fill(
    message: dict,
    facts: dict,
    territory: tuple | None,
    config: BlueprintConfig,
    reason: str,
    rule: str,
    note: str = "",
    keep_address: bool = False,
) -> dict:
    """The alert's subject, bodies and (unless `keep_address`: test sends go to the seeds) address."""
    sender = config.journeys.delivery.from_address
    subject, text, html = render(
        facts, interest_of(config, facts["solution_interest_key"]), reason, rule, sender, note
    )
    where = route(config.alerts.routing, facts, territory)
    message.update(subject=subject, body_text=text, body_html=html)
    if not keep_address:
        message.update(to_address=where.to)
    message["routed_by"] = "seed (test)" if keep_address else where.by
    return message


def rule_message(group_id: str, rule: str, reason: str, as_of: datetime, domain: str) -> dict:
    """An outbox row for a standing rule's alert (content filled by `fill`)."""
    key = f"alert/{rule}/{group_id}/{as_of.isoformat()}"
    return {
        "message_id": f"<{stable_id(key, length=32)}@{domain}>",
        "step_key": key,
        "journey_id": f"rule:{rule}",
        "enrolment_id": "",
        "account_id": "",
        "buying_group_id": group_id,
        "person_id": "",
        "channel": "sales_alert",
        "to_address": "",
        "subject": "",
        "body_text": "",
        "body_html": None,
        "unsubscribe_url": None,
        "status": "pending",
        "hold_reason": None,
        "test": False,
        "created_at": as_of,
    }
