"""Asset selections the automation and the bench share (Dagster's selection syntax)."""

# The readiness model's retraining: its schedule and full builds run it, not the fast path (the
# groups are rescored with the last model that passed its check).
RETRAINING = "key:qualification_training_set or key:qualification_models"

# The scoring rules' tables, written from the config: a run that rescores writes them again, so a
# config change reaches the scores (the day sums re-sum everything when the rules moved). The
# journeys' score adjustments come with them (one asset writes both: defs/scoring/rules.py).
SCORING_RULES = (
    "key:scoring_activity_kinds or key:scoring_points or key:scoring_settings or key:scoring_suite_weights "
    "or key:person_score_adjustments"
)

# The fast path: the new rows, everything scored from them, stages, snapshots, sales alerts and
# their delivery; identity, audiences, buying groups and the journeys wait for the next full build.
FAST_PATH = (
    "(key:raw_marketo__activities or key:stg_marketo__activities or key:raw_tracking__events "
    f"or key:stg_tracking__events or {SCORING_RULES} or key:int_person_activities+) "
    f"and not tag:journey_run and not ({RETRAINING})"
)
