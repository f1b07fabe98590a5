"""Config section `reporting`: the choices behind the KPIs and the dashboard (docs/reporting.md)."""

from __future__ import annotations

from pydantic import Field, field_validator

from blueprint_pipeline.config.alerts import email_address
from blueprint_pipeline.config.base import StrictModel


def _rising(edges: list[float]) -> list[float]:
    if any(b <= a for a, b in zip(edges, edges[1:], strict=False)):
        raise ValueError("band edges must rise")
    return edges


class Monitoring(StrictModel):
    stale_after_hours: dict[str, float | None] = Field(
        default_factory=lambda: {"salesforce": 48, "marketo": 24, "linkedin": 168, "tracking": None},
        description="source system -> the newest file older than this fails the freshness check; null: "
        "not watched",
    )
    run_failures_to: list[str] = Field(
        default_factory=lambda: ["ops@localhost"], description="who is emailed when a run fails"
    )
    run_failures_sms_to: list[str] = Field(
        default_factory=list, description="phone numbers texted when a run fails (the SMS channel)"
    )

    @field_validator("stale_after_hours")
    @classmethod
    def _positive(cls, value: dict[str, float | None]) -> dict[str, float | None]:
        bad = sorted(k for k, v in value.items() if v is not None and v <= 0)
        if bad:
            raise ValueError(f"{bad}: an age limit is a number of hours above 0 (null: not watched)")
        return value

    @field_validator("run_failures_to")
    @classmethod
    def _addresses(cls, value: list[str]) -> list[str]:
        return [email_address(v) for v in value]


class ReportingConfig(StrictModel):
    alert_response_days: int = Field(
        default=7,
        gt=0,
        le=90,
        description="a CRM Task or opportunity on the account this soon after an alert is a response",
    )
    completeness_bands: list[float] = Field(
        default=[0, 0.25, 0.5, 0.75, 1.0], min_length=2, description="band edges of completeness (0-1)"
    )
    score_bands: list[float] = Field(
        default=[0, 10, 25, 50, 100],
        min_length=2,
        description="band edges of the engagement score; the last band is open-ended",
    )
    top_n: int = Field(default=10, ge=1, le=100, description="rows in the dashboard's top lists")
    surge_points: float = Field(
        default=10,
        gt=0,
        description="a 14-day score velocity at least this high is surging, this low at risk",
    )
    stagnant_days: int = Field(default=30, gt=0, description="this long in one stage is stagnant")
    monitoring: Monitoring = Field(default_factory=Monitoring)

    _bands = field_validator("completeness_bands", "score_bands")(_rising)

    @field_validator("completeness_bands")
    @classmethod
    def _fractions(cls, value: list[float]) -> list[float]:
        if value[0] < 0 or value[-1] > 1:
            raise ValueError("completeness is a fraction: band edges go from 0 to 1 (0.8, not 80)")
        return value
