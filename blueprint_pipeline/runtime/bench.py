"""`blueprint bench`: generate data at a scale, build everything on DuckDB, report time and memory.
With --identity, score person matching against labelled data instead (run_identity_bench).

The build runs as a child process (`blueprint run`), so its wall time and peak memory are its own,
not the generator's. The floor is a bare DuckDB scan of the same landing files: no engine here can
load them faster than DuckDB can read them, so build time / floor says how much the rest costs.
"""

from __future__ import annotations

import json
import os
import resource
import secrets
import shutil
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pandas as pd

from blueprint_pipeline.core.paths import PROJECT_DIR
from blueprint_pipeline.core.selections import RETRAINING, SCORING_RULES
from blueprint_pipeline.generator.dirty import TRUTH_FILE
from blueprint_pipeline.generator.febrl import FEBRL_SETS, write_febrl_landing
from blueprint_pipeline.generator.generate import generate
from blueprint_pipeline.generator.scales import scale_named
from blueprint_pipeline.ingestion.landing import is_csv
from blueprint_pipeline.resources import (
    ACTIVATION_DIR_ENV,
    MAILBOX_DIR_ENV,
    MODELS_DIR_ENV,
    REPORTS_DIR_ENV,
    TRACKING_SECRET_ENV,
)
from blueprint_pipeline.runtime.fast_path import measure, probe_config, project_instance
from blueprint_pipeline.runtime.identity_scores import PairwiseScores, align, copy_recall, pairwise_scores
from blueprint_pipeline.warehouse import warehouse_from_url
from blueprint_pipeline.warehouse.duckdb import DEFAULT_MEMORY_LIMIT


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
    fast_path_seconds: float | None = None  # activities file landed -> sales alert in the mailbox
    fast_path_done: bool = False
    fast_path_breakdown: str = ""
    fresh_at: str = ""  # when the fresh run's activities are dated
    new_persons: int = 0
    new_persons_seconds: float | None = None  # new leads file -> the identity layer rebuilt
    new_persons_identity_seconds: float | None = None  # that run's identity layer, from its summary
    new_persons_exit_code: int | None = None
    new_persons_scoring: dict | None = None  # person_match_scoring after it: mode, pairs scored
    memory_limit: str = DEFAULT_MEMORY_LIMIT  # the warehouse's DuckDB bound in the builds
    steps: list[dict] | None = None  # the full build's steps: seconds and memory (runtime/memory.py)
    new_persons_steps: list[dict] | None = None  # the same for the new persons run
    warehouse_bytes: int = 0  # the DuckDB file after the full build

    @property
    def layer_seconds(self) -> dict[str, float]:
        """The full build's step time per layer, read from its summary."""
        return layer_seconds(self.summary)

    def render(self) -> str:
        gen = "reused" if self.generate_seconds is None else f"{self.generate_seconds:.1f} s"
        return "\n".join(
            [
                f"bench at scale {self.scale} (seed {self.seed})",
                f"  generate:      {gen}, {self.landing_bytes / 1e9:.2f} GB of landing files",
                f"  disk:          {self.landing_bytes / 1e9:.2f} GB of landing files, warehouse "
                f"{self.warehouse_bytes / 1e9:.2f} GB after the full build",
                f"  floor:         {self.floor_seconds:.1f} s (bare DuckDB scan of every landing file, "
                f"fastest of {FLOOR_SCANS})",
                f"  full build:    {self.build_seconds:.1f} s wall, "
                f"peak memory {self.build_peak_rss_mb:,.0f} MB (exit {self.build_exit_code})",
                f"  build / floor: {self.build_seconds / max(self.floor_seconds, 1e-9):.1f}x",
                "  per layer:     " + ", ".join(f"{k} {v:.1f} s" for k, v in self.layer_seconds.items()),
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
                        f"  new persons:   {self.new_persons_seconds:.1f} s wall, identity layer "
                        f"{self.new_persons_identity_seconds or 0:.1f} s, from a new file of "
                        f"{self.new_persons:,} Marketo leads (exit {self.new_persons_exit_code}); "
                        f"matching: {self.new_persons_scoring}"
                    ]
                    if self.new_persons_seconds is not None
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
                *(
                    [
                        "  fast path:     "
                        + (
                            f"{self.fast_path_seconds:.1f} s from an activities file landing to its "
                            "sales alert in the mailbox, sensors running"
                            if self.fast_path_seconds is not None
                            else "no alert within the timeout"
                        )
                    ]
                    + ([f"    {self.fast_path_breakdown}"] if self.fast_path_breakdown else [])
                    if self.fast_path_done
                    else []
                ),
                *step_lines("full build", self.steps),
                *step_lines("new persons run", self.new_persons_steps),
                "  build summary:",
                *("    " + line for line in self.summary.splitlines()),
            ]
        )


def step_lines(title: str, steps: list[dict] | None, most: int = 12) -> list[str]:
    """The slowest steps with their memory peaks (GB): resident, the engine's buffer, outside it."""
    if not steps:
        return []
    gb = 1024**3
    lines = [f"  {title}, slowest steps: seconds | peak resident | engine buffer | outside the engine (GB)"]
    for row in steps[:most]:
        memory = (
            f"{row['resident'] / gb:6.2f} | {row['engine'] / gb:6.2f} | {row['outside_engine'] / gb:6.2f}"
            if "resident" in row
            else "(not sampled)"
        )
        lines.append(f"    {row['step'][:44]:<44} {row['seconds']:8.1f} | {memory}")
    return lines


def layer_seconds(summary: str) -> dict[str, float]:
    """A build's step time per layer, read from its summary."""
    line = next((line for line in summary.splitlines() if "seconds per layer:" in line), "")
    pairs = [part.rsplit(" ", 1) for part in line.split(":", 1)[-1].split(",") if part.strip()]
    return {name.strip(): float(secs) for name, secs in pairs}


# Disk per activity of the scale, measured at the large scale (20M; 2026-12-06): the landing files
# as CSV (3.07 GB) or gzip-compressed (0.58 GB), and the DuckDB warehouse after the full build
# (4.10 GB). The other tables grow with the persons, which grow with the activities at every scale.
LANDING_BYTES_PER_ACTIVITY = {False: 155, True: 29}
WAREHOUSE_BYTES_PER_ACTIVITY = 205
MARGIN = 1.25  # the build's temporary files (DuckDB spills beyond its memory_limit) and growth


def disk_needed(scale: str, compress: bool, generating: bool) -> tuple[int, int]:
    """(landing, warehouse) bytes a bench at `scale` writes; no landing bytes when it reuses them."""
    activities = scale_named(scale).activities
    landing = LANDING_BYTES_PER_ACTIVITY[compress] * activities if generating else 0
    return landing, WAREHOUSE_BYTES_PER_ACTIVITY * activities


def check_disk(workdir: Path, scale: str, landing_dir: Path, compress: bool, generating: bool) -> None:
    """Refuse a bench the disk cannot hold, before an hour of work fails on a full disk. What the
    bench replaces (an earlier bench's warehouse, and its landing files when generating anew)
    counts as free."""
    landing, warehouse = disk_needed(scale, compress, generating)
    workdir.mkdir(parents=True, exist_ok=True)
    replaced = [workdir / f"bench-{scale}.duckdb", workdir / f"bench-{scale}.duckdb.wal"]
    replaced += [p for p in landing_dir.rglob("*") if p.is_file()] if generating else []
    free = shutil.disk_usage(workdir).free + sum(p.stat().st_size for p in replaced if p.is_file())
    if free < (landing + warehouse) * MARGIN:
        hint = "" if compress or not generating else " (--compress writes the landing files a fifth the size)"
        raise ValueError(
            f"the {scale} bench needs about {(landing + warehouse) / 1e9:.0f} GB in {workdir}: "
            f"{landing / 1e9:.0f} GB of landing files, {warehouse / 1e9:.0f} GB of warehouse; "
            f"{free / 1e9:.0f} GB free, counting what it replaces{hint}"
        )


def landing_csvs(landing: Path) -> list[Path]:
    return sorted(p for p in landing.glob("*/*") if p.is_file() and is_csv(p.name))


def extract(landing: Path, relative: str) -> Path:
    """A generated file, compressed (`leads.csv.gz`) or not."""
    plain = landing / relative
    return plain if plain.exists() else plain.with_name(plain.name + ".gz")


# The floor is the fastest of a few scans: the first may read the files from disk (a reused
# landing not read for hours) or from the page cache (just generated), which moved the large
# floor between 4.9 and 8.3 s on the same files and code (docs/benchmarks.md).
FLOOR_SCANS = 3


def floor_seconds(landing: Path, scans: int = FLOOR_SCANS) -> float:
    """Time for DuckDB to read every landing CSV once (compressed ones decompressed), all columns
    as text: the fastest of `scans` scans."""
    files = landing_csvs(landing)
    con = duckdb.connect()
    times = []
    for _ in range(scans):
        started = time.monotonic()
        for path in files:
            con.execute(
                "select count(*) from read_csv($p, header = true, all_varchar = true)", {"p": str(path)}
            )
        times.append(time.monotonic() - started)
    con.close()
    return min(times)


# What a new activities file changes: its raw and staged rows, then everything scored from them
# (scores, stages, snapshots). Identity, audiences and buying groups wait for the next full build.
SCORES_FRESH = (  # the fast path's selection for an activities file (core/selections.py)
    f"(key:raw_marketo__activities or key:stg_marketo__activities or {SCORING_RULES} "
    f"or key:int_person_activities+) and not group:journeys and not ({RETRAINING})"
)
AS_OF = "2026-11-25T00:00:00Z"  # the full build's; the generated data ends there


def schedule(after: datetime) -> dict[str, str]:
    """As-of times of the runs after the full build. They start after `after` (the fast path's run
    happens at the real time, and histories only move forward): the journeys' entry run, their step
    run two days later, then the fresh-scores run and its activities."""
    start = after.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    at = {
        "entry": start,
        "step": start + timedelta(days=2),
        "fresh_at": start + timedelta(days=2, hours=1, minutes=30),
        "fresh": start + timedelta(days=2, hours=2),
    }
    return {name: when.strftime("%Y-%m-%dT%H:%M:%SZ") for name, when in at.items()}


def write_fresh_activities(landing: Path, n: int, at: str) -> Path:
    """A new Marketo extract: `n` activities of existing leads (the first rows of the first
    extract, with new ids), dated in the hour before the fresh run's as-of time."""
    frame = pd.read_csv(
        extract(landing, "marketo/activities_0001.csv"), nrows=n, dtype=str, keep_default_na=False
    )
    frame["marketoGUID"] = [str(900_000_000 + i) for i in range(len(frame))]
    frame["activityDate"] = at
    path = landing / "marketo" / "activities_fresh.csv"
    frame.to_csv(path, index=False)
    return path


# With --new-persons: the identity layer and what it is built from (the other layers do not move
# its figures), then the run after a new leads file: its raw and staged rows and the identity
# assets built from them, what the automation would run (unified accounts, their aliases and the
# identity seeds do not read leads).
IDENTITY_AND_UPSTREAM = "+group:identity"
NEW_PERSONS_RUN = (
    "key:raw_marketo__leads+ and (key:raw_marketo__leads or key:stg_marketo__leads or group:identity)"
)
NEW_LEADS_FILE = "leads_new.csv"


def write_new_persons(landing: Path, n: int, at: str) -> Path:
    """A new Marketo leads file of `n` persons: the first rows of the leads extract with new ids,
    new email addresses (`new<i>.` before the user part) and no CRM ids, dated `at`. Their names,
    companies and titles are existing persons': the model joins some of them to those."""
    frame = pd.read_csv(extract(landing, "marketo/leads.csv"), nrows=n, dtype=str, keep_default_na=False)
    frame["id"] = [str(900_000_000 + i) for i in range(len(frame))]
    frame["email"] = [f"new{i}.{email}" if email else "" for i, email in enumerate(frame["email"])]
    for column in ("sfdcAccountId", "sfdcContactId", "sfdcLeadId"):
        if column in frame:
            frame[column] = ""
    frame["updatedAt"] = at
    path = landing / "marketo" / NEW_LEADS_FILE
    frame.to_csv(path, index=False)
    return path


def bench_env(workdir: Path) -> dict[str, str]:
    """The bench's builds keep everything they write in `workdir`: their run storage, every output
    folder (mail, activation files, reports, models) and the tracking links' signing key, so a
    bench never overwrites the demo's dashboard and two benches never share a file."""
    folders = {
        "BLUEPRINT_DAGSTER_STORAGE": "dagster",
        MAILBOX_DIR_ENV: "mailbox",
        ACTIVATION_DIR_ENV: "activation",
        REPORTS_DIR_ENV: "reports",
        MODELS_DIR_ENV: "models",
    }
    secret = workdir / "tracking_secret"  # its own signing key too, not the checkout's data/ one
    if not secret.exists():
        workdir.mkdir(parents=True, exist_ok=True)
        secret.write_text(secrets.token_urlsafe(32))
    return {
        **os.environ,
        **{name: str(workdir / folder) for name, folder in folders.items()},
        TRACKING_SECRET_ENV: secret.read_text().strip(),
    }


def _blueprint(*args: str, env: dict) -> tuple[float, subprocess.CompletedProcess]:
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "blueprint_pipeline.runtime.cli", *args],
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    return time.monotonic() - started, done


def _steps(path: Path) -> list[dict] | None:
    """A run's --steps-json table (None when the run wrote none: it failed before its steps)."""
    if not path.exists():
        return None
    steps = json.loads(path.read_text())["steps"]
    path.unlink()
    return steps


JOURNEY_KEYS = "tag:journey_run"  # every table of one journey run (defs/journeys/assets.py)
BENCH_CONFIG = PROJECT_DIR / "examples" / "bench-config"  # every account in a live journey


def _journeys_bench(where: list[str], env: dict, times: dict[str, str]) -> dict:
    """Two live journeys over every account (~100k enrolments): the run that enters them, the run
    two days later that moves them past their waits, and one evaluation of the journey sensor."""
    import dagster as dg

    from blueprint_pipeline.definitions import build_definitions

    journey_steps_sensor = build_definitions().get_sensor_def("journey_steps")

    entry_seconds, entry = _blueprint(
        "run", *where, "--as-of", times["entry"], "--select", JOURNEY_KEYS, env=env
    )
    step_seconds, steps = _blueprint(
        "run", *where, "--as-of", times["step"], "--select", JOURNEY_KEYS, env=env
    )
    with project_instance(Path(env["BLUEPRINT_DAGSTER_STORAGE"])) as instance:  # the one the runs used
        started = time.monotonic()
        journey_steps_sensor(dg.build_sensor_context(instance=instance))
        tick_ms = (time.monotonic() - started) * 1000
    active = next((line for line in entry.stdout.splitlines() if "active enrolments" in line), "")
    count = int(active.split("running, ")[1].split(" active")[0].replace(",", "")) if active else 0
    return {
        "entry_seconds": entry_seconds, "step_seconds": step_seconds, "sensor_tick_ms": tick_ms,
        "active_enrolments": count, "exit_codes": [entry.returncode, steps.returncode],
        "summaries": [entry.stdout, steps.stdout],
    }  # fmt: skip


def landing_folder(workdir: Path, scale: str, seed: int, compress: bool = False) -> Path:
    return workdir / f"landing-{scale}-{seed}{'-gz' if compress else ''}"


def prepare_landing(
    workdir: Path, scale: str, seed: int, reuse: bool, compress: bool = False
) -> tuple[Path, float | None]:
    """The bench's landing files: generated anew (seconds taken), or an earlier bench's when
    `reuse` finds them complete (None), less the files a bench's later runs added."""
    landing = landing_folder(workdir, scale, seed, compress)
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
            compress=compress,
        )
        gen_seconds = time.monotonic() - started
        marker.write_text("ok")
    (landing / "marketo" / "activities_fresh.csv").unlink(missing_ok=True)
    (landing / "marketo" / NEW_LEADS_FILE).unlink(missing_ok=True)
    return landing, gen_seconds


def run_bench(
    scale: str,
    seed: int,
    workdir: Path,
    reuse: bool = False,
    fresh: int = 0,
    journeys: bool = False,
    fast_path: bool = False,
    new_persons: int = 0,
    compress: bool = False,
    memory_limit: str | None = None,
) -> BenchResult:
    scale_named(scale)  # fail early on a bad name
    bound = f"?memory_limit={memory_limit}" if memory_limit else ""
    checked = warehouse_from_url(f"duckdb:///{workdir}/bench-{scale}.duckdb{bound}")  # before generating
    if new_persons and (fresh or journeys or fast_path):
        raise ValueError(
            "--new-persons times the identity layer alone: not with --fresh, --journeys or --fast-path"
        )
    landing = landing_folder(workdir, scale, seed, compress)
    check_disk(workdir, scale, landing, compress, not (reuse and (landing / ".complete").exists()))
    landing, gen_seconds = prepare_landing(workdir, scale, seed, reuse, compress)
    size = sum(p.stat().st_size for p in landing_csvs(landing))
    floor = floor_seconds(landing)
    warehouse = Path(checked.path)
    warehouse.unlink(missing_ok=True)
    env = bench_env(workdir)
    where = ["--landing", str(landing), "--warehouse", checked.display_url]
    extra = []
    config = workdir / "config"  # the bench's config: journeys over every account, the fast-path probe
    shutil.rmtree(config, ignore_errors=True)
    if journeys:
        shutil.copytree(BENCH_CONFIG, config)
    probe_config(config) if fast_path else config.mkdir(parents=True, exist_ok=True)
    where += ["--config", str(config)]
    if journeys:  # the journeys are timed on their own below, so the build leaves out what reads
        # their tables too (the write-back, two KPIs, the dashboard, retention): a missing input fails
        extra = ["--select", f"not ({JOURNEY_KEYS} or key:journey_deliveries)+"]
    if new_persons:
        extra = ["--select", IDENTITY_AND_UPSTREAM]
    steps_file = workdir / f"steps-{scale}.json"
    build, done = _blueprint(
        "run", *where, "--as-of", AS_OF, *extra, "--steps-json", str(steps_file), env=env
    )
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    result = BenchResult(scale, seed, gen_seconds, size, floor, build, peak_mb, done.returncode, done.stdout)
    result.memory_limit = checked.memory_limit
    result.warehouse_bytes = warehouse.stat().st_size if warehouse.exists() else 0
    result.steps = _steps(steps_file)
    if fast_path and done.returncode == 0:  # first: its run is at the real time
        (landing / "marketo").mkdir(exist_ok=True)
        trial = measure(
            landing,
            warehouse,
            workdir / "dagster",
            workdir / "mailbox",
            config,
            url=checked.display_url,
            env=env,
        )  # its run writes where the build wrote (models, activation files), as the build did
        result.fast_path_seconds, result.fast_path_done = trial.seconds, True
        result.fast_path_breakdown = trial.breakdown()
        for leftover in (landing / "marketo").glob("activities_fastpath_*.csv"):
            leftover.unlink()  # the probe's file is not part of the generated data
    times = schedule(max(datetime.now(UTC).replace(tzinfo=None), datetime(2026, 11, 25)))
    result.fresh_at = times["fresh_at"]
    if journeys and done.returncode == 0:
        result.journeys = _journeys_bench(where, env, times)
        result.summary += "\njourney runs:\n" + "\n".join(result.journeys.pop("summaries"))
    if fresh and done.returncode == 0:
        write_fresh_activities(landing, fresh, times["fresh_at"])
        result.fresh_seconds, again = _blueprint(
            "run", *where, "--as-of", times["fresh"], "--select", SCORES_FRESH, env=env
        )
        result.fresh_activities, result.fresh_exit_code = fresh, again.returncode
        result.summary += "\nfresh scores run:\n" + again.stdout
    if new_persons and done.returncode == 0:
        write_new_persons(landing, new_persons, times["fresh_at"])
        result.new_persons_seconds, again = _blueprint(
            "run", *where, "--as-of", times["fresh"], "--select", NEW_PERSONS_RUN,
            "--steps-json", str(steps_file), env=env,
        )  # fmt: skip
        result.new_persons_steps = _steps(steps_file)
        result.new_persons, result.new_persons_exit_code = new_persons, again.returncode
        result.new_persons_identity_seconds = layer_seconds(again.stdout).get("identity")
        result.summary += "\nnew persons run:\n" + again.stdout
        if again.returncode == 0:
            scoring = warehouse_from_url(f"duckdb:///{warehouse}").fetch_df(
                "select mode, reason, records_new, pairs_kept, pairs_scored from person_match_scoring"
            )
            result.new_persons_scoring = scoring.iloc[0].to_dict() if len(scoring) else None
    (workdir / f"bench-{scale}.json").write_text(
        json.dumps(asdict(result) | {"layer_seconds": result.layer_seconds}, indent=2)
    )
    return result


# `blueprint bench --identity`: person matching scored against labelled data. The build runs
# the project's own assets up to unified persons (everything they are built from) and nothing
# else; the predicted person of each source record is its person_id in person_registry.
IDENTITY_SELECT = "*unified_persons"
DIRTY = "dirty-duplicates"
LABELLED_SETS = (DIRTY, *FEBRL_SETS)


@dataclass
class IdentityBenchResult:
    labelled: str
    scale: str | None  # the dirty sample's scale; None for a fixed external set
    seed: int
    build_seconds: float
    build_exit_code: int
    summary: str
    scores: PairwiseScores | None = None
    missing: int = 0  # truth records not in person_registry (quarantined, dropped)
    by_defect: pd.DataFrame | None = None

    def render(self) -> str:
        what = f"{self.labelled} at scale {self.scale}" if self.scale else self.labelled
        lines = [
            f"identity bench on {what} (seed {self.seed})",
            f"  identity build: {self.build_seconds:.1f} s wall (exit {self.build_exit_code}), "
            f"assets {IDENTITY_SELECT}",
        ]
        if self.scores is None:
            return "\n".join(
                [*lines, "  no scores: the build failed", *("    " + s for s in self.summary.splitlines())]
            )
        lines.append("  pairwise:       " + self.scores.render())
        if self.missing:
            lines.append(
                f"  {self.missing:,} labelled records are not in person_registry (each counted alone)"
            )
        if self.by_defect is not None and len(self.by_defect) > 1:
            lines.append("  copies joined to their person's first record, per defect:")
            lines += [
                f"    {defect:<15} {row.joined_share:6.1%} of {int(row.copies):,}"
                for defect, row in self.by_defect.iterrows()
            ]
        return "\n".join(lines)


def write_labelled_landing(labelled: str, scale: str, seed: int, landing: Path) -> None:
    if labelled == DIRTY:
        generate(
            landing,
            scale_named(scale),
            seed,
            force=True,
            profile=DIRTY,
            report=lambda line: print(f"  {line}", file=sys.stderr),
        )
    else:
        write_febrl_landing(labelled, landing, seed)


def run_identity_bench(
    labelled: str, scale: str, seed: int, workdir: Path, reuse: bool = False, config: Path | None = None
) -> IdentityBenchResult:
    """Builds the identity layer on a labelled set and scores it against the truth. `config`: a
    config directory to compare settings (e.g. person matching off); default the shipped one."""
    if labelled not in LABELLED_SETS:
        raise ValueError(f"unknown labelled set {labelled!r}; expected one of {', '.join(LABELLED_SETS)}")
    sized = labelled == DIRTY
    if sized:
        scale_named(scale)  # fail early on a bad name
    name = f"identity-{labelled}-{scale}-{seed}" if sized else f"identity-{labelled}-{seed}"
    landing, warehouse = workdir / name, workdir / f"{name}.duckdb"
    marker = landing / ".complete"
    if not (reuse and marker.exists()):
        landing.mkdir(parents=True, exist_ok=True)
        write_labelled_landing(labelled, scale, seed, landing)
        marker.write_text("ok")
    warehouse.unlink(missing_ok=True)
    if config is None:
        config = workdir / "identity-config"  # the shipped defaults
        config.mkdir(parents=True, exist_ok=True)
    env = bench_env(workdir)
    url = f"duckdb:///{warehouse}"
    seconds, done = _blueprint(
        "run", "--landing", str(landing), "--warehouse", url, "--config", str(config),
        "--as-of", AS_OF, "--select", IDENTITY_SELECT, env=env,
    )  # fmt: skip
    result = IdentityBenchResult(
        labelled, scale if sized else None, seed, seconds, done.returncode, done.stdout
    )
    if done.returncode == 0:
        truth = pd.read_csv(landing / TRUTH_FILE, dtype=str, keep_default_na=False)
        with warehouse_from_url(url).session() as session:
            predicted = session.fetch_df("select source_key, person_id from person_registry")
        aligned, result.missing = align(truth, predicted)
        result.scores = pairwise_scores(aligned["person_id"], aligned["predicted_id"])
        if truth["defects"].ne("").any():
            result.by_defect = copy_recall(truth, aligned)
    facts = asdict(result) | {"scores": None, "by_defect": None}
    if result.scores:
        s = result.scores
        facts["scores"] = asdict(s) | {"precision": s.precision, "recall": s.recall, "f1": s.f1}
    if result.by_defect is not None:
        facts["by_defect"] = result.by_defect.reset_index().to_dict("records")
    (workdir / f"bench-{name}.json").write_text(json.dumps(facts, indent=2))
    return result
