"""Moving buying groups through their stage model (config `stages`, docs/scoring.md#stage-models).

Every move goes through `StageModel.refusal`, whoever asks: the build (a new group enters the
first entry stage), a rule, a person (the stage changes file) or a journey (its engine asks when
the node runs). A move the model does not allow is refused and recorded with its reason, never
applied.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pandas as pd

from blueprint_pipeline.config.buying_groups import BuyingGroupsConfig
from blueprint_pipeline.config.files import check_dates, read_user_csv
from blueprint_pipeline.config.stages import Rule, StageModel, StagesConfig
from blueprint_pipeline.core.errors import ConfigError
from blueprint_pipeline.warehouse.effects import not_applied

# A journey's stage moves and refusals go to the journeys' own effect tables (the journeys run after
# the stages, so an edge back would be a cycle); the stage asset appends them to its history and
# refusals at its next run, each once, by the journey step's key (docs/architecture.md, the journey
# feedback loop). Until then, the journeys read the history and the moves not yet in it together.
HISTORY, REFUSALS = "buying_group_stage_history", "buying_group_stage_refusals"
JOURNEY_MOVES, JOURNEY_REFUSALS = "journey_stage_moves", "journey_stage_refusals"
MOVES_NOT_APPLIED = not_applied(JOURNEY_MOVES, HISTORY)

CHANGE_COLUMNS = ["account_id", "solution_interest", "to_stage", "requested_by", "requested_at", "note"]
MOVE_COLUMNS = [
    "buying_group_id", "from_stage", "to_stage", "actor", "actor_name", "reason", "request_key", "changed_at",
]  # fmt: skip
REFUSAL_COLUMNS = [
    "account_id", "solution_interest", "buying_group_id", "from_stage", "to_stage", "actor", "actor_name",
    "reason", "request_key", "row_in_file", "refused_at",
]  # fmt: skip


def read_stage_changes(path: Path | None, stages: StagesConfig, groups: BuyingGroupsConfig) -> pd.DataFrame:
    """The stage changes people asked for, each with a `request_key` (a hash of the line) so a line
    is applied, or refused, once. Unknown solution interests and stages are errors naming the row."""
    if path is None or not path.exists():
        return pd.DataFrame(columns=[*CHANGE_COLUMNS, "row_in_file", "request_key"])
    frame = read_user_csv(path, CHANGE_COLUMNS, [c for c in CHANGE_COLUMNS if c != "note"])
    check_dates(path, frame, "requested_at")
    for row in frame.itertuples(index=False):
        interest = groups.solution_interests.get(row.solution_interest)
        if interest is None:
            raise ConfigError(
                f"{path} row {row.row_in_file}: field solution_interest is {row.solution_interest!r}; "
                f"expected one of {sorted(groups.solution_interests)}"
            )
        model = stages.models.get(interest.stage_model)
        if model is not None and row.to_stage not in model.stage_types:
            raise ConfigError(
                f"{path} row {row.row_in_file}: field to_stage is {row.to_stage!r}; stages of model "
                f"{interest.stage_model!r} are {list(model.stage_types)}"
            )
    keys = frame[CHANGE_COLUMNS].astype(str).agg("\x1f".join, axis=1)
    frame["request_key"] = [hashlib.sha256(k.encode()).hexdigest()[:16] for k in keys]
    return frame


def holds(rule: Rule, score: float, completeness: float, days_in_stage: float) -> bool:
    return (
        (rule.score_at_least is None or score >= rule.score_at_least)
        and (rule.completeness_at_least is None or completeness >= rule.completeness_at_least)
        and (rule.score_below is None or score < rule.score_below)
        and (rule.days_in_stage_at_least is None or days_in_stage >= rule.days_in_stage_at_least)
    )


@dataclass
class Moves:
    moves: list[dict] = field(default_factory=list)
    refusals: list[dict] = field(default_factory=list)

    def frames(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        return (
            pd.DataFrame(self.moves, columns=MOVE_COLUMNS),
            pd.DataFrame(self.refusals, columns=REFUSAL_COLUMNS),
        )


def move_groups(
    groups: pd.DataFrame,
    current: pd.DataFrame,
    changes: pd.DataFrame,
    models: dict[str, StageModel],
    as_of: datetime,
) -> Moves:
    """One build's moves.

    `groups`: buying_group_id, account_id, solution_interest, stage_model, score, completeness.
    `current`: buying_group_id, stage, entered_at (the last history entry per group).
    `changes`: the not-yet-seen lines of the stage changes file.
    For each group, in order: a new group (or one whose stage its model no longer has) enters the
    first entry stage; people's changes apply in file order; then rules, stage after stage."""
    out = Moves()
    # By columns: DataFrame.to_dict("index") took 0.9 s for 77k groups.
    at = {
        group: {"stage": stage, "entered_at": entered}
        for group, stage, entered in zip(
            current["buying_group_id"].tolist(),
            current["stage"].tolist(),
            current["entered_at"].tolist(),
            strict=True,
        )
    }
    by_group: dict[tuple[str, str], list] = {}
    for request in changes.itertuples(index=False):
        by_group.setdefault((request.account_id, request.solution_interest), []).append(request)
    for group in groups.itertuples(index=False):
        state = at.get(group.buying_group_id) or {"stage": None, "entered_at": None}
        requests = by_group.pop((group.account_id, group.solution_interest), [])
        _move_one(group, models[group.stage_model], state["stage"], state["entered_at"], requests, as_of, out)
    for rows in by_group.values():  # lines naming an account x solution interest with no group
        for request in rows:
            reason = "no buying group for this account and solution interest"
            out.refusals.append(_refusal(request, None, None, reason, as_of))
    return out


def _move_one(group, model: StageModel, stage, entered, requests, as_of: datetime, out: Moves) -> None:
    def record(to: str, actor: str, name: str, reason: str, key: str = "") -> None:
        nonlocal stage, entered
        values = [group.buying_group_id, stage, to, actor, name, reason, key, as_of]
        out.moves.append(dict(zip(MOVE_COLUMNS, values, strict=True)))
        stage, entered = to, as_of

    if stage is None:
        record(model.entry_stages[0], "build", "", "new buying group")
    elif stage not in model.stage_types:
        reason = f"stage {stage!r} is not in model {group.stage_model!r} (config changed)"
        record(model.entry_stages[0], "build", "", reason)
    for request in requests:
        refusal = model.refusal(stage, request.to_stage)
        if refusal:
            out.refusals.append(_refusal(request, group.buying_group_id, stage, refusal, as_of))
        else:
            record(request.to_stage, "manual", request.requested_by, request.note, request.request_key)
    visited = {stage}
    score, completeness = float(group.score), float(group.completeness)
    while True:
        days = (as_of - entered).total_seconds() / 86400
        step = next(
            (
                t
                for t in model.transitions
                if t.rule
                and stage in t.from_
                and t.to not in visited
                and holds(t.rule, score, completeness, days)
            ),
            None,
        )
        if step is None:
            return
        record(step.to, "rule", "", step.rule.describe())
        visited.add(stage)


def _refusal(request, group_id: str | None, stage: str | None, reason: str, as_of: datetime) -> dict:
    values = [
        request.account_id, request.solution_interest, group_id, stage, request.to_stage, "manual",
        request.requested_by, reason, request.request_key, int(request.row_in_file), as_of,
    ]  # fmt: skip
    return dict(zip(REFUSAL_COLUMNS, values, strict=True))
