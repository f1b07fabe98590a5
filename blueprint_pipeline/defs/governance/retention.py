"""Retention (config `governance.retention`): what is older than each dataset's limit is deleted,
with counts (docs/governance.md)."""

from datetime import timedelta

import dagster as dg

from blueprint_pipeline.core.run_facts import run_facts
from blueprint_pipeline.resources import BlueprintConfigResource
from blueprint_pipeline.warehouse import Session, Warehouse

# dataset -> (table, where-clause on rows older than $cutoff), in the order they are deleted:
# raw rows go by the staged rows' typed times, before the staged rows themselves.
DELETES = {
    "marketo_activities": [
        (
            "raw_marketo__activities",
            "trim(marketo_guid) in (select activity_id from stg_marketo__activities "
            "where activity_at < $cutoff)",
        ),
        ("stg_marketo__activities", "activity_at < $cutoff"),
    ],
    "tracking_events": [
        (
            "raw_tracking__events",
            "trim(event_id) in (select event_id from stg_tracking__events where occurred_at < $cutoff)",
        ),
        ("stg_tracking__events", "occurred_at < $cutoff"),
    ],
    "journey_step_log": [("journey_step_log", "happened_at < $cutoff")],
    "journey_outbox": [
        (outbox, "created_at < $cutoff and status <> 'pending'")
        for outbox in ("journey_outbox", "sales_alert_outbox")
    ],
    "sales_alert_log": [("sales_alert_log", "fired_at < $cutoff")],
    "buying_group_snapshots": [
        ("buying_group_snapshots", "snapshot_date < cast($cutoff as date)"),
        ("buying_group_role_snapshots", "snapshot_date < cast($cutoff as date)"),
    ],
}


def expire(session: Session, dataset: str, cutoff) -> dict[str, int]:
    counts = {}
    for table, where in DELETES[dataset]:
        if not session.table_exists(table):
            continue
        counts[table] = int(session.scalar(f"select count(*) from {table} where {where}", {"cutoff": cutoff}))
        if counts[table]:
            session.execute(f"delete from {table} where {where}", {"cutoff": cutoff})
    return counts


@dg.asset(
    kinds={"python"},
    deps=["stg_marketo__activities", "stg_tracking__events", "journey_deliveries", "sales_alerts"],
)
def retention(
    context: dg.AssetExecutionContext, warehouse: Warehouse, blueprint_config: BlueprintConfigResource
) -> dg.MaterializeResult:
    """Deletes, per dataset in config `governance.retention`, the rows older than its limit before
    the run's as-of time (raw rows with their staged rows, so a rebuild does not bring them back)."""
    loaded = blueprint_config.loaded
    facts = run_facts(context, loaded.version)
    deleted: dict[str, int] = {}
    with warehouse.transaction() as session:
        for dataset, rule in sorted(loaded.config.governance.retention.items()):
            cutoff = facts.as_of - timedelta(days=rule.older_than_days)
            for table, n in expire(session, dataset, cutoff).items():
                deleted[table] = n
    total = sum(deleted.values())
    return dg.MaterializeResult(
        metadata={
            "deleted_rows": total,
            **{f"deleted/{table}": n for table, n in sorted(deleted.items())},
            **(
                {"summary/retention": ", ".join(f"{t} {n:,}" for t, n in sorted(deleted.items()) if n)}
                if total
                else {}
            ),
            **facts.metadata(),
        }
    )
