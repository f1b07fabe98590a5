"""Config section `governance`: how long data is kept (docs/governance.md)."""

from __future__ import annotations

from pydantic import Field, field_validator

from blueprint_pipeline.config.base import StrictModel

# Dataset -> what expiring means (the rows, the tables, the time that decides).
RETAINABLE = {
    "marketo_activities": "Marketo activities (raw and staged) older than the limit, by their activity time",
    "tracking_events": "tracking events (raw and staged) older than the limit, by when they happened",
    "journey_step_log": "journey steps older than the limit",
    "journey_outbox": "sent, held, bounced or failed messages older than the limit (pending ones stay)",
    "sales_alert_log": "sales alert records older than the limit",
    "buying_group_snapshots": "daily buying-group snapshots (and their role rows) older than the limit",
}


class Retention(StrictModel):
    older_than_days: int = Field(gt=0, description="rows older than this many days before the run expire")


class GovernanceConfig(StrictModel):
    retention: dict[str, Retention | None] = Field(
        default_factory=dict, description="dataset -> how long it is kept; `null`: kept for ever"
    )

    @field_validator("retention")
    @classmethod
    def _known(cls, value: dict) -> dict:
        unknown = sorted(set(value) - set(RETAINABLE))
        if unknown:
            raise ValueError(f"datasets {unknown} have no retention; expected some of {sorted(RETAINABLE)}")
        return {name: rule for name, rule in value.items() if rule is not None}
