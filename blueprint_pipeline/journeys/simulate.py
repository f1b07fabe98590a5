"""Dry runs: a journey replayed over the data at hand, the as-of time moving through a period,
with nothing written and nothing sent (`blueprint journey simulate`). The engine is the one the
journeys asset runs; only its results stay in memory. Where `buying_group_snapshots` holds a day,
groups have that day's stage, score and completeness; otherwise today's."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pandas as pd

from blueprint_pipeline.config import LoadedConfig
from blueprint_pipeline.config.journeys import Listen, SplitAccounts, SplitPeople, VariantSplit
from blueprint_pipeline.config.origin import config_origin
from blueprint_pipeline.core.errors import BlueprintError
from blueprint_pipeline.journeys.engine import JourneyRun, Settings
from blueprint_pipeline.journeys.world import World, interest_facts, load_world
from blueprint_pipeline.warehouse import Session


@dataclass
class Simulation:
    journey: str
    start: datetime
    end: datetime
    runs: int = 0
    entered: int = 0
    paths: Counter = field(default_factory=Counter)  # (node, outcome) -> accounts
    ended: Counter = field(default_factory=Counter)  # end reason -> accounts
    messages: Counter = field(default_factory=Counter)  # channel -> queued
    held: Counter = field(default_factory=Counter)  # reason -> messages held back
    per_person: Counter = field(default_factory=Counter)  # person -> messages queued
    still_active: int = 0
    snapshot_days: int = 0
    hint: str = ""

    def render(self) -> str:
        people = self.per_person
        lines = [
            f"journey {self.journey}: dry run {self.start:%Y-%m-%d %H:%M} .. {self.end:%Y-%m-%d %H:%M} "
            f"({self.runs} runs; groups as of {self.snapshot_days} snapshot day(s), else today); "
            "nothing sent",
            f"  entered: {self.entered:,} accounts; still in the journey at the end: {self.still_active:,}",
            "  paths:",
            *(f"    {node}: {outcome} {n:,}" for (node, outcome), n in sorted(self.paths.items())),
            "  left the journey: "
            + (", ".join(f"{r} {n:,}" for r, n in sorted(self.ended.items())) or "nobody"),
            "  messages queued: "
            + (", ".join(f"{c} {n:,}" for c, n in sorted(self.messages.items())) or "none"),
            f"  per person: {len(people):,} persons, at most {max(people.values(), default=0)}, "
            f"{sum(people.values()) / max(len(people), 1):.1f} on average",
            "  held back: " + (", ".join(f"{r} {n:,}" for r, n in sorted(self.held.items())) or "none"),
            *([f"  note: {self.hint}"] if self.hint else []),
        ]
        return "\n".join(lines)


SPLITS = (SplitAccounts, SplitPeople, VariantSplit, Listen)
QUIET = ("listening", "split people", "exited")  # steps at a split that are not a path taken


def simulate(
    session: Session,
    loaded: LoadedConfig,
    journey_id: str,
    start: datetime,
    end: datetime,
    every: timedelta = timedelta(days=1),
) -> Simulation:
    config = loaded.config
    journey = config.journeys.journeys.get(journey_id)
    if journey is None:
        known = ", ".join(sorted(config.journeys.journeys)) or "none"
        raise BlueprintError(
            f"no journey {journey_id!r} in {config_origin(loaded)}; its journeys: {known}. "
            "Pass --config DIR to read another config directory (make demo uses examples/config)"
        )
    if end < start:
        raise BlueprintError("--to is before --from")
    alone = config.journeys.model_copy(
        update={"journeys": {journey_id: journey.model_copy(update={"status": "live"})}}
    )
    lookback = 31 + (end - start).days
    world = load_world(session, alone, end, lookback)
    snapshots = _snapshots(session, start, end)
    interests = interest_facts(config)
    settings = Settings(**config.journeys.delivery.model_dump())
    result = Simulation(journey_id, start, end, snapshot_days=len(snapshots))
    enrolments: dict[str, dict] = {}
    runs = {journey_id: {"live_since": start, "last_run_at": None}}
    at = start
    while at <= end:
        world.as_of = at
        _apply_snapshot(world, snapshots.get(at.date()))
        run = JourneyRun(
            world, alone, interests, config.stages.models, settings, list(enrolments.values()), runs, {}, {}
        )
        out = run.run()
        enrolments.update(out.enrolments)
        runs = {journey_id: {**out.runs[journey_id]}}
        _tally(result, out, journey)
        result.runs += 1
        at += every
    entry = journey.entry
    if result.entered == 0 and (
        entry.buying_group_stage or entry.buying_group_created or entry.account_attribute_change
    ):
        result.hint = (
            "this journey enters on events (a stage reached, a group created, an attribute change); "
            "none happened in the period: simulate a period that holds some (the stage history's dates)"
        )
    result.still_active = sum(1 for e in enrolments.values() if e["status"] == "active")
    result.ended = Counter(e["end_reason"] for e in enrolments.values() if e["status"] != "active")
    return result


def _tally(result: Simulation, out, journey) -> None:
    for step in out.steps:
        if step["outcome"] == "entered":
            result.entered += 1
        elif isinstance(journey.nodes[step["node"]], SPLITS) and step["outcome"] not in QUIET:
            result.paths[(step["node"], step["outcome"])] += 1
    for message in out.outbox:
        if message["status"] == "held":
            result.held[message["hold_reason"]] += 1
        else:
            result.messages[message["channel"]] += 1
            if message["person_id"]:
                result.per_person[message["person_id"]] += 1


def _snapshots(session: Session, start: datetime, end: datetime) -> dict:
    if not session.table_exists("buying_group_snapshots"):
        return {}
    frame = session.fetch_df(
        "select snapshot_date, buying_group_id, stage, score, completeness_score from buying_group_snapshots "
        "where snapshot_date between $start and $end",
        {"start": start.date(), "end": end.date()},
    )
    return {pd.Timestamp(d).date(): rows for d, rows in frame.groupby("snapshot_date")}


def _apply_snapshot(world: World, rows: pd.DataFrame | None) -> None:
    if rows is None:
        return
    by_id = {g["id"]: g for g in world.groups.values()}
    for r in rows.itertuples(index=False):
        group = by_id.get(r.buying_group_id)
        if group is not None:
            group.update(
                stage=r.stage if isinstance(r.stage, str) else None,
                score=float(r.score or 0),
                completeness=float(r.completeness_score or 0),
            )
