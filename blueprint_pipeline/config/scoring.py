"""Config section `scoring`: which source activities count, as which kind (docs/scoring.md)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from blueprint_pipeline.config.base import NAME, StrictModel

# The kind of the points journeys add (person_score_adjustments): an activity kind of this name
# would share its rows in person_engagement_contributions, one per person, kind and day.
ADJUSTMENT_KIND = "journey_adjustment"


def _kind_name(kind: str) -> str:
    if not NAME.fullmatch(kind):
        raise ValueError(f"kind {kind!r} is not a snake_case name (a-z, 0-9, _; a letter first)")
    if kind == ADJUSTMENT_KIND:
        raise ValueError(f"kind {kind!r} is the points journeys add; name the activity kind otherwise")
    return kind


def _kind_names(mapping: dict[str, str | None]) -> dict[str, str | None]:
    bad = sorted({k for k in mapping.values() if k is not None and not NAME.fullmatch(k)})
    if bad:
        raise ValueError(f"kinds {bad} are not snake_case names (a-z, 0-9, _; a letter first)")
    for kind in {k for k in mapping.values() if k is not None}:
        _kind_name(kind)
    return {str(source).strip().lower(): kind for source, kind in mapping.items()}


def _amounts_by_kind(what: str, value: dict[str, float]) -> dict[str, float]:
    """Points or weights per kind: the keys are kind names, the amounts not negative."""
    _kind_names({kind: kind for kind in value})  # checks that the keys are kind names
    bad = sorted(k for k, v in value.items() if v < 0)
    if bad:
        raise ValueError(f"{what} of {bad} are negative")
    return value


class ActivityKinds(StrictModel):
    """Source activity -> the kind users score; a source activity not listed is not scored, and
    `null` turns a shipped mapping off. Matching ignores case and surrounding spaces."""

    marketo_activity_types: dict[str, str | None] = Field(
        default_factory=dict, description="Marketo activity type name or id -> kind"
    )
    marketo_program_statuses: dict[str, str | None] = Field(
        default_factory=dict,
        description="new status of a Marketo program status change (activity 104) -> kind",
    )
    crm_campaign_member_statuses: dict[str, str | None] = Field(
        default_factory=dict, description="CRM CampaignMember.Status -> kind"
    )
    # None by default: the shipped scoring.yaml names form_fill, and `linkedin_form_response: null`
    # in a user's file (the key removed) means a form response is no activity kind.
    linkedin_form_response: str | None = Field(
        default=None, description="kind of a LinkedIn form response (null: not counted)"
    )
    tracking_events: dict[str, str | None] = Field(
        default_factory=dict, description="journey email event (open, click, unsubscribe, bounce) -> kind"
    )

    _kinds = field_validator(
        "marketo_activity_types",
        "marketo_program_statuses",
        "crm_campaign_member_statuses",
        "tracking_events",
    )(_kind_names)

    @field_validator("linkedin_form_response")
    @classmethod
    def _linkedin_kind(cls, value: str | None) -> str | None:
        return None if value is None else _kind_name(value)


MAX_HALVINGS = 1000  # 0.5^1000 ~ 9e-302, above the smallest normal double (2.2e-308)


class Decay(StrictModel):
    """Exactly one: `half_life_days` (an activity's points halve every so many days) or
    `window_days` (full points inside the window, none outside)."""

    # At least an hour: a day's activities are summed decayed to its midnight (person_activity_days),
    # each term up to 2^(1 / half-life), which overflows a double below ~85 seconds.
    half_life_days: float | None = Field(default=None, ge=1 / 24)
    window_days: int | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _one(self) -> Decay:
        if (self.half_life_days is None) == (self.window_days is None):
            raise ValueError("give exactly one of half_life_days or window_days (set the other to null)")
        return self


class ExplainableModel(StrictModel):
    """Points per kind, decayed by age, at most `daily_cap` activities of a kind per person and day."""

    points: dict[str, float] = Field(
        default={
            "email_open": 1,
            "email_click": 3,
            "page_view": 1,
            "link_click": 2,
            "form_fill": 10,
            "interesting_moment": 5,
            "event_registration": 8,
            "event_attendance": 15,
        },
        description="kind -> points; a kind not listed scores nothing",
    )
    decay: Decay = Field(default_factory=lambda: Decay(half_life_days=30))
    daily_cap: dict[str, int] = Field(
        default={"default": 5}, description="kind (or `default`) -> activities counted per person and day"
    )
    lookback_days: int = Field(default=365, gt=0, description="older activities are not scored at all")
    group_aggregation: Literal["sum", "role_weighted_average", "min_per_role"] = Field(
        default="role_weighted_average",
        description="sum of member scores; average weighted by role weight; or the weakest role's score "
        "(the sum of its members', over the template's required roles, all roles if none is required)",
    )

    _points = field_validator("points")(lambda value: _amounts_by_kind("points", value))

    @field_validator("daily_cap")
    @classmethod
    def _caps(cls, value: dict[str, int]) -> dict[str, int]:
        bad = sorted(k for k, v in value.items() if v < 1)
        if bad:
            raise ValueError(f"daily caps of {bad} are below 1")
        return value

    @model_validator(mode="after")
    def _decay_fits_a_double(self) -> ExplainableModel:
        # The oldest points scored decay by 0.5^(lookback / half-life): past 2^-1000 a double
        # underflows, which PostgreSQL reports as an error (DuckDB gives 0).
        half_life = self.decay.half_life_days
        halvings = self.lookback_days / half_life if half_life else 0
        if halvings > MAX_HALVINGS:
            raise ValueError(
                f"a half-life of {half_life:g} days halves points {halvings:,.0f} times "
                f"over the {self.lookback_days}-day lookback; at most {MAX_HALVINGS} (points past that are "
                f"worth less than 2^-{MAX_HALVINGS}, below what a warehouse's numbers hold): raise "
                f"half_life_days to at least {self.lookback_days / MAX_HALVINGS:g} or shorten lookback_days"
            )
        return self

    def cap_for(self, kind: str) -> int | None:
        return self.daily_cap.get(kind, self.daily_cap.get("default"))


class SuiteCompatibleModel(StrictModel):
    """The suites' numbers, for teams migrating: weighted activities in a window, each member's
    count of a kind capped per day, square root, rescaled 0-100 across persons; groups from member
    scores times normalised role weights, square root, rescaled 0-100 across groups."""

    weights: dict[str, float] = Field(
        default={
            "event_attendance": 60,
            "event_registration": 60,
            "interesting_moment": 60,
            "form_fill": 40,
            "link_click": 40,
            "page_view": 40,
            "email_click": 30,
            "email_open": 30,
        }
    )
    window_days: int = Field(default=30, gt=0)
    daily_cap: int = Field(default=20, ge=1)

    _weights = field_validator("weights")(lambda value: _amounts_by_kind("weights", value))


class ScoringConfig(StrictModel):
    model: Literal["explainable", "suite_compatible"] = Field(
        default="explainable", description="which model gives buying_group_engagement.score (both are kept)"
    )
    activity_kinds: ActivityKinds = Field(default_factory=ActivityKinds)
    explainable: ExplainableModel = Field(default_factory=ExplainableModel)
    suite_compatible: SuiteCompatibleModel = Field(default_factory=SuiteCompatibleModel)
