"""Config section `qualification`: the readiness model's choices (docs/qualification.md)."""

from __future__ import annotations

from pydantic import Field, model_validator

from blueprint_pipeline.config.base import StrictModel


class Tiers(StrictModel):
    """A group's readiness probability at or above `fast_track` is fast-track, at or above
    `nurture` nurture, below it long-term."""

    fast_track: float = Field(default=0.6, gt=0, lt=1)
    nurture: float = Field(default=0.3, gt=0, lt=1)

    @model_validator(mode="after")
    def _ordered(self) -> Tiers:
        if self.nurture >= self.fast_track:
            raise ValueError(f"nurture ({self.nurture}) must be below fast_track ({self.fast_track})")
        return self


class QualificationConfig(StrictModel):
    tiers: Tiers = Field(default_factory=Tiers)
    top_reasons: int = Field(default=3, ge=1, le=10, description="contributing features shown per group")
    min_examples: int = Field(
        default=40, ge=20, description="fewer labelled examples than this: no model is trained"
    )
    use_sales_feedback: bool = Field(
        default=True, description="sales' accept and reject decisions are labels beside won and lost"
    )
