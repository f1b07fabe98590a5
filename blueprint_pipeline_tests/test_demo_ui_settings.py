"""After `make demo`, `make ui` shows the demo: the demo records its landing,
warehouse and config, with the sensors and schedules on, in a file `make ui` reads; a setting the
user gives wins over the file."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from blueprint_pipeline.core.paths import PROJECT_DIR

# Printed by the definitions the UI would load: each sensor's and schedule's default status, the journeys.
PROBE = """
import json
from blueprint_pipeline.definitions import build_definitions
from blueprint_pipeline.resources import BlueprintConfigResource
defs = build_definitions()
print(json.dumps({
    "automation": sorted({item.default_status.value for item in [*defs.sensors, *defs.schedules]}),
    "journeys": sorted(BlueprintConfigResource().loaded.config.journeys.journeys),
}))
"""


def _make(*args: str, env: dict) -> str:
    done = subprocess.run(
        ["make", "-s", "-C", str(PROJECT_DIR), *args], capture_output=True, text=True, env=env
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def _what_the_ui_loads(settings, env: dict) -> dict:
    script = f". {settings} && exec {sys.executable} -c '{PROBE}'"
    done = subprocess.run(["sh", "-c", script], capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_ui_after_the_demo_has_its_config_and_runs_its_sensors(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BLUEPRINT_", "DAGSTER_"))}
    settings = tmp_path / "demo.env"
    _make("demo-settings", f"DEMO_SETTINGS={settings}", env=env)
    # `make ui` reads the file when it exists, and only then.
    assert f". {settings} && " in _make("-n", "ui", f"DEMO_SETTINGS={settings}", env=env)
    assert ". " not in _make("-n", "ui", f"DEMO_SETTINGS={tmp_path / 'none.env'}", env=env)

    loaded = _what_the_ui_loads(settings, env)
    assert loaded == {"automation": ["RUNNING"], "journeys": ["platform_nurture"]}  # the demo's journey

    # Yours win: automation off and the shipped defaults' config (an empty directory).
    mine = env | {"BLUEPRINT_AUTOMATION": "off", "BLUEPRINT_CONFIG_DIR": str(tmp_path)}
    assert _what_the_ui_loads(settings, mine) == {"automation": ["STOPPED"], "journeys": []}
