"""`blueprint simulate-config DIR`: how stages and sales alerts would differ under another
scoring, stage or alert config, over a period, compared with the current config.

Each config runs in its own scratch DuckDB (under the work folder), never in the warehouse: the
tables the scoring models read are copied there once, then, for each as-of time of the period,
the scoring SQL models are built from that config's scoring tables (the same models the pipeline
runs), the stage model moves the groups and the alert rules fire, all in memory. Both sides start
from the same blank state at `--from` (every group new, every alert rule quiet on its first run),
so the difference is the configs' alone. Completeness is the day's snapshot where there is one,
else today's.
"""

from __future__ import annotations

import shutil
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd

from blueprint_pipeline.alerts.rules import evaluate
from blueprint_pipeline.buying_groups.stages import CHANGE_COLUMNS, move_groups
from blueprint_pipeline.config import LoadedConfig
from blueprint_pipeline.core.paths import SQL_PROJECT_DIR
from blueprint_pipeline.scoring.tables import config_tables
from blueprint_pipeline.sql_models.project import load_project
from blueprint_pipeline.sql_models.runner import build_model
from blueprint_pipeline.warehouse import Warehouse
from blueprint_pipeline.warehouse.base import quote
from blueprint_pipeline.warehouse.duckdb import DuckDBWarehouse

HISTORY = ("buying_group_snapshots", "buying_group_role_snapshots")  # incremental: not rebuilt here
CONFIG_TABLES = ("scoring_activity_kinds", "scoring_points", "scoring_settings", "scoring_suite_weights")


@dataclass
class Outcome:
    final_stage: dict[str, str] = field(default_factory=dict)
    moves: Counter = field(default_factory=Counter)  # (from, to) -> moves
    alerts: Counter = field(default_factory=Counter)  # rule -> alerts
    alerted: set = field(default_factory=set)  # (rule, group)


@dataclass
class Comparison:
    start: datetime
    end: datetime
    runs: int
    current: Outcome
    other: Outcome

    def render(self, other_name: str) -> str:
        a, b = self.current, self.other
        changed = sorted(g for g in a.final_stage if a.final_stage[g] != b.final_stage.get(g))
        lines = [
            f"simulated {self.start:%Y-%m-%d} .. {self.end:%Y-%m-%d} ({self.runs} runs): current config vs "
            f"{other_name}; nothing written to the warehouse",
            f"  groups ending in another stage: {len(changed):,} of {len(a.final_stage):,}",
            *(f"    {g}: {a.final_stage[g]} -> {b.final_stage.get(g)}" for g in changed[:10]),
            "  stage at the end (current / other):",
            *(
                f"    {stage}: {n:,} / {Counter(b.final_stage.values()).get(stage, 0):,}"
                for stage, n in sorted(Counter(a.final_stage.values()).items())
            ),
            *(
                f"    {stage}: 0 / {n:,}"
                for stage, n in sorted(Counter(b.final_stage.values()).items())
                if stage not in set(a.final_stage.values())
            ),
            "  moves (current / other):",
            *(
                f"    {f or '(new)'} -> {t}: {a.moves.get((f, t), 0):,} / {b.moves.get((f, t), 0):,}"
                for f, t in sorted(set(a.moves) | set(b.moves), key=lambda m: (m[0] or "", m[1]))
            ),
            "  alerts (current / other):",
            *(
                f"    {rule}: {a.alerts.get(rule, 0):,} / {b.alerts.get(rule, 0):,}"
                for rule in sorted(set(a.alerts) | set(b.alerts))
            ),
            f"  alerts only under the other config: {len(b.alerted - a.alerted):,}; "
            f"only under the current one: {len(a.alerted - b.alerted):,}",
        ]
        return "\n".join(lines)


def _copy_inputs(source: Warehouse, scratch: DuckDBWarehouse, tables: list[str]) -> None:
    """The tables the scoring models read, copied once into a scratch DuckDB."""
    if isinstance(source, DuckDBWarehouse):
        with scratch.transaction() as session:
            session.execute("attach $path as source (read_only)", {"path": str(Path(source.path).resolve())})
            for table in tables:
                session.execute(f"create or replace table {table} as select * from source.{table}")
            session.execute("detach source")
        return
    with source.session() as read, scratch.transaction() as write:
        for table in tables:  # the source's column types, so that empty tables keep them too
            columns = read.columns(table)
            body = ", ".join(f"{quote(name)} {_duckdb_type(kind)}" for name, kind in columns)
            write.execute(f"create or replace table {table} ({body})")
            frame = read.fetch_df(f"select * from {table}")
            if len(frame):
                write.insert_from_local_query(
                    table, list(frame.columns), "select * from f", frames={"f": frame}
                )


POSTGRES_TYPES = {
    "timestamp": "TIMESTAMP", "double": "DOUBLE", "numeric": "DOUBLE", "real": "DOUBLE", "bigint": "BIGINT",
    "integer": "BIGINT", "smallint": "BIGINT", "boolean": "BOOLEAN", "date": "DATE",
}  # fmt: skip


def _duckdb_type(postgres_type: str) -> str:
    kind = postgres_type.lower()
    return next((mapped for prefix, mapped in POSTGRES_TYPES.items() if kind.startswith(prefix)), "VARCHAR")


def compare(warehouse: Warehouse, current: LoadedConfig, other: LoadedConfig, start: datetime, end: datetime,
            every: timedelta, workdir: Path) -> Comparison:  # fmt: skip
    project = load_project(SQL_PROJECT_DIR)
    scoring = [m for m in project.in_order() if m.layer == "scoring" and m.name not in HISTORY]
    built = {m.name for m in scoring}
    inputs = sorted({r for m in scoring for r in m.refs if r not in built and r not in CONFIG_TABLES})
    with warehouse.session() as session:
        snapshots = (
            session.fetch_df(
                "select snapshot_date, buying_group_id, completeness_score from buying_group_snapshots "
                "where snapshot_date between $start and $end",
                {"start": start.date(), "end": end.date()},
            )
            if session.table_exists("buying_group_snapshots")
            else pd.DataFrame(columns=["snapshot_date", "buying_group_id", "completeness_score"])
        )
    completeness_on = {
        pd.Timestamp(d).date(): dict(zip(f["buying_group_id"], f["completeness_score"], strict=True))
        for d, f in snapshots.groupby("snapshot_date")
    }
    outcomes, runs = {}, 0
    for label, loaded in (("current", current), ("other", other)):
        folder = workdir / label
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        scratch = DuckDBWarehouse(path=str(folder / "scratch.duckdb"))
        _copy_inputs(warehouse, scratch, inputs)
        with scratch.transaction() as session:
            for name, frame in config_tables(loaded.config.scoring).items():
                session.replace_table(name, frame)
        outcomes[label], runs = _run(scratch, project, scoring, loaded, start, end, every, completeness_on)
    return Comparison(start, end, runs, outcomes["current"], outcomes["other"])


def _run(scratch, project, scoring, loaded, start, end, every, completeness_on) -> tuple[Outcome, int]:
    config = loaded.config
    model_of = {name: i.stage_model for name, i in config.buying_groups.solution_interests.items()}
    outcome = Outcome()
    current = pd.DataFrame(columns=["buying_group_id", "stage", "entered_at"])
    history, alert_state, seq, runs = [], {}, 0, 0
    no_changes = pd.DataFrame(columns=[*CHANGE_COLUMNS, "row_in_file", "request_key"])
    at = start
    while at <= end:
        for model in scoring:
            build_model(scratch, project, model, as_of=at, config_version=loaded.version)
        groups = scratch.fetch_df(
            "select g.buying_group_id, g.account_id, g.solution_interest, coalesce(g.completeness_score, 0) "
            "as completeness, coalesce(e.score, 0) as score, coalesce(g.is_complete, false) as is_complete "
            "from buying_groups as g "
            "left join buying_group_engagement as e on e.buying_group_id = g.buying_group_id "
            "order by g.buying_group_id"
        )
        day = completeness_on.get(at.date())
        if day:
            groups["completeness"] = groups["buying_group_id"].map(day).fillna(groups["completeness"])
        groups["stage_model"] = groups["solution_interest"].map(model_of)
        groups = groups[groups["stage_model"].isin(list(config.stages.models))]
        moves, _ = move_groups(groups, current, no_changes, config.stages.models, at).frames()
        for move in moves.itertuples(index=False):
            seq += 1
            from_stage = move.from_stage if isinstance(move.from_stage, str) else None
            history.append((seq, move.buying_group_id, from_stage, move.to_stage, at))
            outcome.moves[(from_stage, move.to_stage)] += 1
        last = {g: (to, when) for _, g, _, to, when in history}  # each group's last move wins
        current = pd.DataFrame(
            [(g, stage, when) for g, (stage, when) in last.items()],
            columns=["buying_group_id", "stage", "entered_at"],
        )
        groups["stage"] = groups["buying_group_id"].map({g: s for g, (s, _) in last.items()})
        interest = dict(zip(groups["buying_group_id"], groups["solution_interest"], strict=True))
        frame = pd.DataFrame(
            [h[:4] for h in history], columns=["change_seq", "buying_group_id", "from_stage", "to_stage"]
        )
        frame["solution_interest"] = frame["buying_group_id"].map(interest)
        result = evaluate(config.alerts, groups, frame, alert_state)
        alert_state = result.state
        for fired in result.fired:
            outcome.alerts[fired.rule] += 1
            outcome.alerted.add((fired.rule, fired.buying_group_id))
        runs += 1
        at += every
    outcome.final_stage = dict(zip(current["buying_group_id"], current["stage"], strict=True))
    return outcome, runs
