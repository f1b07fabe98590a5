"""When a wait ends: after a duration or on a date, then moved to the next allowed weekday and
time of day in the node's time zone (`must_end_on`). Times in and out are naive UTC."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from blueprint_pipeline.config.journeys import WEEKDAYS, EndOn, Wait


def wait_ends(node: Wait, started: datetime) -> datetime:
    if node.until is not None:
        end = datetime.combine(node.until, datetime.min.time())
    else:
        end = started + timedelta(days=node.days or 0, hours=node.hours or 0)
    return end_on(node.must_end_on, end) if node.must_end_on else end


def end_on(rule: EndOn, at: datetime) -> datetime:
    """The first moment at or after `at` that falls on an allowed weekday at the rule's local time."""
    zone = ZoneInfo(rule.time_zone)
    local = at.replace(tzinfo=UTC).astimezone(zone)
    allowed = {WEEKDAYS.index(d) for d in rule.weekdays}
    for days in range(8):
        day = (local + timedelta(days=days)).date()
        candidate = datetime.combine(day, rule.time, tzinfo=zone)
        if candidate.weekday() in allowed and candidate >= local:
            return candidate.astimezone(UTC).replace(tzinfo=None)
    raise AssertionError("a week always holds an allowed weekday")
