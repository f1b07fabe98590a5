"""Stage models, the stage history and snapshots, on DuckDB and PostgreSQL.

Model `funnel`: New (entry) -> Engaged by score >= 10 (score only); Engaged -> Won (success) by
score >= 20 and completeness >= 0.75 (completeness and score); Engaged -> Lost (failure) by
score < 2 after 14 days in stage; New / Won -> Lost and Lost -> New only when asked.

Worked answer, groups of solution interest data_platform on accounts A1, A2, A3:
Build 1, as of 2026-03-01 (A1 score 25, completeness 0.8; A2 25 / 0.5; A3 5 / 1.0):
  A1: new -> New (build); score 25 >= 10 -> Engaged; 25 >= 20 and 0.8 >= 0.75 -> Won. Three moves.
  A2: new -> New; -> Engaged; completeness 0.5 < 0.75 keeps it there (score alone would not).
  A3: new -> New; score 5 < 10 stays. Sam asks A3 -> Won (row 2): New -> Won is not a move the
  model allows: refused. Row 3 asks for account ZZ, which has no group: refused.
Build 2, as of 2026-03-20 (A1 25 / 0.8; A2 1.5 / 0.5; A3 12 / 1.0), row 4 added: Sam moves A1
  Won -> Lost ("went with a competitor"), allowed as a manual step. A2 has been Engaged 19 days
  (>= 14) with score 1.5 < 2 -> Lost (the failure stage). A3 12 >= 10 -> Engaged. Rows 2 and 3
  were answered in build 1 and are not asked again.
Build 3, the same as-of again: nothing moves; the 2026-03-20 snapshots are replaced, not doubled.
"""

from __future__ import annotations

import re
from datetime import datetime

import dagster as dg
import pandas as pd
import pytest

from blueprint_pipeline.buying_groups.stages import JOURNEY_MOVES, JOURNEY_REFUSALS, move_groups
from blueprint_pipeline.config.stages import StageModel
from blueprint_pipeline.core.errors import ConfigError
from blueprint_pipeline.core.paths import SQL_PROJECT_DIR
from blueprint_pipeline.core.run_facts import AS_OF_TAG
from blueprint_pipeline.defs.scoring.stages import buying_group_stages
from blueprint_pipeline.journeys.tables import append
from blueprint_pipeline.journeys.world import stage_moves
from blueprint_pipeline.resources import BlueprintConfigResource, load_config
from blueprint_pipeline.runtime.user_files import check_user_files
from blueprint_pipeline.sql_models.project import load_project
from blueprint_pipeline.sql_models.runner import build_model
from blueprint_pipeline.warehouse.stateful import create

FUNNEL = {
    "stages": [
        {"name": "New", "type": "entry"},
        {"name": "Engaged"},
        {"name": "Won", "type": "success"},
        {"name": "Lost", "type": "failure"},
    ],
    "transitions": [
        {"from": "New", "to": "Engaged", "rule": {"score_at_least": 10}},
        {"from": "Engaged", "to": "Won", "rule": {"score_at_least": 20, "completeness_at_least": 0.75}},
        {"from": "Engaged", "to": "Lost", "rule": {"score_below": 2, "days_in_stage_at_least": 14}},
        {"from": ["New", "Won"], "to": "Lost"},
        {"from": "Lost", "to": "New"},
    ],
}
STAGES_YAML = """
models:
  funnel:
    stages:
      - {name: New, type: entry}
      - {name: Engaged}
      - {name: Won, type: success}
      - {name: Lost, type: failure}
    transitions:
      - {from: New, to: Engaged, rule: {score_at_least: 10}}
      - {from: Engaged, to: Won, rule: {score_at_least: 20, completeness_at_least: 0.75}}
      - {from: Engaged, to: Lost, rule: {score_below: 2, days_in_stage_at_least: 14}}
      - {from: [New, Won], to: Lost}
      - {from: Lost, to: New}
"""
CHANGES_HEADER = "account_id,solution_interest,to_stage,requested_by,requested_at,note\n"
CHANGES_1 = "A3,data_platform,Won,sam,2026-02-28,\nZZ,data_platform,Lost,sam,2026-02-28,\n"
CHANGES_2 = "A1,data_platform,Lost,sam,2026-03-15,went with a competitor\n"
ENGAGED_RULE = "score >= 10"


def _groups(scores: dict[str, tuple[float, float]]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            (f"data_platform:{a}", a, "data_platform", "funnel", float(s), float(c))
            for a, (s, c) in scores.items()
        ],
        columns=[
            "buying_group_id",
            "account_id",
            "solution_interest",
            "stage_model",
            "score",
            "completeness",
        ],
    )


def _records(frame: pd.DataFrame, columns: list[str]) -> list[tuple]:
    return [tuple(None if pd.isna(v) else v for v in row) for row in frame[columns].itertuples(index=False)]


def test_moves_by_rules_requests_and_refusals():
    """The pure part: one build's moves, without a warehouse (build 1 of the worked answer, plus
    a group whose stage the model no longer has)."""
    model = StageModel.model_validate(FUNNEL)
    as_of = datetime(2026, 3, 1)
    current = pd.DataFrame(
        {"buying_group_id": ["data_platform:A4"], "stage": ["Nurture"], "entered_at": [datetime(2026, 1, 1)]}
    )
    changes = pd.DataFrame(
        {"account_id": ["A3", "ZZ"], "solution_interest": ["data_platform"] * 2, "to_stage": ["Won", "Lost"],
         "requested_by": ["sam"] * 2, "note": [""] * 2, "row_in_file": [2, 3], "request_key": ["k2", "k3"]}
    )  # fmt: skip
    groups = _groups({"A1": (25, 0.8), "A2": (25, 0.5), "A3": (5, 1.0), "A4": (0, 0)})
    moves, refusals = move_groups(groups, current, changes, {"funnel": model}, as_of).frames()
    assert _records(moves, ["buying_group_id", "from_stage", "to_stage", "actor", "reason"]) == [
        ("data_platform:A1", None, "New", "build", "new buying group"),
        ("data_platform:A1", "New", "Engaged", "rule", ENGAGED_RULE),
        ("data_platform:A1", "Engaged", "Won", "rule", "score >= 20 and completeness >= 0.75"),
        ("data_platform:A2", None, "New", "build", "new buying group"),
        ("data_platform:A2", "New", "Engaged", "rule", ENGAGED_RULE),
        ("data_platform:A3", None, "New", "build", "new buying group"),
        ("data_platform:A4", "Nurture", "New", "build", "stage 'Nurture' is not in model 'funnel' (config changed)"),
    ]  # fmt: skip
    assert _records(refusals, ["account_id", "from_stage", "to_stage", "reason"]) == [
        ("A3", "New", "Won", "the model does not allow 'New' -> 'Won'"),
        ("ZZ", None, "Lost", "no buying group for this account and solution interest"),
    ]  # fmt: skip


def test_the_model_is_the_only_gate():
    model = StageModel.model_validate(FUNNEL)
    assert model.refusal("Engaged", "Won") is None  # a rule's move may also be asked for
    assert model.refusal("Won", "Lost") is None  # a manual-only move
    assert model.refusal("New", "Won") == "the model does not allow 'New' -> 'Won'"
    assert model.refusal("Won", "Engaged") == "the model does not allow 'Won' -> 'Engaged'"
    assert model.refusal(None, "Engaged") == "a new group can only start in an entry stage (New)"
    assert model.refusal("Won", "Won") == "the group is already in 'Won'"
    assert "not a stage of this model" in model.refusal("New", "Closed")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"stages": FUNNEL["stages"][:2] + [{"name": "Lost", "type": "failure"}]}, "exactly one stage must have type success"),
        ({"stages": [{**s, "type": "open"} if s["name"] == "New" else s for s in FUNNEL["stages"]]}, "at least one stage must have type entry"),
        ({"stages": FUNNEL["stages"] + [{"name": "New"}]}, "stages ['New'] appear more than once"),
        ({"transitions": FUNNEL["transitions"] + [{"from": "Engaged", "to": "Closed"}]}, "names unknown stages ['Closed']"),
        ({"transitions": FUNNEL["transitions"][:1] + FUNNEL["transitions"][3:]}, "stages ['Won'] cannot be reached"),
        ({"transitions": FUNNEL["transitions"] + [{"from": "New", "to": "Engaged"}]}, "listed twice, once without a rule"),
        ({"transitions": [{"from": "New", "to": "New"}]}, "goes from 'New' to itself"),
        ({"transitions": [{"from": "New", "to": "Engaged", "rule": {}}]}, "a rule needs at least one condition"),
        ({"transitions": [{"from": "New", "to": "Engaged", "rule": {"score_at_least": 5, "score_below": 5}}]}, "never holds"),
        ({"transitions": [{"from": "New", "to": "Engaged", "rule": {"completeness_at_least": 80}}]}, "completeness is a fraction from 0 to 1 (0.8 for 80%), not 80"),
    ],
)  # fmt: skip
def test_stage_model_validation(change, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        StageModel.model_validate({**FUNNEL, **change})


def test_config_errors_name_the_file_and_row(tmp_path):
    (tmp_path / "buying_groups.yaml").write_text("solution_interests: {data_platform: {stage_model: nope}}\n")
    with pytest.raises(ConfigError, match="stage_model.*'nope' is not a stage model"):
        load_config(tmp_path)
    (tmp_path / "buying_groups.yaml").write_text(
        "solution_interests: {data_platform: {stage_model: funnel}}\n"
    )
    (tmp_path / "stages.yaml").write_text(STAGES_YAML)
    (tmp_path / "stage_changes.csv").write_text(
        CHANGES_HEADER + "A1,data_platform,Qualified,sam,2026-03-01,\n"
    )
    with pytest.raises(
        ConfigError, match=r"stage_changes.csv row 2: field to_stage is 'Qualified'; stages of model 'funnel'"
    ):
        check_user_files(load_config(tmp_path))
    (tmp_path / "stage_changes.csv").write_text(CHANGES_HEADER + "A1,data_platform,Won,,2026-03-01,\n")
    with pytest.raises(ConfigError, match="row 2: field requested_by is empty"):
        check_user_files(load_config(tmp_path))


def _build(warehouse, config_dir, as_of: str, scores: dict[str, tuple[float, float]]):
    """Materialise the stage assets over the given group scores, then the two snapshot models."""
    groups = _groups(scores).rename(columns={"completeness": "completeness_score"})
    groups["is_complete"] = groups["completeness_score"] >= 0.75
    # Both figures side by side: the suites one is the score here; weighted (100x1 + 80x0) / 180.
    groups["suites_completeness"] = groups["completeness_score"]
    groups["weighted_completeness"] = 100 / 180
    groups["members"] = 2
    roles = pd.DataFrame(
        [(g, r, True, w, 1, n, float(n)) for g in groups["buying_group_id"] for r, w, n in
         (("Decision Maker", 100.0, 1), ("Champion", 80.0, 0))],
        columns=["buying_group_id", "role", "required", "weight", "members_required", "assigned", "role_completeness"],
    )  # fmt: skip
    engagement = groups[["buying_group_id", "score"]].assign(
        model="explainable",
        score_explainable=groups["score"],
        score_suite=0.0,
        velocity_14=0.0,
        velocity_30=0.0,
    )
    with warehouse.transaction() as session:
        session.replace_table("buying_groups", groups.drop(columns=["score", "stage_model"]))
        session.replace_table("buying_group_engagement", engagement)
        session.replace_table("buying_group_roles", roles)
    result = dg.materialize(
        [buying_group_stages],
        resources={
            "warehouse": warehouse,
            "blueprint_config": BlueprintConfigResource(config_dir=str(config_dir)),
        },
        tags={AS_OF_TAG: as_of},
        raise_on_error=True,
    )
    assert all(c.passed for c in result.get_asset_check_evaluations())
    project = load_project(SQL_PROJECT_DIR)
    for name in ("buying_group_snapshots", "buying_group_role_snapshots"):
        build_model(
            warehouse,
            project,
            project.models[name],
            as_of=datetime.fromisoformat(as_of[:19]),
            config_version="v",
        )


def test_stage_history_and_snapshots_across_two_builds(warehouse, tmp_path):
    config = tmp_path / "config"
    config.mkdir()
    (config / "buying_groups.yaml").write_text("solution_interests: {data_platform: {stage_model: funnel}}\n")
    (config / "stages.yaml").write_text(STAGES_YAML)
    (config / "stage_changes.csv").write_text(CHANGES_HEADER + CHANGES_1)
    _build(warehouse, config, "2026-03-01T00:00:00", {"A1": (25, 0.8), "A2": (25, 0.5), "A3": (5, 1.0)})
    (config / "stage_changes.csv").write_text(CHANGES_HEADER + CHANGES_1 + CHANGES_2)
    later = {"A1": (25, 0.8), "A2": (1.5, 0.5), "A3": (12, 1.0)}
    _build(warehouse, config, "2026-03-20T00:00:00", later)
    _build(warehouse, config, "2026-03-20T00:00:00", later)

    history = warehouse.fetchall(
        "select change_seq, buying_group_id, from_stage, to_stage, actor, actor_name, reason, "
        "cast(changed_at as date) from buying_group_stage_history order by change_seq"
    )
    d1, d2 = datetime(2026, 3, 1).date(), datetime(2026, 3, 20).date()
    assert [(s, g[-2:], f, t, a, n, r, d) for s, g, f, t, a, n, r, d in history] == [
        (1, "A1", None, "New", "build", "", "new buying group", d1),
        (2, "A1", "New", "Engaged", "rule", "", ENGAGED_RULE, d1),
        (3, "A1", "Engaged", "Won", "rule", "", "score >= 20 and completeness >= 0.75", d1),
        (4, "A2", None, "New", "build", "", "new buying group", d1),
        (5, "A2", "New", "Engaged", "rule", "", ENGAGED_RULE, d1),
        (6, "A3", None, "New", "build", "", "new buying group", d1),
        (7, "A1", "Won", "Lost", "manual", "sam", "went with a competitor", d2),
        (8, "A2", "Engaged", "Lost", "rule", "", "score < 2 and days in stage >= 14", d2),
        (9, "A3", "New", "Engaged", "rule", "", ENGAGED_RULE, d2),
    ]
    assert warehouse.fetchall(
        "select account_id, from_stage, to_stage, row_in_file, reason from buying_group_stage_refusals "
        "order by row_in_file"
    ) == [
        ("A3", "New", "Won", 2, "the model does not allow 'New' -> 'Won'"),
        ("ZZ", None, "Lost", 3, "no buying group for this account and solution interest"),
    ]
    assert warehouse.fetchall(
        "select account_id, stage, stage_type, last_actor from buying_group_stages order by account_id"
    ) == [
        ("A1", "Lost", "failure", "manual"),
        ("A2", "Lost", "failure", "rule"),
        ("A3", "Engaged", "open", "rule"),
    ]
    snapshots = warehouse.fetchall(
        "select cast(snapshot_date as varchar), account_id, stage, score, completeness_score, "
        "suites_completeness, round(weighted_completeness, 6), roles_filled, required_roles_missing "
        "from buying_group_snapshots order by snapshot_date, account_id"
    )
    assert snapshots == [
        ("2026-03-01", "A1", "Won", 25.0, 0.8, 0.8, 0.555556, 1, 1),
        ("2026-03-01", "A2", "Engaged", 25.0, 0.5, 0.5, 0.555556, 1, 1),
        ("2026-03-01", "A3", "New", 5.0, 1.0, 1.0, 0.555556, 1, 1),
        ("2026-03-20", "A1", "Lost", 25.0, 0.8, 0.8, 0.555556, 1, 1),
        ("2026-03-20", "A2", "Lost", 1.5, 0.5, 0.5, 0.555556, 1, 1),
        ("2026-03-20", "A3", "Engaged", 12.0, 1.0, 1.0, 0.555556, 1, 1),
    ]
    assert warehouse.scalar("select count(*) from buying_group_role_snapshots") == 2 * 3 * 2


def test_an_earlier_as_of_is_refused(duckdb_warehouse, tmp_path):
    """The stage history only moves forward: a run dated before its last entry is a clear error."""
    config = tmp_path / "config"
    config.mkdir()
    (config / "buying_groups.yaml").write_text("solution_interests: {data_platform: {stage_model: funnel}}\n")
    (config / "stages.yaml").write_text(STAGES_YAML)
    _build(duckdb_warehouse, config, "2026-03-10T00:00:00", {"A1": (25, 0.8)})
    with pytest.raises(
        Exception, match="as-of 2026-03-01 00:00 is before the last entry of buying_group_stage_history"
    ):
        _build(duckdb_warehouse, config, "2026-03-01T00:00:00", {"A1": (25, 0.8)})


def test_journey_moves_join_the_history_at_the_next_build_once(warehouse, tmp_path):
    """The journeys' stage moves and refusals are their own effect tables; the stage asset appends
    them at its next build. Worked by hand: build 1 (03-01) gives A1 New, Engaged, Won (seqs 1-3)
    and A3 New (4). A journey run on 03-05 moves A1 Won -> Lost (step k1; the model allows it when
    asked) and meets a refusal for A3 New -> Won (step k2). Build 2 (03-10) appends seq 5, A1 Won
    -> Lost by journey `nurture`, and the refusal (actor journey, no file row); A1 stays Lost (no
    rule leaves it). Build 3, at the same as-of, appends nothing. The journeys see the move before
    build 2 as after it."""
    config = tmp_path / "config"
    config.mkdir()
    (config / "buying_groups.yaml").write_text("solution_interests: {data_platform: {stage_model: funnel}}\n")
    (config / "stages.yaml").write_text(STAGES_YAML)
    scores = {"A1": (25, 0.8), "A3": (5, 1.0)}
    _build(warehouse, config, "2026-03-01T00:00:00", scores)
    journey_ran = pd.Timestamp("2026-03-05 10:00")
    with warehouse.transaction() as session:
        create(session, JOURNEY_MOVES, JOURNEY_REFUSALS)
        append(
            session,
            JOURNEY_MOVES,
            [
                {
                    "step_key": "k1",
                    "buying_group_id": "data_platform:A1",
                    "stage_model": "funnel",
                    "from_stage": "Won",
                    "to_stage": "Lost",
                    "actor_name": "nurture",
                    "reason": "journey nurture, node lose",
                    "changed_at": journey_ran,
                    "config_version": "v1",
                }
            ],
            sequence="event_seq",
        )
        append(
            session,
            JOURNEY_REFUSALS,
            [
                {
                    "step_key": "k2",
                    "account_id": "A3",
                    "solution_interest": "data_platform",
                    "buying_group_id": "data_platform:A3",
                    "from_stage": "New",
                    "to_stage": "Won",
                    "actor_name": "nurture",
                    "reason": "the model does not allow 'New' -> 'Won'",
                    "refused_at": journey_ran,
                    "config_version": "v1",
                }
            ],
            sequence="event_seq",
        )
        seen_before = stage_moves(session)
    assert warehouse.scalar("select count(*) from buying_group_stage_history") == 4
    _build(warehouse, config, "2026-03-10T00:00:00", scores)
    _build(warehouse, config, "2026-03-10T00:00:00", scores)
    assert warehouse.fetchall(
        "select change_seq, buying_group_id, from_stage, to_stage, actor, actor_name, request_key, changed_at, "
        "config_version from buying_group_stage_history where change_seq > 4 order by change_seq"
    ) == [
        (5, "data_platform:A1", "Won", "Lost", "journey", "nurture", "k1", journey_ran.to_pydatetime(), "v1")
    ]
    assert warehouse.fetchall(
        "select account_id, from_stage, to_stage, actor, actor_name, request_key, row_in_file, refused_at "
        "from buying_group_stage_refusals"
    ) == [("A3", "New", "Won", "journey", "nurture", "k2", None, journey_ran.to_pydatetime())]
    assert warehouse.fetchall(
        "select account_id, stage, last_actor from buying_group_stages order by account_id"
    ) == [("A1", "Lost", "journey"), ("A3", "New", "build")]
    with warehouse.session() as session:
        seen_after = stage_moves(session)
    assert seen_before.to_dict("records") == seen_after.to_dict("records")
    assert [(r["buying_group_id"][-2:], r["to_stage"]) for r in seen_after.to_dict("records")] == [
        ("A1", "New"), ("A1", "Engaged"), ("A1", "Won"), ("A3", "New"), ("A1", "Lost")
    ]  # fmt: skip
