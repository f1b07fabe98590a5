"""What keeps journeys moving with `dagster dev` (or the daemon) up: a sensor that runs the
journeys when a step falls due, and a schedule that refreshes audiences, buying groups, scores
and journeys (time-window filters and decay change with the clock). Both decide from Dagster's
own state, never by opening the warehouse (on DuckDB a running build holds it): the journeys
asset publishes its next due time in its materialisation metadata. docs/journeys.md says how to
turn them on."""

from __future__ import annotations

from datetime import UTC, datetime

import dagster as dg

from blueprint_pipeline.defs.journeys.assets import JOURNEY_RUN_TAG
from blueprint_pipeline.resources import refresh_cron, schedule_status, sensor_status

JOURNEY_RUN = dg.AssetSelection.tag(JOURNEY_RUN_TAG, "") | dg.AssetSelection.assets("journey_deliveries")
REFRESH = dg.AssetSelection.groups("audiences", "buying_groups", "scoring", "journeys", "governance")


def now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


@dg.sensor(
    name="journey_steps",
    target=JOURNEY_RUN,
    minimum_interval_seconds=60,
    default_status=sensor_status(),
    description="Runs the journeys (and delivers) when an enrolment's wait or listen timeout falls due.",
)
def journey_steps_sensor(context: dg.SensorEvaluationContext):
    event = context.instance.get_latest_materialization_event(dg.AssetKey("journey_enrolments"))
    if event is None or event.asset_materialization is None:
        return dg.SkipReason("the journeys have not run yet (the first build runs them)")
    entry = event.asset_materialization.metadata.get("next_due_at")
    due = entry.value if entry is not None else ""
    if not due:
        return dg.SkipReason("no enrolment waits for a time")
    if now() < datetime.fromisoformat(due):
        return dg.SkipReason(f"next step due at {due} UTC")
    # The key names the run that published the time too: if a run somehow left the step due, the
    # next tick asks again instead of repeating a key Dagster has already used.
    return dg.RunRequest(run_key=f"journeys-due-{due}-{event.run_id[:8]}", tags={"blueprint/due_at": due})


refresh_schedule = dg.ScheduleDefinition(
    name="refresh_audiences_and_groups",
    cron_schedule=refresh_cron(),
    target=REFRESH,
    default_status=schedule_status(),
    description="Rebuilds audiences, buying groups, scores, stages and journeys at the schedule's time "
    "(BLUEPRINT_REFRESH_CRON, default 06:00 UTC daily), so time windows move with the clock.",
)
