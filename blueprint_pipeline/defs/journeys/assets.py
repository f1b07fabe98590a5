"""Group `journeys`: one run of every journey at the build's as-of time, its state and effects
written in one transaction (docs/journeys.md)."""

import dagster as dg
import pandas as pd

from blueprint_pipeline.alerts.send import fill, prepare
from blueprint_pipeline.config.audiences import ACCOUNT_FIELDS
from blueprint_pipeline.config.journeys import Listen
from blueprint_pipeline.core.errors import check_not_before
from blueprint_pipeline.core.faults import crash_point
from blueprint_pipeline.core.run_facts import run_facts
from blueprint_pipeline.journeys.engine import Effects, JourneyRun, Settings
from blueprint_pipeline.journeys.tables import append
from blueprint_pipeline.journeys.world import World, interest_facts, load_world
from blueprint_pipeline.resources import BlueprintConfigResource, tracking_secret
from blueprint_pipeline.sql_models.checks import checked_transaction, declared_checks
from blueprint_pipeline.warehouse import Session, Warehouse
from blueprint_pipeline.warehouse.stateful import JOURNEY_TABLES, create

DEPS = [
    "buying_group_stages",
    "buying_group_engagement",
    "buying_group_members",
    "person_engagement_scores",
    "int_person_activities",
    "account_audience_members",
    "stg_salesforce__opportunities",
    "readiness_scores",
]


# Every table one journey run writes carries this tag: select them together (`tag:journey_run`),
# since the run writes them all in one transaction.
JOURNEY_RUN_TAG = "journey_run"
# Append-only effect tables: what journeys did to accounts, groups and scores, read by the layers
# they act on. Scoring and the CRM write-back read them; scoring only as the previous run left them.
EFFECT_TABLES = {
    "journey_account_lists": "Append-only: accounts journeys added to or removed from named lists.",
    "linkedin_audience_additions": "Append-only: accounts journeys added to LinkedIn audiences.",
    "crm_field_updates": "Append-only: Account field values journeys set; crm_buying_group_writeback "
    "writes them out.",
    "buying_group_status_history": "Append-only: buying-group statuses journeys set (set_status nodes).",
    "journey_member_events": "Append-only: members journeys added, changed or removed (set_role "
    "nodes); buying_groups applies them to its membership history at the start of the next run.",
    "journey_stage_moves": "Append-only: stage moves journeys made (update_stage nodes, through the "
    "stage model's gate); buying_group_stages appends them to the stage history at the start of its "
    "next run.",
    "journey_stage_refusals": "Append-only: stage moves journeys asked for that the stage model "
    "refused; buying_group_stages appends them to buying_group_stage_refusals at its next run.",
    "journey_score_adjustments": "Append-only: points journeys added to persons' scores (change_score "
    "nodes); scoring's person_score_adjustments copies it at the start of the next run.",
}


def _previous(session: Session) -> tuple[list[dict], dict, dict]:
    enrolments = session.fetch_df("select * from journey_enrolments")
    records = []
    for row in enrolments.to_dict("records"):
        for key in ("waiting_since", "due_at", "entered_at", "ended_at"):
            row[key] = None if pd.isna(row[key]) else pd.Timestamp(row[key]).to_pydatetime()
        row["test"], row["step_no"] = bool(row["test"]), int(row["step_no"])
        row["buying_group_id"] = None if pd.isna(row["buying_group_id"]) else row["buying_group_id"]
        records.append(row)
    runs = {
        r.journey_id: {"live_since": pd.Timestamp(r.live_since).to_pydatetime(), "last_run_at": r.last_run_at}
        for r in session.fetch_df("select * from journey_runs").itertuples(index=False)
    }
    values = {
        (j, a): v
        for j, a, v in session.fetchall("select journey_id, account_id, value from journey_attribute_values")
    }
    return records, runs, values


def _delete_keys(session: Session, table: str, column: str, keys: list[str]) -> None:
    session.replace_table("journey_keys_to_replace", pd.DataFrame({"key": pd.Series(keys, dtype="string")}))
    session.execute(f"delete from {table} where {column} in (select key from journey_keys_to_replace)")
    session.execute("drop table journey_keys_to_replace")


def _write(session: Session, out: Effects, version: str) -> dict[str, int]:
    """Everything a run did, in the caller's transaction: state, log, outbox and the effect tables."""
    if out.enrolments:
        _delete_keys(session, "journey_enrolments", "enrolment_id", list(out.enrolments))
        append(session, "journey_enrolments", list(out.enrolments.values()))
    steps = append(session, "journey_step_log", [s | {"config_version": version} for s in out.steps])
    messages = append(session, "journey_outbox", [m | {"attempts": 0} for m in out.outbox])
    effects = {
        "journey_account_lists": append(
            session, "journey_account_lists", out.list_events, sequence="event_seq"
        ),
        "linkedin_audience_additions": append(session, "linkedin_audience_additions", out.linkedin),
        "crm_field_updates": append(session, "crm_field_updates", out.crm_updates),
        "buying_group_status_history": append(
            session, "buying_group_status_history", out.statuses, sequence="event_seq"
        ),
        "journey_score_adjustments": append(session, "journey_score_adjustments", out.score_changes),
    }
    effects["journey_stage_moves"] = append(
        session,
        "journey_stage_moves",
        [m | {"config_version": version} for m in out.stage_moves],
        sequence="event_seq",
    )
    effects["journey_stage_refusals"] = append(
        session,
        "journey_stage_refusals",
        [r | {"config_version": version} for r in out.stage_refusals],
        sequence="event_seq",
    )
    effects["journey_member_events"] = append(
        session,
        "journey_member_events",
        [m | {"config_version": version} for m in out.member_events],
        sequence="event_seq",
    )
    if out.runs:
        _delete_keys(session, "journey_runs", "journey_id", list(out.runs))
        append(session, "journey_runs", [{"journey_id": j, **run} for j, run in out.runs.items()])
    if out.attribute_values:
        rows = [{"journey_id": j, "account_id": a, "value": v} for (j, a), v in out.attribute_values.items()]
        _delete_keys(
            session, "journey_attribute_values", "journey_id", sorted({r["journey_id"] for r in rows})
        )
        append(session, "journey_attribute_values", rows)
    return {"steps": steps, "messages": messages, **effects}


NODE_COUNTS = """
select s.journey_id, s.node, s.node_type, s.outcome, count(distinct s.enrolment_id) as accounts,
    count(distinct case when e.status = 'active' and e.node = s.node then e.enrolment_id end)
        as accounts_here_now
from journey_step_log as s
inner join journey_enrolments as e on e.enrolment_id = s.enrolment_id
where not e.test
group by s.journey_id, s.node, s.node_type, s.outcome
"""


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            name,
            kinds={"python"},
            deps=DEPS,
            description=description,
            tags={JOURNEY_RUN_TAG: ""},
        )
        for name, description in (
            (
                "journey_enrolments",
                "One row per journey entry of an account: its node, when it is due, its status.",
            ),
            ("journey_step_log", "Append-only: every step of every enrolment, with its idempotency key."),
            ("journey_outbox", "Messages queued by journeys (pending, held with the reason, sent)."),
            (
                "journey_node_counts",
                "Per journey, node and outcome: accounts that passed, accounts there now.",
            ),
            # The journeys' effects, each in a table of its own; the layers they act on read them.
            *EFFECT_TABLES.items(),
        )
    ],
    check_specs=declared_checks("journey_step_log"),
)
def journeys(
    context: dg.AssetExecutionContext, warehouse: Warehouse, blueprint_config: BlueprintConfigResource
):
    """Runs every journey that is live, in test, or closed to new entries at the build's as-of
    time (docs/journeys.md)."""
    loaded = blueprint_config.loaded
    config = loaded.config
    facts = run_facts(context, loaded.version)
    journeys_config = config.journeys
    interests = interest_facts(config)
    watched = {j.entry.account_attribute_change for j in journeys_config.journeys.values()} - {None}
    with checked_transaction(warehouse, "journey_step_log") as (session, checked):
        create(session, *JOURNEY_TABLES)
        enrolments, runs, values = _previous(session)
        latest = session.scalar("select max(last_run_at) from journey_runs")
        check_not_before(
            facts.as_of, pd.Timestamp(latest).to_pydatetime() if latest is not None else None, "journey_runs"
        )
        running = [j for j in journeys_config.journeys.values() if j.status not in ("draft", "finished")]
        as_of = facts.as_of
        world = (
            load_world(session, journeys_config, as_of, _lookback(journeys_config))
            if running
            else World(as_of)
        )
        attributes = {}
        for name in sorted(watched):
            column = name if name in ACCOUNT_FIELDS else None
            rows = session.fetchall(f"select account_id, cast({column} as varchar) from unified_accounts")
            attributes[name] = {a: v or "" for a, v in rows}
        settings = Settings(**journeys_config.delivery.model_dump(), tracking_secret=tracking_secret())
        out = JourneyRun(
            world,
            journeys_config,
            interests,
            config.stages.models,
            settings,
            enrolments,
            runs,
            values,
            attributes,
        ).run()
        _fill_alerts(session, config, out, facts.as_of)
        written = _write(session, out, facts.config_version)
        crash_point("journeys")  # state, outbox and CRM field updates written, not committed
        session.execute("drop table if exists journey_node_counts")
        session.execute(f"create table journey_node_counts as {NODE_COUNTS}")
        live = sorted(
            j
            for j, journey in journeys_config.journeys.items()
            if journey.status in ("live", "test", "closed")
        )
        # Only enrolments a run would move count: a journey in draft, finished or no longer in the
        # config keeps its enrolments, but they must not hold the sensor at a time nobody moves.
        by_journey = session.fetch_df(
            "select journey_id, count(*) as active, min(due_at) as next_due, sum(case when waiting_since "
            "is not null and due_at is null then 1 else 0 end) as listening from journey_enrolments "
            "where status = 'active' group by journey_id"
        )
    moving = by_journey[by_journey["journey_id"].isin(live)]
    stranded = by_journey[~by_journey["journey_id"].isin(list(journeys_config.journeys))]
    active, listening = int(moving["active"].sum()), int(moving["listening"].sum())
    next_due = moving["next_due"].dropna().min() if len(moving) else None
    held = sum(1 for m in out.outbox if m["status"] == "held")
    metadata = facts.metadata()
    yield from checked.reported(
        dg.MaterializeResult(
            asset_key="journey_enrolments",
            metadata={
                "active_enrolments": active,
                # The journey_steps sensor reads these (it never opens the warehouse).
                "next_due_at": pd.Timestamp(next_due).isoformat()
                if next_due is not None and not pd.isna(next_due)
                else "",
                "listening_without_timeout": listening,
                "changed": len(out.enrolments),
                "journeys_run": ", ".join(live) or "none",
                "summary/journeys": f"{len(live)} running, {active:,} active enrolments, "
                f"{written['messages']:,} messages ({written['messages'] - held:,} queued, "
                f"{held:,} held back)",
                **(
                    {
                        "summary/journeys not in the config": ", ".join(
                            f"{r.journey_id} ({int(r.active):,} active enrolments left as they were)"
                            for r in stranded.itertuples(index=False)
                        )
                    }
                    if len(stranded)
                    else {}
                ),
                **metadata,
            },
        ),
        dg.MaterializeResult(asset_key="journey_step_log", metadata={"steps": written["steps"], **metadata}),
        dg.MaterializeResult(
            asset_key="journey_outbox",
            metadata={"queued": written["messages"] - held, "held": held, **metadata},
        ),
        dg.MaterializeResult(asset_key="journey_node_counts", metadata=metadata),
        *(
            dg.MaterializeResult(asset_key=table, metadata={"rows_appended": written[table], **metadata})
            for table in EFFECT_TABLES
        ),
    )


def _fill_alerts(session: Session, config, out: Effects, as_of) -> None:
    """Journey sales alerts get the standard content and routing (alerts/send.py); the node's
    template, if any, gives the subject and a note at the top. Test sends keep their seeds."""
    alerts = [m for m in out.outbox if m["channel"] == "sales_alert" and m["buying_group_id"]]
    if not alerts:
        return
    facts, territory = prepare(session, config, sorted({m["buying_group_id"] for m in alerts}), as_of)
    for message in alerts:
        group = facts.get(message["buying_group_id"])
        if group is None:
            continue
        node = message["step_key"].split("/")[2]
        journey = config.journeys.journeys[message["journey_id"]]
        subject, note = message["subject"], message["body_text"]
        reason, rule = f"{journey.name}: {node}", f"journey {message['journey_id']}"
        where = territory.get(group["account"]["id"])
        fill(message, group, where, config, reason, rule, note.strip(), keep_address=bool(message["test"]))
        message.pop("routed_by")
        if subject:
            message["subject"] = subject


def _lookback(config) -> int:
    """Days of activity the journeys' conditions and listen nodes may look at."""
    days = [31]
    for journey in config.journeys.values():
        for node in journey.nodes.values():
            for path in getattr(node, "paths", []):
                activity = getattr(path.when, "activity", None)
                if activity:
                    days.append(activity.within_days + 1)
            if isinstance(node, Listen) and node.timeout_days:
                days.append(int(node.timeout_days) + 2)
    return max(days)
