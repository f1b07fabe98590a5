"""Start runs when files land in the landing directory.

Two sensors share the folder: `fresh_activities` takes new Marketo activity extracts and tracking
events down the fast path (ingest them, rescore, move stages, fire and deliver sales alerts; no
full build), and `landing_files` builds everything for any other file. Each decides from its own
cursor (file name -> size and modification time), never by opening the warehouse: on DuckDB the
warehouse may be locked by a running build. The file ledger in the warehouse still decides what
is ingested, so a file seen twice is never loaded twice. On its first tick a sensor takes the
files older than the last ingestion recorded in the instance as already read.
"""

import hashlib
import json
from pathlib import Path

import dagster as dg

from blueprint_pipeline.core.paths import SQL_PROJECT_DIR
from blueprint_pipeline.core.selections import FAST_PATH
from blueprint_pipeline.ingestion.landing import is_csv, name_matches
from blueprint_pipeline.resources import LandingResource, sensor_status
from blueprint_pipeline.sql_models.assets import GX_CHECK
from blueprint_pipeline.sql_models.project import load_project

SYSTEMS = ("salesforce", "marketo", "linkedin", "tracking")
FAST_FILES = ("marketo/activities*.csv", "tracking/events_*.csv")
STATUS = sensor_status()


def fast_path_target() -> dg.AssetSelection:
    """FAST_PATH without the great-expectations suites: a suite samples 100,000 rows of the whole
    staged table whatever landed (1-4 s of the fast path, the library's import included) and
    warns only; full builds run it. The data tests, blocking ones included, run as selected."""
    suites = [
        dg.AssetCheckKey(dg.AssetKey(model.name), GX_CHECK)
        for model in load_project(SQL_PROJECT_DIR).models.values()
        if model.expectations
    ]
    return dg.AssetSelection.from_string(FAST_PATH) - dg.AssetSelection.checks(*suites)


def is_fast(name: str) -> bool:
    return any(name_matches(name, pattern) for pattern in FAST_FILES)


def landing_state(root: Path) -> dict[str, str]:
    """Every landing CSV (compressed or not) as `system/name` -> `size:mtime_ns`."""
    state = {}
    for system in SYSTEMS:
        folder = root / system
        files = [p for p in folder.iterdir() if p.is_file() and is_csv(p.name)] if folder.is_dir() else []
        for path in sorted(files):
            stat = path.stat()
            state[f"{system}/{path.name}"] = f"{stat.st_size}:{stat.st_mtime_ns}"
    return state


def _first_cursor(context: dg.SensorEvaluationContext, now: dict[str, str]) -> dict[str, str]:
    """With no cursor yet: the files older than the last ingestion this instance recorded count
    as read (a build already loaded them); without any ingestion, nothing does."""
    try:
        event = context.instance.get_latest_materialization_event(dg.AssetKey("raw_marketo__activities"))
    except dg.DagsterInvariantViolationError:  # evaluated without an instance (tests)
        event = None
    if event is None:
        return {}
    loaded_ns = int(event.timestamp * 1e9)
    return {name: stamp for name, stamp in now.items() if int(stamp.split(":")[1]) <= loaded_ns}


def _never_built(context: dg.SensorEvaluationContext) -> bool:
    """Whether no build has made the tables the fast path reads beside its own (activity types)."""
    try:
        key = dg.AssetKey("stg_marketo__activity_types")
        return context.instance.get_latest_materialization_event(key) is None
    except dg.DagsterInvariantViolationError:  # evaluated without an instance (tests)
        return False


def _new_files(context: dg.SensorEvaluationContext, root: Path, fast: bool):
    now = {name: stamp for name, stamp in landing_state(root).items() if is_fast(name) == fast}
    seen = json.loads(context.cursor) if context.cursor else _first_cursor(context, now)
    changed = sorted(name for name, stamp in now.items() if seen.get(name) != stamp)
    context.update_cursor(json.dumps(now, sort_keys=True))
    key = hashlib.sha256(json.dumps({n: now[n] for n in changed}, sort_keys=True).encode()).hexdigest()[:16]
    return changed, key


@dg.sensor(
    name="landing_files",
    target=dg.AssetSelection.all(),
    minimum_interval_seconds=60,
    default_status=STATUS,
    description="Builds everything when files land in the landing directory (but activity extracts "
    "and tracking events, which fresh_activities takes).",
)
def landing_files_sensor(context: dg.SensorEvaluationContext, landing: LandingResource):
    changed, key = _new_files(context, landing.root, fast=False)
    if not changed:
        return dg.SkipReason(f"no new files in {landing.root}")
    return dg.RunRequest(run_key=f"landing-{key}", tags={"blueprint/new_files": str(len(changed))})


@dg.sensor(
    name="fresh_activities",
    target=fast_path_target(),
    # Every pass of Dagster's sensor loop (it runs every 5 s whatever is asked; an interval of 5
    # would skip every other pass whose start drifted a little): a tick only lists the folder.
    minimum_interval_seconds=1,
    default_status=STATUS,
    description="The fast path: new Marketo activity extracts and tracking events are ingested, "
    "rescored and alerted on within the minute, without a full build.",
)
def fresh_activities_sensor(context: dg.SensorEvaluationContext, landing: LandingResource):
    if _never_built(context):  # the fast path rescores on top of a full build; landing_files makes it
        return dg.SkipReason("waiting for the first full build (landing_files)")
    changed, key = _new_files(context, landing.root, fast=True)
    if not changed:
        return dg.SkipReason("no new activity or tracking files")
    return dg.RunRequest(run_key=f"fresh-{key}", tags={"blueprint/new_files": str(len(changed))})
