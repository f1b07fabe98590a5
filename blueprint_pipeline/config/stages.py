"""Config section `stages`: the stage models buying groups move through (docs/scoring.md#stages).

A model lists its stages (entry stages, exactly one success stage, optional failure stages) and
the transitions it allows. A transition with a `rule` is taken by the build when the rule holds;
one without is taken only when a person (the stage changes file) or a journey asks. Nothing moves
a group along a transition the model does not list.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from blueprint_pipeline.config.base import StrictModel, checked_names


class Stage(StrictModel):
    name: str = Field(min_length=1, max_length=80)
    type: Literal["entry", "open", "success", "failure"] = Field(
        default="open",
        description="entry: a new group may start here (the first entry stage is where the build "
        "starts them); success: the one goal stage; failure: a stage a group fails into",
    )


class Rule(StrictModel):
    """All conditions given must hold. The guide's two threshold approaches: `score_at_least`
    alone (score only), or with `completeness_at_least` (completeness and score together)."""

    score_at_least: float | None = Field(default=None, ge=0, description="the group's engagement score")
    completeness_at_least: float | None = Field(
        default=None, description="the group's completeness_score, a fraction: 0.8 for 80%"
    )
    score_below: float | None = Field(default=None, gt=0, description="for falling back or failing")
    days_in_stage_at_least: int | None = Field(default=None, ge=0, description="time spent in the from stage")

    @field_validator("completeness_at_least")
    @classmethod
    def _fraction(cls, value: float | None) -> float | None:
        if value is not None and not 0 <= value <= 1:
            raise ValueError(f"completeness is a fraction from 0 to 1 (0.8 for 80%), not {value:g}")
        return value

    @model_validator(mode="after")
    def _something(self) -> Rule:
        if all(v is None for v in self.model_dump().values()):
            raise ValueError("a rule needs at least one condition (or leave `rule` out for a manual step)")
        low, high = self.score_at_least, self.score_below
        if low is not None and high is not None and high <= low:
            raise ValueError("score_below must be above score_at_least, or the rule never holds")
        return self

    def describe(self) -> str:
        parts = {
            "score_at_least": "score >= {:g}",
            "completeness_at_least": "completeness >= {:g}",
            "score_below": "score < {:g}",
            "days_in_stage_at_least": "days in stage >= {}",
        }
        return " and ".join(text.format(getattr(self, key)) for key, text in parts.items()
                            if getattr(self, key) is not None)  # fmt: skip


class Transition(StrictModel):
    from_: list[str] = Field(alias="from", description="one stage or a list")
    to: str
    rule: Rule | None = Field(default=None, description="no rule: only a person or a journey moves it")

    @field_validator("from_", mode="before")
    @classmethod
    def _listed(cls, value: object) -> object:
        return [value] if isinstance(value, str) else value


class StageModel(StrictModel):
    description: str = ""
    stages: list[Stage] = Field(min_length=2)
    transitions: list[Transition] = Field(
        min_length=1, description="rules are tried in this order; the first that holds moves the group"
    )

    @model_validator(mode="after")
    def _valid(self) -> StageModel:
        names = [s.name for s in self.stages]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ValueError(f"stages {repeated} appear more than once")
        success = [s.name for s in self.stages if s.type == "success"]
        if len(success) != 1:
            raise ValueError(f"exactly one stage must have type success (found {success or 'none'})")
        if not self.entry_stages:
            raise ValueError("at least one stage must have type entry")
        for i, transition in enumerate(self.transitions):
            unknown = sorted({*transition.from_, transition.to} - set(names))
            if unknown:
                raise ValueError(f"transitions.{i} names unknown stages {unknown}; stages are {names}")
            if transition.to in transition.from_:
                raise ValueError(f"transitions.{i} goes from {transition.to!r} to itself")
        pairs = [(f, t.to) for t in self.transitions for f in t.from_]
        doubled = sorted({p for p in pairs if pairs.count(p) > 1 and not self._all_ruled(p)})
        if doubled:
            raise ValueError(
                f"transitions {doubled} are listed twice, once without a rule; list a manual step once"
            )
        unreachable = sorted(set(names) - self._reachable())
        if unreachable:
            raise ValueError(
                f"stages {unreachable} cannot be reached from an entry stage by the transitions given"
            )
        return self

    def _all_ruled(self, pair: tuple[str, str]) -> bool:
        return all(t.rule is not None for t in self.transitions if pair[0] in t.from_ and t.to == pair[1])

    def _reachable(self) -> set[str]:
        seen, todo = set(self.entry_stages), list(self.entry_stages)
        while todo:
            stage = todo.pop()
            for transition in self.transitions:
                if stage in transition.from_ and transition.to not in seen:
                    seen.add(transition.to)
                    todo.append(transition.to)
        return seen

    @property
    def entry_stages(self) -> list[str]:
        return [s.name for s in self.stages if s.type == "entry"]

    @property
    def stage_types(self) -> dict[str, str]:
        return {s.name: s.type for s in self.stages}

    def allowed(self) -> set[tuple[str, str]]:
        return {(f, t.to) for t in self.transitions for f in t.from_}

    def refusal(self, from_stage: str | None, to_stage: str) -> str | None:
        """Why the model refuses to move a group from `from_stage` (None: a group without a stage)
        to `to_stage`, or None when it allows it. The one gate every mover goes through."""
        if to_stage not in self.stage_types:
            return f"{to_stage!r} is not a stage of this model ({', '.join(self.stage_types)})"
        if from_stage is None or from_stage not in self.stage_types:  # no stage, or one since removed
            if to_stage in self.entry_stages:
                return None
            return f"a new group can only start in an entry stage ({', '.join(self.entry_stages)})"
        if from_stage == to_stage:
            return f"the group is already in {to_stage!r}"
        if (from_stage, to_stage) not in self.allowed():
            return f"the model does not allow {from_stage!r} -> {to_stage!r}"
        return None


class StagesConfig(StrictModel):
    models: dict[str, StageModel] = Field(default_factory=dict)
    changes_file: str = Field(
        default="stage_changes.csv",
        description="CSV in the config directory: stage changes people ask for, applied on the next build",
    )

    _model_names = field_validator("models")(checked_names("stage model"))
