"""The fast path, measured with real processes: after a build, `dagster dev` runs with the
project's sensors on; an activities file lands that pushes one buying group over a score
threshold; the clock stops when the sales alert reaches the mailbox folder (queued in the outbox
and delivered). Used by `blueprint bench --fast-path` and by its end-to-end test."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from blueprint_pipeline.core.paths import PROJECT_DIR

# dagster dev ignores SIGTERM inherited as ignored; reset the handlers before exec, or it never stops.
WRAPPER = (
    "import os,signal,sys; signal.signal(signal.SIGINT, signal.SIG_DFL); "
    "signal.signal(signal.SIGTERM, signal.SIG_DFL); os.execv(sys.argv[1], sys.argv[1:])"
)
PROBE_RULE = "fast_path_probe"
ALERTS_YAML = f"rules:\n  {PROBE_RULE}: {{type: score_threshold, above: 1, rearm_below: 0.5}}\n"


@dataclass
class FastPath:
    seconds: float | None  # file landed -> alert in the mailbox; None: not within the timeout
    group: str
    lead_id: str


def probe_config(folder: Path) -> Path:
    """A config directory whose only addition is a low score-threshold rule (the probe)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "alerts.yaml").write_text(ALERTS_YAML)
    return folder


def pick_group(warehouse_file: Path) -> tuple[str, str]:
    """A buying group under the probe's re-arm score with a member who has a Marketo lead."""
    con = duckdb.connect(str(warehouse_file), read_only=True)
    try:
        row = con.execute(
            "select e.buying_group_id, split_part(r.source_key, '@', 1) from buying_group_engagement as e "
            "inner join buying_group_members as m on m.buying_group_id = e.buying_group_id "
            "inner join person_registry as r on r.person_id = m.person_id "
            "where e.score < 0.5 and r.source_key like '%@prod.Marketo' order by e.buying_group_id limit 1"
        ).fetchone()
    finally:
        con.close()
    if row is None:
        raise RuntimeError("no buying group with a score under 0.5 and a Marketo lead to probe with")
    return row[0], row[1]


def land_activities(landing: Path, lead_id: str) -> Path:
    """Five form fills of the lead, now, landed atomically (written aside, then renamed)."""
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    stamp = int(time.time())
    rows = [f"fp{stamp}{i},{lead_id},{now},2,1000,1,Probe form,{{}}" for i in range(5)]
    header = (
        "marketoGUID,leadId,activityDate,activityTypeId,campaignId,primaryAttributeValueId,"
        "primaryAttributeValue,attributes\n"
    )
    folder = landing / "marketo"
    aside = folder / f".activities_fastpath_{stamp}.tmp"
    aside.write_text(header + "\n".join(rows) + "\n")
    target = folder / f"activities_fastpath_{stamp}.csv"
    os.replace(aside, target)
    return target


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def measure(landing: Path, warehouse_file: Path, storage: Path, mailbox: Path, config: Path,
            timeout: float = 300, settle: float = 20, url: str | None = None) -> FastPath:  # fmt: skip
    """Starts dagster dev over the built warehouse, waits `settle` seconds for the sensors' first
    ticks (they take the files already built as read), lands the probe file and waits for the alert."""
    group, lead = pick_group(warehouse_file)
    env = {
        **os.environ,
        "DAGSTER_HOME": str(PROJECT_DIR),
        "BLUEPRINT_DAGSTER_STORAGE": str(storage),
        "BLUEPRINT_LANDING_DIR": str(landing),
        "BLUEPRINT_WAREHOUSE_URL": url or f"duckdb:///{warehouse_file}",  # url: with its settings
        "BLUEPRINT_CONFIG_DIR": str(config),
        "BLUEPRINT_MAILBOX_DIR": str(mailbox),
        "BLUEPRINT_AUTOMATION": "on",
    }
    dagster = str(Path(sys.executable).parent / "dagster")
    command = [sys.executable, "-c", WRAPPER, dagster, "dev", "-w", "workspace.yaml", "-h", "127.0.0.1"]
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "start_new_session": True}
    process = subprocess.Popen([*command, "-p", str(_free_port())], cwd=PROJECT_DIR, env=env, **quiet)
    try:
        time.sleep(settle)
        before = set(mailbox.glob("*.eml"))
        land_activities(landing, lead)
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            for path in set(mailbox.glob("*.eml")) - before:
                if "Sales alert:" in path.read_text(errors="replace") and PROBE_RULE in path.read_text():
                    return FastPath(time.monotonic() - started, group, lead)
            time.sleep(0.5)
        return FastPath(None, group, lead)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=60)
