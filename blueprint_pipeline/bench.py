"""`blueprint bench`: generate data at a scale, build everything on DuckDB, report time and memory.

The build runs as a child process (`blueprint run`), so its wall time and peak memory are its own,
not the generator's. The floor is a bare DuckDB scan of the same landing files: no engine here can
load them faster than DuckDB can read them, so build time / floor says how much the rest costs.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import duckdb
import pandas as pd

from blueprint_pipeline.generator.generate import generate
from blueprint_pipeline.generator.scales import scale_named
from blueprint_pipeline.paths import PROJECT_DIR


@dataclass
class BenchResult:
    scale: str
    seed: int
    generate_seconds: float | None
    landing_bytes: int
    floor_seconds: float
    build_seconds: float
    build_peak_rss_mb: float
    build_exit_code: int
    summary: str
    fresh_activities: int = 0
    fresh_seconds: float | None = None  # new activities file -> scores, stages and snapshots
    fresh_exit_code: int | None = None
    journeys: dict | None = None  # entries run, steps run, sensor tick (with --journeys)

    def render(self) -> str:
        gen = "reused" if self.generate_seconds is None else f"{self.generate_seconds:.1f} s"
        return "\n".join(
            [
                f"bench at scale {self.scale} (seed {self.seed})",
                f"  generate:      {gen}, {self.landing_bytes / 1e9:.2f} GB of landing files",
                f"  floor:         {self.floor_seconds:.1f} s (bare DuckDB scan of every landing file)",
                f"  full build:    {self.build_seconds:.1f} s wall, "
                f"peak memory {self.build_peak_rss_mb:,.0f} MB (exit {self.build_exit_code})",
                f"  build / floor: {self.build_seconds / max(self.floor_seconds, 1e-9):.1f}x",
                *(
                    [
                        f"  fresh scores:  {self.fresh_seconds:.1f} s from a new file of "
                        f"{self.fresh_activities:,} activities to scores, stages and snapshots "
                        f"(exit {self.fresh_exit_code})"
                    ]
                    if self.fresh_seconds is not None
                    else []
                ),
                *(
                    [
                        f"  journeys:      entry run {self.journeys['entry_seconds']:.1f} s "
                        f"({self.journeys['active_enrolments']:,} active enrolments), step run 2 days "
                        f"later {self.journeys['step_seconds']:.1f} s, sensor tick "
                        f"{self.journeys['sensor_tick_ms']:.0f} ms"
                    ]
                    if self.journeys
                    else []
                ),
                "  build summary:",
                *("    " + line for line in self.summary.splitlines()),
            ]
        )


def floor_seconds(landing: Path) -> float:
    """Time for DuckDB to read every landing CSV once, all columns as text."""
    files = sorted(landing.glob("*/*.csv"))
    con = duckdb.connect()
    started = time.monotonic()
    for path in files:
        con.execute("select count(*) from read_csv($p, header = true, all_varchar = true)", {"p": str(path)})
    con.close()
    return time.monotonic() - started


# What a new activities file changes: its raw and staged rows, then everything scored from them
# (scores, stages, snapshots). Identity, audiences and buying groups wait for the next full build.
SCORES_FRESH = (
    "(key:raw_marketo__activities or key:stg_marketo__activities or key:int_person_activities+) "
    "and not group:journeys"
)
FRESH_AT, FRESH_AS_OF = "2026-11-28T00:30:00Z", "2026-11-28T01:00:00Z"  # after every other run
AS_OF = "2026-11-25T00:00:00Z"


def write_fresh_activities(landing: Path, n: int) -> Path:
    """A new Marketo extract: `n` activities of existing leads (the first rows of the first
    extract, with new ids), dated in the hour before the fresh run's as-of time."""
    frame = pd.read_csv(
        landing / "marketo" / "activities_0001.csv", nrows=n, dtype=str, keep_default_na=False
    )
    frame["marketoGUID"] = [str(900_000_000 + i) for i in range(len(frame))]
    frame["activityDate"] = FRESH_AT
    path = landing / "marketo" / "activities_fresh.csv"
    frame.to_csv(path, index=False)
    return path


def _blueprint(*args: str, env: dict) -> tuple[float, subprocess.CompletedProcess]:
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "blueprint_pipeline.cli", *args], env=env, stdout=subprocess.PIPE, text=True
    )
    return time.monotonic() - started, done


JOURNEY_KEYS = (
    "key:journey_enrolments or key:journey_step_log or key:journey_outbox or key:journey_node_counts"
)
BENCH_CONFIG = PROJECT_DIR / "examples" / "bench-config"  # every account in a live journey


def _journeys_bench(where: list[str], env: dict) -> dict:
    """Two live journeys over every account (~100k enrolments): the run that enters them, the run
    two days later that moves them past their waits, and one evaluation of the journey sensor."""
    import dagster as dg

    from blueprint_pipeline.defs.journeys.sensors import journey_steps_sensor

    entry_seconds, entry = _blueprint("run", *where, "--as-of", AS_OF, "--select", JOURNEY_KEYS, env=env)
    later = "2026-11-27T01:00:00Z"
    step_seconds, steps = _blueprint("run", *where, "--as-of", later, "--select", JOURNEY_KEYS, env=env)
    # The instance the runs used: the project's dagster.yaml over the bench's storage folder.
    saved = os.environ.get("BLUEPRINT_DAGSTER_STORAGE")
    os.environ["BLUEPRINT_DAGSTER_STORAGE"] = env["BLUEPRINT_DAGSTER_STORAGE"]
    try:
        with dg.DagsterInstance.from_config(env.get("DAGSTER_HOME") or str(PROJECT_DIR)) as instance:
            started = time.monotonic()
            journey_steps_sensor(dg.build_sensor_context(instance=instance))
            tick_ms = (time.monotonic() - started) * 1000
    finally:
        if saved is None:
            os.environ.pop("BLUEPRINT_DAGSTER_STORAGE")
        else:
            os.environ["BLUEPRINT_DAGSTER_STORAGE"] = saved
    active = next((line for line in entry.stdout.splitlines() if "active enrolments" in line), "")
    count = int(active.split("running, ")[1].split(" active")[0].replace(",", "")) if active else 0
    return {
        "entry_seconds": entry_seconds, "step_seconds": step_seconds, "sensor_tick_ms": tick_ms,
        "active_enrolments": count, "exit_codes": [entry.returncode, steps.returncode],
        "summaries": [entry.stdout, steps.stdout],
    }  # fmt: skip


def run_bench(
    scale: str, seed: int, workdir: Path, reuse: bool = False, fresh: int = 0, journeys: bool = False
) -> BenchResult:
    scale_named(scale)  # fail early on a bad name
    landing = workdir / f"landing-{scale}-{seed}"
    marker = landing / ".complete"
    gen_seconds = None
    if not (reuse and marker.exists()):
        started = time.monotonic()
        generate(
            landing,
            scale_named(scale),
            seed,
            force=True,
            report=lambda line: print(f"  {line}", file=sys.stderr),
        )
        gen_seconds = time.monotonic() - started
        marker.write_text("ok")
    (landing / "marketo" / "activities_fresh.csv").unlink(missing_ok=True)
    size = sum(p.stat().st_size for p in landing.glob("*/*.csv"))
    floor = floor_seconds(landing)
    warehouse = workdir / f"bench-{scale}.duckdb"
    warehouse.unlink(missing_ok=True)
    env = {**os.environ, "BLUEPRINT_DAGSTER_STORAGE": str(workdir / "dagster")}
    where = ["--landing", str(landing), "--warehouse", f"duckdb:///{warehouse}"]
    extra = []
    if journeys:  # every later run uses the same config; the journeys are timed on their own below
        where += ["--config", str(BENCH_CONFIG)]
        extra = ["--select", f"not ({JOURNEY_KEYS} or key:journey_deliveries)"]
    build, done = _blueprint("run", *where, "--as-of", AS_OF, *extra, env=env)
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    result = BenchResult(scale, seed, gen_seconds, size, floor, build, peak_mb, done.returncode, done.stdout)
    if journeys and done.returncode == 0:
        result.journeys = _journeys_bench(where, env)
        result.summary += "\njourney runs:\n" + "\n".join(result.journeys.pop("summaries"))
    if fresh and done.returncode == 0:
        write_fresh_activities(landing, fresh)
        result.fresh_seconds, again = _blueprint(
            "run", *where, "--as-of", FRESH_AS_OF, "--select", SCORES_FRESH, env=env
        )
        result.fresh_activities, result.fresh_exit_code = fresh, again.returncode
        result.summary += "\nfresh scores run:\n" + again.stdout
    (workdir / f"bench-{scale}.json").write_text(json.dumps(asdict(result), indent=2))
    return result
