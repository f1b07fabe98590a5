"""Which standing alert rules fire this build (config `alerts.rules`), from the groups' state now,
the stage moves since the last build and each rule's memory of what it already said.

A rule's memory (`sales_alert_state`): per rule and group, `armed` (a score threshold may fire)
and `fired` (a milestone has fired); per stage-transition rule, the last stage move it has seen.
A new rule starts quiet: what is already true the first time it is evaluated is remembered, not
alerted, so adding a rule does not flood sales with the past; so does a rule whose definition
changed (its memory belonged to the old definition). New groups start quiet too (a new account in
the audience, every group of a new solution interest): a group's first evaluation by a rule arms
it without firing, unless the rule says `alert_new_groups: true`."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import pandas as pd

from blueprint_pipeline.config.alerts import AlertsConfig, MilestoneRule, ScoreThresholdRule

WATERMARK = "*"  # the state row of a stage-transition rule that remembers the last move seen


@dataclass
class Fired:
    rule: str
    buying_group_id: str
    reason: str


@dataclass
class Evaluation:
    fired: list[Fired] = field(default_factory=list)
    state: dict[tuple[str, str], dict] = field(default_factory=dict)  # (rule, group) -> armed, fired, seq
    quiet: dict[str, str] = field(
        default_factory=dict
    )  # rule -> what it remembered, not alerted (new rule, new groups)


def definition(rule) -> str:
    """A rule's definition as a short hash: a rule whose definition changed starts quiet again.
    Whether new groups alert is not part of what the rule watches: switching it keeps the memory."""
    return hashlib.sha256(rule.model_dump_json(exclude={"alert_new_groups"}).encode()).hexdigest()[:12]


def _milestone(rule: MilestoneRule, config: AlertsConfig, group) -> str | None:
    if rule.milestone == "qualified" and group.stage in config.milestones.qualified_stages:
        return f"qualified: reached {group.stage}"
    if rule.milestone == "complete" and group.is_complete:
        return f"complete: completeness score {group.completeness:.0%}, at its threshold or over"
    if rule.milestone == "highly_engaged" and group.score >= config.milestones.highly_engaged_score:
        return f"highly engaged: group score {group.score:.1f} >= {config.milestones.highly_engaged_score:g}"
    return None


def evaluate(config: AlertsConfig, groups: pd.DataFrame, moves: pd.DataFrame, state: dict) -> Evaluation:
    """`groups`: buying_group_id, solution_interest, stage, score, is_complete, completeness;
    `moves`: change_seq, buying_group_id, solution_interest, from_stage, to_stage (every move);
    `state`: the memory as `Evaluation.state` left it."""
    out = Evaluation()
    # Read row by row below, once per rule: plain Python objects iterate several times faster than
    # the warehouse's Arrow-backed columns (the same values, nulls included).
    groups = groups.astype(object)
    for name, rule in sorted(config.rules.items()):
        current = definition(rule)
        mine = {k: dict(v) for k, v in state.items() if k[0] == name and v.get("definition") == current}
        new_rule = not mine  # never run, or its definition changed: start quiet
        out.state.update(mine)
        wanted = (
            groups
            if not rule.solution_interests
            else groups[groups["solution_interest"].isin(rule.solution_interests)]
        )
        if rule.type == "stage_transition":
            seen = out.state.get((name, WATERMARK), {}).get("seq", 0)
            last = int(moves["change_seq"].max()) if len(moves) else 0
            if not new_rule:
                chosen = moves[(moves["change_seq"] > seen) & (moves["to_stage"] == rule.to_stage)]
                if rule.from_stages:
                    chosen = chosen[chosen["from_stage"].isin(rule.from_stages)]
                if rule.solution_interests:
                    chosen = chosen[chosen["solution_interest"].isin(rule.solution_interests)]
                if not rule.alert_new_groups:
                    # a group whose first move came after the rule last looked is new: its moves
                    # so far are how it started, not news
                    first = moves.groupby("buying_group_id")["change_seq"].min()
                    new = set(first[first > seen].index)
                    started = chosen["buying_group_id"].isin(new)
                    if started.any():
                        out.quiet[name] = f"new groups: {started.sum():,} stage moves, not alerted"
                    chosen = chosen[~started]
                for move in chosen.sort_values("change_seq").itertuples(index=False):
                    source = move.from_stage if isinstance(move.from_stage, str) else "no stage"
                    out.fired.append(Fired(name, move.buying_group_id, f"moved {source} -> {move.to_stage}"))
            out.state[(name, WATERMARK)] = {
                "armed": True,
                "fired": False,
                "seq": max(seen, last),
                "definition": current,
            }
            if new_rule:
                out.quiet[name] = f"{len(moves):,} stage moves so far seen, not alerted"
            continue
        held = 0  # new groups already true, remembered
        for group in wanted.itertuples(index=False):
            key = (name, group.buying_group_id)
            new_group = key not in out.state
            memory = out.state.get(key, {"armed": True, "fired": False, "seq": 0, "definition": current})
            quiet = new_rule or (new_group and not rule.alert_new_groups)
            if isinstance(rule, ScoreThresholdRule):
                if memory["armed"] and group.score >= rule.above:
                    memory["armed"] = False
                    held += quiet and not new_rule
                    if not quiet:
                        reason = f"group score {group.score:.1f} reached {rule.above:g}"
                        out.fired.append(Fired(name, group.buying_group_id, reason))
                elif not memory["armed"] and group.score < rule.rearm_below:
                    memory["armed"] = True  # fell back below the band: the next rise alerts again
            elif not memory["fired"]:
                reason = _milestone(rule, config, group)
                if reason:
                    memory["fired"] = True
                    held += quiet and not new_rule
                    if not quiet:
                        out.fired.append(Fired(name, group.buying_group_id, reason))
            out.state[key] = memory
        if new_rule:
            true = sum(1 for (n, _), m in out.state.items() if n == name and (not m["armed"] or m["fired"]))
            out.quiet[name] = f"{true:,} groups already true, remembered, not alerted"
        elif held:
            out.quiet[name] = f"new groups: {held:,} already true, remembered, not alerted"
    return out
