"""Buying-group stages: the append-only history of moves, the current stage, refused requests."""

import dagster as dg
import pandas as pd

from blueprint_pipeline.buying_groups.stages import (
    HISTORY,
    JOURNEY_MOVES,
    JOURNEY_REFUSALS,
    MOVE_COLUMNS,
    REFUSAL_COLUMNS,
    REFUSALS,
    move_groups,
    read_stage_changes,
)
from blueprint_pipeline.core.errors import check_not_before
from blueprint_pipeline.core.run_facts import run_facts
from blueprint_pipeline.resources import BlueprintConfigResource
from blueprint_pipeline.sql_models.published import published
from blueprint_pipeline.warehouse import Session, Warehouse
from blueprint_pipeline.warehouse.effects import apply_requests
from blueprint_pipeline.warehouse.stateful import create

DEPS = ["buying_groups", "buying_group_engagement"]


def _spec(key: str, description: str) -> dg.AssetSpec:
    return dg.AssetSpec(key, kinds={"python"}, deps=DEPS, description=description)


def _create_logs(session: Session) -> None:
    create(session, HISTORY, REFUSALS)


def apply_journey_requests(session: Session, as_of) -> tuple[int, int]:
    """Append the stage moves and refusals journeys made since this asset last ran to the history
    and the refusals, once each (by step key), in the order the journeys made them: (moves,
    refusals). The journeys asked the stage model's gate when they made them (engine.py) and run
    after this asset (an edge from them would be a cycle), so their requests join at its next run."""
    moves = refusals = 0
    if session.table_exists(JOURNEY_MOVES):
        moves = apply_requests(
            session,
            JOURNEY_MOVES,
            HISTORY,
            {
                **{c: f"j.{c}" for c in ("buying_group_id", "stage_model", "from_stage", "to_stage")},
                "actor": "'journey'",
                **{c: f"j.{c}" for c in ("actor_name", "reason")},
                "request_key": "j.step_key",
                **{c: f"j.{c}" for c in ("changed_at", "config_version")},
            },
            "changed_at",
            as_of,
            counter="change_seq",
        )
    if session.table_exists(JOURNEY_REFUSALS):
        refusals = apply_requests(
            session,
            JOURNEY_REFUSALS,
            REFUSALS,
            {
                **{
                    c: f"j.{c}"
                    for c in ("account_id", "solution_interest", "buying_group_id", "from_stage", "to_stage")
                },
                "actor": "'journey'",
                **{c: f"j.{c}" for c in ("actor_name", "reason")},
                "request_key": "j.step_key",
                **{c: f"j.{c}" for c in ("refused_at", "config_version")},
            },
            "refused_at",
            as_of,
        )
    return moves, refusals


LAST_ENTRY = (
    f"select buying_group_id, to_stage as stage, changed_at as entered_at, actor as last_actor, "
    f"reason as last_reason from (select *, row_number() over (partition by buying_group_id "
    f"order by change_seq desc) as latest from {HISTORY}) as h where latest = 1"
)


@dg.multi_asset(
    specs=[
        _spec(
            HISTORY,
            "Append-only: every stage move of every buying group (time, from, to, the actor: build, "
            "rule, manual or journey, the rule or note, the config version). Its last entry per "
            f"group is the current stage. The journeys' moves join it at the start of the next run, "
            f"from `{JOURNEY_MOVES}` (docs/architecture.md, the journey feedback loop).",
        ),
        _spec(
            "buying_group_stages",
            "One row per buying group: its current stage (the history's last entry), the stage's "
            "type, when it entered it and days in stage as of the build.",
        ),
        _spec(
            REFUSALS,
            "Append-only: stage changes asked for that the stage model does not allow, with the reason. "
            f"The journeys' refusals join it at the start of the next run, from `{JOURNEY_REFUSALS}`.",
        ),
    ],
    check_specs=[
        dg.AssetCheckSpec(
            "moves_allowed_by_model",
            asset=HISTORY,
            blocking=True,
            description="Every move written under the current config is one its stage model allows.",
        ),
    ],
)
def buying_group_stages(
    context: dg.AssetExecutionContext, warehouse: Warehouse, blueprint_config: BlueprintConfigResource
):
    loaded = blueprint_config.loaded
    config = loaded.config
    facts = run_facts(context, loaded.version)
    models = config.stages.models
    model_of = {name: i.stage_model for name, i in config.buying_groups.solution_interests.items()}
    changes = read_stage_changes(
        loaded.user_file(config.stages.changes_file), config.stages, config.buying_groups
    )
    with warehouse.transaction() as session:
        _create_logs(session)
        latest = session.scalar(f"select max(changed_at) from {HISTORY}")
        check_not_before(
            facts.as_of, pd.Timestamp(latest).to_pydatetime() if latest is not None else None, HISTORY
        )
        from_journeys = apply_journey_requests(session, facts.as_of)
        seen = {
            key for (key,) in session.fetchall(
                f"select request_key from {HISTORY} where request_key <> '' union "
                f"select request_key from {REFUSALS}"
            )
        }  # fmt: skip
        groups = session.fetch_df(
            "select g.buying_group_id, g.account_id, g.solution_interest, "
            "coalesce(g.completeness_score, 0) as completeness, coalesce(e.score, 0) as score "
            "from buying_groups as g left join buying_group_engagement as e "
            "on e.buying_group_id = g.buying_group_id order by g.buying_group_id"
        )
        groups["stage_model"] = groups["solution_interest"].map(model_of)
        current = session.fetch_df(LAST_ENTRY)
        new_changes = changes[~changes["request_key"].isin(seen)]
        moves, refusals = move_groups(groups, current, new_changes, models, facts.as_of).frames()

        if len(moves):
            first = int(session.scalar(f"select coalesce(max(change_seq), 0) from {HISTORY}")) + 1
            moves.insert(0, "change_seq", range(first, first + len(moves)))
            moves["stage_model"] = moves["buying_group_id"].map(
                groups.set_index("buying_group_id")["stage_model"]
            )
            columns = ["change_seq", "buying_group_id", "stage_model", *MOVE_COLUMNS[1:], "config_version"]
            session.insert_from_local_query(
                HISTORY, columns, "select * from moves",
                frames={"moves": moves.assign(config_version=facts.config_version)[columns]},
            )  # fmt: skip
        if len(refusals):
            session.insert_from_local_query(
                REFUSALS, [*REFUSAL_COLUMNS, "config_version"], "select * from refusals",
                frames={"refusals": refusals.assign(config_version=facts.config_version)},
            )  # fmt: skip

        stages = groups.merge(session.fetch_df(LAST_ENTRY), on="buying_group_id", how="left")
        stages["stage_type"] = [
            models[m].stage_types.get(s, "")
            for m, s in zip(stages["stage_model"], stages["stage"], strict=True)
        ]
        stages["days_in_stage"] = (
            (pd.Timestamp(facts.as_of) - pd.to_datetime(stages["entered_at"])).dt.total_seconds() / 86400
        ).round(6)
        stages = stages[
            ["buying_group_id", "account_id", "solution_interest", "stage_model", "stage", "stage_type",
             "entered_at", "days_in_stage", "score", "completeness", "last_actor", "last_reason"]
        ]  # fmt: skip
        session.replace_table("buying_group_stages", stages)
        pairs = session.fetch_df(
            f"select stage_model, from_stage, to_stage, count(*) as n from {HISTORY} "
            "where config_version = $version group by stage_model, from_stage, to_stage",
            {"version": facts.config_version},
        )
    disallowed = [
        f"{row.stage_model}: {row.from_stage} -> {row.to_stage} ({row.n})"
        for row in pairs.itertuples()
        if row.stage_model not in models
        or models[row.stage_model].refusal(None if pd.isna(row.from_stage) else row.from_stage, row.to_stage)
    ]
    by_stage = stages["stage"].value_counts().to_dict()
    success = int((stages["stage_type"] == "success").sum())
    metadata = facts.metadata()
    yield dg.MaterializeResult(
        asset_key=HISTORY,
        metadata={
            "moves": len(moves),
            "by_actor": ", ".join(f"{k} {v}" for k, v in moves["actor"].value_counts().items()) or "none",
            "from_journeys": from_journeys[0],
            "reads_previous_run": JOURNEY_MOVES,
            **metadata,
        },
    )
    yield dg.MaterializeResult(
        asset_key="buying_group_stages",
        metadata={
            **published(warehouse, "buying_group_stages"),
            "dagster/row_count": len(stages),
            "summary/stages": ", ".join(f"{k} {v:,}" for k, v in sorted(by_stage.items())) or "no groups",
            "groups_in_success_stage": success,
            **metadata,
        },
    )
    yield dg.MaterializeResult(
        asset_key=REFUSALS,
        metadata={
            "refused": len(refusals),
            "from_journeys": from_journeys[1],
            "reads_previous_run": JOURNEY_REFUSALS,
            **(
                {"summary/stage changes refused": f"{len(refusals)} (see {REFUSALS})"}
                if len(refusals)
                else {}
            ),
            "changes_file": str(loaded.user_file(config.stages.changes_file) or "(none)"),
            **metadata,
        },
    )
    yield dg.AssetCheckResult(
        check_name="moves_allowed_by_model", asset_key=HISTORY, passed=not disallowed,
        metadata={"disallowed": "; ".join(disallowed) or "none"},
    )  # fmt: skip
