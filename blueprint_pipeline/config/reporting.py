"""Config section `reporting`: the choices behind the KPIs and the dashboard (docs/reporting.md)."""

from __future__ import annotations

from pydantic import Field, field_validator

from blueprint_pipeline.config.base import StrictModel


def _rising(edges: list[float]) -> list[float]:
    if any(b <= a for a, b in zip(edges, edges[1:], strict=False)):
        raise ValueError("band edges must rise")
    return edges


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

    _bands = field_validator("completeness_bands", "score_bands")(_rising)
