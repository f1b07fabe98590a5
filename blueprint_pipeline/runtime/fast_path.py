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
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
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
    # Where the time went, each as seconds after the file landed (from the instance's records):
    # the sensor's run created, the run started, the alert's steps ended; empty when no run was found.
    timeline: dict[str, float] = field(default_factory=dict)
    steps: dict[str, tuple[float, float]] = field(default_factory=dict)  # step -> its start and end

    def breakdown(self) -> str:
        if not self.timeline:
            return "no run of the fast path found in the instance"
        marks = ", ".join(f"{name} {at:.1f} s" for name, at in self.timeline.items())
        took = {step: end - start for step, (start, end) in self.steps.items()}
        longest = sorted(took.items(), key=lambda item: -item[1])[:6]
        return f"after landing: {marks}; longest steps: " + ", ".join(f"{k} {v:.1f} s" for k, v in longest)


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


@contextmanager
def project_instance(storage: Path) -> Iterator[dg.DagsterInstance]:
    """The project's Dagster instance (its dagster.yaml) over a storage folder, as a bench's runs
    used it: dagster.yaml reads the folder from BLUEPRINT_DAGSTER_STORAGE while it loads."""
    saved = os.environ.get("BLUEPRINT_DAGSTER_STORAGE")
    os.environ["BLUEPRINT_DAGSTER_STORAGE"] = str(storage)
    try:
        with dg.DagsterInstance.from_config(str(PROJECT_DIR)) as instance:
            yield instance
    finally:
        if saved is None:
            os.environ.pop("BLUEPRINT_DAGSTER_STORAGE")
        else:
            os.environ["BLUEPRINT_DAGSTER_STORAGE"] = saved


def run_timeline(storage: Path, landed: float) -> tuple[dict[str, float], dict[str, tuple[float, float]]]:
    """The fast path's run as the instance recorded it, in seconds after `landed` (the file's
    landing, epoch seconds): when the sensor created it, when it started, when the alert and
    delivery steps ended, and each step's start and end."""
    with project_instance(storage) as instance:
        records = instance.get_run_records(
            dg.RunsFilter(tags={"dagster/sensor_name": "fresh_activities"}), limit=1
        )
        if not records or records[0].create_timestamp.timestamp() < landed:
            return {}, {}
        record = records[0]
        stats = instance.get_run_stats(record.dagster_run.run_id)
        steps = instance.get_run_step_stats(record.dagster_run.run_id)
    timeline = {"run created": record.create_timestamp.timestamp() - landed}
    if stats.launch_time:
        timeline["launched"] = stats.launch_time - landed
    if stats.start_time:
        timeline["started"] = stats.start_time - landed
    ends = {s.step_key: s.end_time for s in steps if s.end_time}
    for step in ("sales_alerts", "journey_deliveries"):
        if step in ends:
            timeline[f"{step} done"] = ends[step] - landed
    if stats.end_time:
        timeline["run ended"] = stats.end_time - landed
    spans = {
        s.step_key: (s.start_time - landed, s.end_time - landed) for s in steps if s.end_time and s.start_time
    }
    return timeline, spans


def _finished(storage: Path, landed: float, wait: float = 180) -> tuple[dict, dict]:
    """The run's timeline once it has ended (the steps after the alert's may still be running)."""
    deadline = time.monotonic() + wait
    while True:
        timeline, steps = run_timeline(storage, landed)
        if "run ended" in timeline or time.monotonic() > deadline:
            return timeline, steps
        time.sleep(1)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def measure(landing: Path, warehouse_file: Path, storage: Path, mailbox: Path, config: Path,
            timeout: float = 300, settle: float = 20, url: str | None = None,
            env: dict[str, str] | None = None) -> FastPath:  # fmt: skip
    """Starts dagster dev over the built warehouse, waits `settle` seconds for the sensors' first
    ticks (they take the files already built as read), lands the probe file and waits for the alert.
    `env`: the environment of the build (its output folders and keys), os.environ by default."""
    group, lead = pick_group(warehouse_file)
    env = {
        **(os.environ if env is None else env),
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
        started, landed = time.monotonic(), time.time()
        while time.monotonic() - started < timeout:
            for path in set(mailbox.glob("*.eml")) - before:
                if "Sales alert:" in path.read_text(errors="replace") and PROBE_RULE in path.read_text():
                    seconds = time.monotonic() - started
                    return FastPath(seconds, group, lead, *_finished(storage, landed))
            time.sleep(0.5)
        return FastPath(None, group, lead, *run_timeline(storage, landed))
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=60)
