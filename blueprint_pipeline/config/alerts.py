"""Config section `alerts`: standing sales-alert rules and how alerts are routed (docs/alerts.md).

The guide's three trigger strategies are rule types: `milestone` (a buying group becomes
qualified, complete or highly engaged: once per group), `score_threshold` (the score reaches
`above`; with hysteresis: it alerts again only after falling below `rearm_below`) and
`stage_transition` (every move to a stage). Journeys send the same alerts with their
`send_sales_alert` node.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from blueprint_pipeline.config.audiences import Filter
from blueprint_pipeline.config.base import StrictModel, checked_names

EMAIL = re.compile(r"[^@\s,;<>:]+@[^@\s,;<>:]+")


def email_address(value: str) -> str:
    """One plain email address (name@example.com), or a clear error."""
    if not EMAIL.fullmatch(value.strip()):
        raise ValueError(f"{value!r} is not one email address (name@example.com)")
    return value.strip()


class _Rule(StrictModel):
    solution_interests: list[str] = Field(default_factory=list, description="empty: every solution interest")
    description: str = ""
    alert_new_groups: bool = Field(
        default=False,
        description="a group the rule has not seen before (a new account, a new solution interest) "
        "alerts on its first evaluation if already true; false: its state is remembered, not alerted",
    )


class MilestoneRule(_Rule):
    type: Literal["milestone"]
    milestone: Literal["qualified", "complete", "highly_engaged"]


class ScoreThresholdRule(_Rule):
    type: Literal["score_threshold"]
    above: float = Field(gt=0, description="alert when the group's score reaches this")
    rearm_below: float = Field(ge=0, description="alert again only after the score fell below this")

    @model_validator(mode="after")
    def _band(self) -> ScoreThresholdRule:
        if self.rearm_below >= self.above:
            raise ValueError(
                f"rearm_below ({self.rearm_below:g}) must be below above ({self.above:g}): the gap is "
                "what keeps a score hovering at the threshold from alerting again and again"
            )
        return self


class StageTransitionRule(_Rule):
    type: Literal["stage_transition"]
    to_stage: str
    from_stages: list[str] = Field(default_factory=list, description="empty: from any stage")


Rule = Annotated[MilestoneRule | ScoreThresholdRule | StageTransitionRule, Field(discriminator="type")]


class Milestones(StrictModel):
    qualified_stages: list[str] = Field(
        default_factory=lambda: ["Marketing Qualified", "Sales Ready"],
        description="a group in one of these stages is qualified",
    )
    highly_engaged_score: float = Field(
        default=20, gt=0, description="a group at this score is highly engaged"
    )


class Territory(StrictModel):
    """Accounts matching `when` (an audience filter tree over account fields) go to `to`."""

    name: str = Field(min_length=1)
    when: Filter
    to: str

    _to = field_validator("to")(lambda value: email_address(value))


class Routing(StrictModel):
    """Each alert goes to the first of `order` that gives an address: the account owner (the
    CRM user's email, if active), the first matching territory, the solution interest's address;
    else `default_to`."""

    order: list[Literal["owner", "territory", "solution_interest"]] = Field(
        default_factory=lambda: ["owner", "territory", "solution_interest"]
    )
    territories: list[Territory] = Field(default_factory=list)
    solution_interests: dict[str, str] = Field(
        default_factory=dict, description="solution interest -> address"
    )
    default_to: str = "sales@localhost"

    _default = field_validator("default_to")(lambda value: email_address(value))

    @field_validator("solution_interests")
    @classmethod
    def _addresses(cls, value: dict[str, str]) -> dict[str, str]:
        return {interest: email_address(address) for interest, address in value.items()}

    @field_validator("territories")
    @classmethod
    def _unique(cls, value: list[Territory]) -> list[Territory]:
        names = [t.name for t in value]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ValueError(f"territory names {repeated} appear more than once")
        return value


class AlertsConfig(StrictModel):
    rules: dict[str, Rule] = Field(
        default_factory=dict,
        description="your rules are merged over the shipped ones; `name: null` removes one",
    )
    milestones: Milestones = Field(default_factory=Milestones)
    routing: Routing = Field(default_factory=Routing)
    top_members: int = Field(default=3, ge=1, le=20, description="most engaged members an alert lists")
    top_activities: int = Field(default=10, ge=1, le=100, description="activities behind the score it lists")

    _rule_names = field_validator("rules")(checked_names("alert rule"))
