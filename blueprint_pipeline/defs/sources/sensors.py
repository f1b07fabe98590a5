"""Start a build when new or changed files appear in the landing directory.

The sensor decides from its own cursor (file name -> size and modification time), never by
opening the warehouse: on DuckDB the warehouse may be locked by a running build. The file ledger
in the warehouse still decides what is ingested, so a file seen twice is never loaded twice.
"""

import hashlib
import json
from pathlib import Path

import dagster as dg

from blueprint_pipeline.resources import LandingResource, automation_on

SYSTEMS = ("salesforce", "marketo", "linkedin", "tracking")


def landing_state(root: Path) -> dict[str, str]:
    """Every landing CSV as `system/name` -> `size:mtime_ns`."""
    state = {}
    for system in SYSTEMS:
        folder = root / system
        files = (
            [p for p in folder.iterdir() if p.is_file() and p.suffix.lower() == ".csv"]
            if folder.is_dir()
            else []
        )
        for path in sorted(files):
            stat = path.stat()
            state[f"{system}/{path.name}"] = f"{stat.st_size}:{stat.st_mtime_ns}"
    return state


@dg.sensor(
    name="landing_files",
    target=dg.AssetSelection.all(),
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING if automation_on() else dg.DefaultSensorStatus.STOPPED,
    description="Builds everything when files land in the landing directory (turn on in the UI).",
)
def landing_files_sensor(context: dg.SensorEvaluationContext, landing: LandingResource):
    seen = json.loads(context.cursor) if context.cursor else {}
    now = landing_state(landing.root)
    changed = sorted(name for name, stamp in now.items() if seen.get(name) != stamp)
    if not changed:
        return dg.SkipReason(f"no new files in {landing.root}")
    context.update_cursor(json.dumps(now, sort_keys=True))
    key = hashlib.sha256(json.dumps({n: now[n] for n in changed}, sort_keys=True).encode()).hexdigest()[:16]
    return dg.RunRequest(run_key=f"landing-{key}", tags={"blueprint/new_files": str(len(changed))})
