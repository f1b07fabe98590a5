"""Config section `scoring`: which source activities count, as which kind (docs/scoring.md)."""

from __future__ import annotations

from pydantic import Field, field_validator

from blueprint_pipeline.config.base import NAME, StrictModel


def _kind_names(mapping: dict[str, str | None]) -> dict[str, str | None]:
    bad = sorted({k for k in mapping.values() if k is not None and not NAME.fullmatch(k)})
    if bad:
        raise ValueError(f"kinds {bad} are not snake_case names (a-z, 0-9, _; a letter first)")
    return {str(source).strip().lower(): kind for source, kind in mapping.items()}


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
    linkedin_form_response: str | None = Field(
        default="form_fill", description="kind of a LinkedIn form response"
    )

    _kinds = field_validator(
        "marketo_activity_types", "marketo_program_statuses", "crm_campaign_member_statuses"
    )(_kind_names)

    @field_validator("linkedin_form_response")
    @classmethod
    def _linkedin_kind(cls, value: str | None) -> str | None:
        if value is not None and not NAME.fullmatch(value):
            raise ValueError(f"kind {value!r} is not a snake_case name")
        return value


class ScoringConfig(StrictModel):
    activity_kinds: ActivityKinds = Field(default_factory=ActivityKinds)
