"""What every run records: its as-of time and the version of the config it used.

The as-of time comes from the run tag `blueprint/as_of` (set by `blueprint run --as-of`), else it
is the run's start, so all assets of one run share one "now" and a replay with the same tag gives
the same answers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import dagster as dg

AS_OF_TAG = "blueprint/as_of"
FULL_REFRESH_TAG = "blueprint/full_refresh"


def parse_as_of(text: str) -> datetime:
    """An ISO-8601 time as a naive UTC datetime; a time without offset is taken as UTC."""
    try:
        if not text.strip():
            raise ValueError("empty")
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise ValueError(
            f"as-of time {text!r}: expected ISO-8601, e.g. 2026-11-25 or 2026-11-25T09:30:00Z"
        ) from exc
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value


@dataclass(frozen=True)
class RunFacts:
    as_of: datetime
    config_version: str
    full_refresh: bool = False

    def metadata(self) -> dict[str, str]:
        return {
            "blueprint/as_of": self.as_of.isoformat(),
            "blueprint/config_version": self.config_version,
        }


def run_facts(context: dg.AssetExecutionContext, config_version: str) -> RunFacts:
    tags = context.run.tags
    if AS_OF_TAG in tags:
        as_of = parse_as_of(tags[AS_OF_TAG])
    else:
        record = context.instance.get_run_record_by_id(context.run_id)
        started = (record.start_time if record else None) or (
            record.create_timestamp.timestamp() if record else None
        )
        as_of = datetime.fromtimestamp(started, UTC).replace(tzinfo=None) if started else None
        as_of = as_of or datetime.now(UTC).replace(tzinfo=None)
    return RunFacts(as_of, config_version, tags.get(FULL_REFRESH_TAG) == "true")
