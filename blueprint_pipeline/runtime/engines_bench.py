"""`blueprint bench --warehouse URL`: the same landing files built whole on DuckDB and then on
another warehouse (a Spark URL), one after the other in one bench run, each timed and measured,
and the two builds compared table by table (`blueprint compare`).

Memory is sampled from outside each build's process through /proc: the build process (on Spark,
the driver's Python side), the JVMs it started (Spark's driver, which in local mode runs the
executors as threads) and the whole process tree. On Spark the build also writes Spark's event log
with each stage's peak executor metrics (`spark.eventLog.logStageExecutorMetrics`), so the
executors' own JVM heap peaks are known wherever they run: in the driver's JVM in local mode, on
the workers of a cluster (docs/scaling.md).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from blueprint_pipeline.core.errors import BlueprintError
from blueprint_pipeline.runtime.bench import (
    AS_OF,
    bench_env,
    check_disk,
    floor_seconds,
    landing_csvs,
    landing_folder,
    layer_seconds,
    prepare_landing,
)
from blueprint_pipeline.runtime.memory import ProcessTreeSampler
from blueprint_pipeline.warehouse import SparkWarehouse, warehouse_from_url

MB = 1024 * 1024
# Spark settings for the bench's build, through the variable pyspark's launcher reads: an event
# log with each stage's peak executor metrics, the executors' process-tree RSS among them; one
# plain JSON-lines file (Spark 4 writes rolling zstd-compressed folders by default).
EVENT_LOG_SETTINGS = (
    "spark.eventLog.enabled=true",
    "spark.eventLog.compress=false",
    "spark.eventLog.rolling.enabled=false",
    "spark.eventLog.logStageExecutorMetrics=true",
    "spark.executor.processTreeMetrics.enabled=true",
    # Sampled every 250 ms, not only at the 10 s heartbeats (a short stage's peak was 0).
    "spark.executor.metrics.pollingInterval=250",
)


@dataclass
class EngineBuild:
    engine: str
    url: str
    seconds: float
    exit_code: int
    process_peak_mb: float  # the build process (on Spark: the driver's Python side)
    jvm_peak_mb: float  # the JVMs it started (Spark's driver; in local mode the executors too)
    tree_peak_mb: float  # the build process and every process under it, at one moment
    executor_heap_peak_mb: float | None = None  # Spark's own account, per executor, largest
    executor_rss_peak_mb: float | None = None  # the same for the executor's process tree
    executors: list[str] = field(default_factory=list)  # the executor ids the event log names
    layers: dict[str, float] = field(default_factory=dict)
    summary: str = ""

    def line(self, floor: float) -> str:
        executors = (
            f", executor JVM heap peak {self.executor_heap_peak_mb:,.0f} MB"
            + (f" (RSS {self.executor_rss_peak_mb:,.0f} MB)" if self.executor_rss_peak_mb else "")
            + f" [{', '.join(self.executors)}]"
            if self.executor_heap_peak_mb is not None
            else ""
        )
        return (
            f"  {self.engine:<7} {self.seconds:8.1f} s wall "
            f"({self.seconds / max(floor, 1e-9):.0f}x the floor, exit {self.exit_code}); peak memory: "
            f"build process {self.process_peak_mb:,.0f} MB, "
            f"JVM {self.jvm_peak_mb:,.0f} MB, all processes {self.tree_peak_mb:,.0f} MB{executors}"
        )


@dataclass
class EnginesBenchResult:
    scale: str
    seed: int
    generate_seconds: float | None
    landing_bytes: int
    floor_seconds: float
    builds: list[EngineBuild]
    compare_seconds: float | None = None
    tables_same: int = 0
    differing: list[str] = field(default_factory=list)  # the comparison's report lines, when not same
    only_on_one: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(b.exit_code == 0 for b in self.builds) and not self.differing and not self.only_on_one

    def render(self) -> str:
        gen = "reused" if self.generate_seconds is None else f"{self.generate_seconds:.1f} s"
        lines = [
            f"engines bench at scale {self.scale} (seed {self.seed}): the same landing files built whole "
            "on each warehouse, one after the other",
            f"  generate: {gen}, {self.landing_bytes / 1e9:.2f} GB of landing files; floor "
            f"{self.floor_seconds:.1f} s (bare DuckDB scan)",
            *(b.line(self.floor_seconds) for b in self.builds),
            "  per layer (s): "
            + "; ".join(
                f"{b.engine}: " + ", ".join(f"{k} {v:.1f}" for k, v in b.layers.items()) for b in self.builds
            ),
        ]
        if self.compare_seconds is not None:
            verdict = (
                f"{self.tables_same} tables the same, row for row"
                if not self.differing and not self.only_on_one
                else f"{self.tables_same} tables the same; DIFFERENT: "
                + "; ".join(self.differing + self.only_on_one)
            )
            lines.append(f"  compared: {verdict} ({self.compare_seconds:.1f} s)")
        for build in self.builds:
            if build.exit_code:
                lines += [
                    f"  {build.engine} build summary:",
                    *("    " + s for s in build.summary.splitlines()),
                ]
        return "\n".join(lines)


def bench_url(given: str, workdir: Path, scale: str) -> SparkWarehouse:
    """The Spark warehouse the bench builds in: the URL's own folder, else one in `workdir`.
    Only Spark is benched beside DuckDB (a PostgreSQL build is `make demo-postgres`)."""
    if not given.startswith(("spark+local://", "spark://")):
        raise ValueError(
            f"--warehouse {given!r}: the engines bench builds beside DuckDB on Spark, spark+local://N "
            "or spark://host:port (a Connect server's executors cannot be measured from here)"
        )
    if "warehouse=" not in given:
        given += ("&" if "?" in given else "?") + f"warehouse={workdir / f'spark-{scale}'}"
    found = warehouse_from_url(given)
    assert isinstance(found, SparkWarehouse)
    return found


def executor_peaks(event_logs: Path) -> tuple[float | None, float | None, list[str]]:
    """The largest JVM heap and process-tree RSS any executor (or local mode's driver) reached,
    in MB, from the peaks Spark writes to its event log at each stage's end."""
    heap = rss = 0
    executors: set[str] = set()
    for log in sorted(p for p in event_logs.rglob("*") if p.is_file() and not p.name.startswith(".")):
        with log.open(encoding="utf-8", errors="replace") as lines:
            for line in lines:
                if '"SparkListenerStageExecutorMetrics"' not in line:
                    continue
                try:
                    event = json.loads(line)
                except ValueError:  # a last line cut short by the process's end
                    continue
                metrics = event.get("Executor Metrics") or {}
                executors.add(str(event.get("Executor ID")))
                heap = max(heap, metrics.get("JVMHeapMemory", 0))
                rss = max(rss, metrics.get("ProcessTreeJVMRSSMemory", 0))
    if not executors:
        return None, None, []
    return heap / MB, (rss / MB) or None, sorted(executors)


def _build(engine: str, url: str, where: list[str], env: dict, steps: Path) -> EngineBuild:
    started = time.monotonic()
    process = subprocess.Popen(
        [sys.executable, "-m", "blueprint_pipeline.runtime.cli", "run", *where, "--warehouse", url,
         "--as-of", AS_OF, "--steps-json", str(steps)],
        env=env, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    with ProcessTreeSampler(process.pid) as tree:
        out, _ = process.communicate()
    seconds = time.monotonic() - started
    steps.unlink(missing_ok=True)
    return EngineBuild(
        engine, url, seconds, process.returncode,
        tree.peaks["process"] / MB, tree.peaks["jvm"] / MB, tree.peaks["tree"] / MB,
        layers=layer_seconds(out), summary=out,
    )  # fmt: skip


def run_engines_bench(
    scale: str, seed: int, workdir: Path, warehouse: str, reuse: bool = False
) -> EnginesBenchResult:
    from blueprint_pipeline.runtime.compare import DEFAULT_IGNORE, compare

    spark = bench_url(warehouse, workdir, scale)  # refused before generating
    duck_path = workdir / f"engines-{scale}.duckdb"
    landing = landing_folder(workdir, scale, seed)
    check_disk(workdir, scale, landing, False, not (reuse and (landing / ".complete").exists()))
    landing, gen_seconds = prepare_landing(workdir, scale, seed, reuse)
    size = sum(p.stat().st_size for p in landing_csvs(landing))
    floor = floor_seconds(landing)
    env = bench_env(workdir)
    config = workdir / "config"
    shutil.rmtree(config, ignore_errors=True)
    config.mkdir(parents=True)
    where = ["--landing", str(landing), "--config", str(config)]

    duck_path.unlink(missing_ok=True)
    print(f"  building on DuckDB ({duck_path})", file=sys.stderr)
    builds = [_build("duckdb", f"duckdb:///{duck_path}", where, env, workdir / "steps-duckdb.json")]

    shutil.rmtree(spark.path, ignore_errors=True)
    events = workdir / f"spark-events-{scale}"
    shutil.rmtree(events, ignore_errors=True)
    events.mkdir(parents=True)
    settings = [*EVENT_LOG_SETTINGS, f"spark.eventLog.dir=file://{events}"]
    yours = env.get("PYSPARK_SUBMIT_ARGS", "").replace("pyspark-shell", "").strip()  # kept, first
    confs = " ".join(f"--conf {s}" for s in settings)
    spark_env = env | {"PYSPARK_SUBMIT_ARGS": f"{yours} {confs} pyspark-shell".strip()}
    print(f"  building on Spark ({spark.display_url})", file=sys.stderr)
    built = _build("spark", spark.url, where, spark_env, workdir / "steps-spark.json")
    built.executor_heap_peak_mb, built.executor_rss_peak_mb, built.executors = executor_peaks(events)
    builds.append(built)

    result = EnginesBenchResult(scale, seed, gen_seconds, size, floor, builds)
    if all(b.exit_code == 0 for b in builds):
        print("  comparing the two warehouses, table by table", file=sys.stderr)
        started = time.monotonic()
        try:
            found = compare(duck_path, spark.url, DEFAULT_IGNORE)
        except BlueprintError as exc:
            result.differing = [f"the comparison failed: {exc}"]
        else:
            result.tables_same = len(found.same_tables)
            result.differing = [line for diff in found.differing for line in diff.described or [diff.table]]
            result.only_on_one = [f"only on DuckDB: {t}" for t in found.only_in_a] + [
                f"only on Spark: {t}" for t in found.only_in_b
            ]
        result.compare_seconds = time.monotonic() - started
    (workdir / f"engines-{scale}.json").write_text(json.dumps(asdict(result), indent=2))
    return result
