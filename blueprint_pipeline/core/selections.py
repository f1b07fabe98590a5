"""Asset selections the automation and the bench share (Dagster's selection syntax)."""

# The readiness model's retraining: its schedule and full builds run it, not the fast path (the
# groups are rescored with the last model that passed its check).
RETRAINING = "key:qualification_training_set or key:qualification_models"

# The fast path: the new rows, everything scored from them, stages, snapshots, sales alerts and
# their delivery; identity, audiences, buying groups and the journeys wait for the next full build.
FAST_PATH = (
    "(key:raw_marketo__activities or key:stg_marketo__activities or key:raw_tracking__events "
    "or key:stg_tracking__events or key:int_person_activities+) "
    f"and not tag:journey_run and not ({RETRAINING})"
)
