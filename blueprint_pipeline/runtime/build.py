"""Materialise the asset graph in-process on the Dagster instance, and summarise what it did.

Used by `blueprint run` and `make demo`; the same definitions serve `dagster dev`.
"""

from __future__ import annotations

import fcntl
import os
import re
import shlex
import sys
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg

from blueprint_pipeline.core.errors import BlueprintError
from blueprint_pipeline.core.histories import check_time_moves_forward
from blueprint_pipeline.core.paths import (
    DAGSTER_STORAGE_DIR,
    DEFAULT_LANDING_DIR,
    PROJECT_DIR,
    SQL_PROJECT_DIR,
)
from blueprint_pipeline.core.redact import without_passwords
from blueprint_pipeline.core.run_facts import AS_OF_TAG, FULL_REFRESH_TAG, parse_as_of
from blueprint_pipeline.definitions import build_definitions
from blueprint_pipeline.generator.manifest import MANIFEST_FILE, DeliberateDefect, deliberate_defects
from blueprint_pipeline.governance.lineage import check_labels
from blueprint_pipeline.ingestion.landing import check_sources_config
from blueprint_pipeline.resources import (
    ACTIVATION_DIR_ENV,
    AUTOMATION_ENV,
    CONFIG_DIR_ENV,
    EXECUTOR_ENV,
    LANDING_DIR_ENV,
    MAILBOX_DIR_ENV,
    MODELS_DIR_ENV,
    REFRESH_CRON_ENV,
    REPORTS_DIR_ENV,
    WAREHOUSE_SCHEMA_ENV,
    WAREHOUSE_URL_ENV,
    LandingResource,
    executor_settings,
    load_config,
    warehouse_from_env,
)
from blueprint_pipeline.runtime.memory import MemorySampler, StepMemory, per_step
from blueprint_pipeline.runtime.progress import progress_logger
from blueprint_pipeline.runtime.user_files import check_user_files
from blueprint_pipeline.sql_models.project import load_project
from blueprint_pipeline.warehouse.migrations import migrate

# Printed in the "open the UI" line; never the SMTP URL or SMS token (they may hold secrets).
UI_VARIABLES = (
    LANDING_DIR_ENV, WAREHOUSE_URL_ENV, WAREHOUSE_SCHEMA_ENV, CONFIG_DIR_ENV, MAILBOX_DIR_ENV, AUTOMATION_ENV,
    ACTIVATION_DIR_ENV, REPORTS_DIR_ENV, MODELS_DIR_ENV,  # the UI's runs write where this run wrote
    REFRESH_CRON_ENV, EXECUTOR_ENV, "BLUEPRINT_MAX_CONCURRENT", "BLUEPRINT_CELERY_QUEUE",
)  # fmt: skip
LAYER_ORDER = (
    "sources",
    "staging",
    "identity",
    "audiences",
    "buying_groups",
    "journeys",
    "activation",
    "reporting",
)


@dataclass(frozen=True)
class BuildOptions:
    landing: Path | None = None
    warehouse_url: str | None = None
    config_dir: Path | None = None
    as_of: str | None = None
    full_refresh: bool = False
    select: str | None = None
    executor: str | None = None  # in_process (default), multiprocess, celery: see executors.py


# An asset's metadata entry `summary/<label>` is printed in the build summary as "<label>: value".
SUMMARY_PREFIX = "summary/"


@dataclass(frozen=True)
class FailedCheck:
    """A check that did not pass, as the summary tells it: what failed, what the check asks, and
    whether the generator spoiled those rows on purpose (its manifest, generator/manifest.py)."""

    name: str  # "<asset>.<check>"
    severity: str  # blocking or warn
    found: str = ""  # ": N failing rows: <examples>"
    asks: str = ""  # the check's description
    on_purpose: DeliberateDefect | None = None

    def lines(self) -> list[str]:
        lines = [f"{self.name} ({self.severity}){self.found}"]
        if self.asks:
            lines.append(f"  checks: {self.asks}")
        if self.on_purpose is not None:
            lines.append(
                f"  expected: the generator spoils {self.on_purpose.rows} row(s) here on purpose: "
                f"{self.on_purpose.why}"
            )
        return lines


@dataclass
class BuildSummary:
    success: bool
    run_id: str
    as_of: datetime
    config_version: str
    warehouse: str
    rows_per_layer: dict[str, int] = field(default_factory=dict)
    assets_built: int = 0
    skipped_files: list[str] = field(default_factory=list)
    unmatched_files: list[str] = field(default_factory=list)
    copies_not_ingested: list[str] = field(default_factory=list)
    rows_quarantined: int = 0
    failed_checks: list[FailedCheck] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    step_seconds: dict[str, float] = field(default_factory=dict)
    layer_seconds: dict[str, float] = field(default_factory=dict)  # step time summed per asset group
    step_memory: dict[str, StepMemory] = field(default_factory=dict)  # runtime/memory.py
    peak_resident: int = 0  # this process's, over the run (with steps in this process: the build's)
    steps_here: bool = True  # False: steps ran in other processes, which the samples do not see
    gx_seconds: float = 0.0
    highlights: list[str] = field(default_factory=list)  # assets' `summary/<label>` metadata
    selection_note: str | None = None  # how --select was widened, if it was

    def render(self) -> str:
        status = "build OK" if self.success else "build FAILED"
        lines = [
            f"{status}: {self.assets_built} assets, run {self.run_id}",
            f"  as-of {self.as_of.isoformat()} UTC, config version {self.config_version}",
            f"  warehouse: {self.warehouse}",
        ]
        if self.selection_note:
            lines.append(f"  {self.selection_note}")
        lines.append("  rows per layer:")
        lines += [f"    {layer:<14} {rows:>12,}" for layer, rows in self.rows_per_layer.items()]
        if self.highlights:
            lines.append("  highlights:")
            lines += [f"    {h}" for h in self.highlights]
        if self.rows_quarantined:
            lines.append(
                f"  {self.rows_quarantined:,} row(s) quarantined this run: see table `quarantine` for reasons"
            )
        if self.unmatched_files:
            lines.append(
                f"  {len(self.unmatched_files)} file(s) match no object (map them in sources.yaml "
                "file_names):"
            )
            lines += [f"    {f}" for f in self.unmatched_files]
        if self.copies_not_ingested:
            lines.append(
                f"  {len(self.copies_not_ingested)} file(s) not ingested again (same bytes, other name):"
            )
            lines += [f"    {c}" for c in self.copies_not_ingested]
        if self.skipped_files:
            lines.append(f"  {len(self.skipped_files)} file(s) skipped:")
            lines += [f"    {f}" for f in self.skipped_files]
        if self.failed_checks:
            lines.append(f"  {len(self.failed_checks)} check(s) failed:")
            lines += [f"    {line}" for check in self.failed_checks for line in check.lines()]
            expected = sum(check.on_purpose is not None for check in self.failed_checks)
            if expected:
                lines.append(
                    f"    {expected} of them on rows the sample generator spoils on purpose "
                    f"(landing {MANIFEST_FILE}), as real exports have such rows"
                )
        for failure in self.failures:
            lines.append(f"  error: {failure}")
        if self.gx_seconds:
            lines.append(f"  great-expectations suites: {self.gx_seconds:.1f}s")
        if self.layer_seconds:
            lines.append(
                "  seconds per layer: "
                + ", ".join(f"{layer} {secs:.1f}" for layer, secs in self.layer_seconds.items())
            )
        slowest = sorted(self.step_seconds.items(), key=lambda kv: -kv[1])[:5]
        if slowest:
            lines.append("  slowest steps: " + ", ".join(f"{step} {secs:.1f}s" for step, secs in slowest))
        lines += self._memory_lines()
        env = {
            "DAGSTER_HOME": os.environ.get("DAGSTER_HOME", str(PROJECT_DIR)),
            "BLUEPRINT_DAGSTER_STORAGE": os.environ.get(
                "BLUEPRINT_DAGSTER_STORAGE", str(DAGSTER_STORAGE_DIR)
            ),
        }
        # The UI's runs must see this run's choices: pass on the variables that were set.
        # The PostgreSQL instance's settings too, but its password (export it yourself).
        env |= {
            k: v
            for k, v in sorted(os.environ.items())
            if k in UI_VARIABLES or k in ("DAGSTER_PG_HOST", "DAGSTER_PG_USERNAME", "DAGSTER_PG_DB")
        }
        if "DAGSTER_PG_HOST" in env:  # the instance needs its password variable set, even empty
            env["DAGSTER_PG_PASSWORD"] = "" if not os.environ.get("DAGSTER_PG_PASSWORD") else "<yours>"
        if WAREHOUSE_URL_ENV in env:  # a password in the URL is not printed: put yours back in place of ***
            env[WAREHOUSE_URL_ENV] = without_passwords(env[WAREHOUSE_URL_ENV])
        assignments = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
        lines.append(f"  open the UI: cd {PROJECT_DIR} && {assignments} make ui")
        # Failures quote error messages, which may quote a URL: printed without its password.
        return without_passwords("\n".join(lines))

    def _memory_lines(self) -> list[str]:
        if not self.step_memory:
            return []
        gb = 1024**3
        engine = max(m.engine for m in self.step_memory.values())
        outside = max(m.outside_engine for m in self.step_memory.values())
        where = "" if self.steps_here else " (steps ran in other processes: this process only)"
        lines = [
            f"  memory{where}: peak {self.peak_resident / gb:.2f} GB resident, warehouse engine's "
            f"buffer up to {engine / gb:.2f} GB, outside it up to {outside / gb:.2f} GB"
        ]
        most = sorted(self.step_memory.items(), key=lambda kv: -kv[1].outside_engine)[:5]
        lines.append(
            "  most memory outside the engine: "
            + ", ".join(f"{step} {m.outside_engine / gb:.2f} GB" for step, m in most)
        )
        return lines

    def step_table(self) -> list[dict]:
        """Every step's seconds and memory peaks (bytes), slowest first: the bench's per-step figures."""
        return [
            {
                "step": step,
                "seconds": round(secs, 3),
                **(m.as_dict() if (m := self.step_memory.get(step)) else {}),
            }
            for step, secs in sorted(self.step_seconds.items(), key=lambda kv: -kv[1])
        ]


def _apply_options(options: BuildOptions) -> None:
    """Resources read these variables; setting them here makes this process see the choices."""
    if options.landing is not None:
        if not options.landing.is_dir():
            raise BlueprintError(f"landing directory {options.landing} does not exist")
        os.environ[LANDING_DIR_ENV] = str(options.landing)
    elif LANDING_DIR_ENV not in os.environ and not DEFAULT_LANDING_DIR.is_dir():
        raise BlueprintError(
            f"no landing directory: pass --landing DIR or create {DEFAULT_LANDING_DIR} (make demo does)"
        )
    if options.warehouse_url:
        os.environ[WAREHOUSE_URL_ENV] = options.warehouse_url
    if options.config_dir is not None:
        os.environ[CONFIG_DIR_ENV] = str(options.config_dir)
    if options.executor is not None:
        os.environ[EXECUTOR_ENV] = options.executor


@contextmanager
def _instance_lock() -> Iterator[None]:
    """Runs opening the local instance take turns: two started at once on a new SQLite storage
    both create its tables and stamp their schema version, and Dagster then refused it ("more
    than one head", seen in the concurrency test). A lock file in the storage folder."""
    storage = Path(os.environ.get("BLUEPRINT_DAGSTER_STORAGE", str(DAGSTER_STORAGE_DIR)))
    storage.mkdir(parents=True, exist_ok=True)
    with open(storage / ".instance.lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _instance() -> dg.DagsterInstance:
    home = os.environ.get("DAGSTER_HOME", "")
    try:
        try:
            with _instance_lock():
                return dg.DagsterInstance.get()
        except Exception as exc:  # noqa: BLE001
            if "already exists" not in str(exc):
                raise
            # Another process (the UI) created the new SQLite instance's tables at the same
            # moment: its storage is ready a moment later.
            time.sleep(2)
            return dg.DagsterInstance.get()
    except Exception as exc:  # Dagster raises many types for a bad instance config or storage
        raise BlueprintError(
            f"cannot open the Dagster instance (DAGSTER_HOME={home}): {_first_line(str(exc))}"
        ) from exc


def _first_line(text: str) -> str:
    """The first line; when it ends in a colon (Dagster's check failures), the next one too."""
    lines = [line.strip() for line in (text or "").strip().splitlines() if line.strip()]
    if not lines:
        return "unknown error"
    return f"{lines[0]} {lines[1]}" if lines[0].endswith(":") and len(lines) > 1 else lines[0]


# Definitions built ahead in a step launcher (runtime/preload.py), by the variables they read.
_prebuilt: dict[tuple, dg.Definitions] = {}


def _settings_key() -> tuple:
    return tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith("BLUEPRINT_")))


def definitions_for_runs() -> dg.Definitions:
    """The definitions with the progress logger. Executors that run steps in other processes
    rebuild them there from this function's name."""
    prebuilt = _prebuilt.get(_settings_key())
    if prebuilt is not None:
        return prebuilt
    return dg.Definitions.merge(build_definitions(), dg.Definitions(loggers={"progress": progress_logger}))


def prebuild_definitions() -> None:
    """Build the definitions (and their repository) once in a process that forks step processes."""
    defs = definitions_for_runs()
    defs.get_repository_def()
    _prebuilt[_settings_key()] = defs


def _execute(job: dg.JobDefinition, instance: dg.DagsterInstance, warehouse, **kwargs):
    """Run in this process, or through dg.execute_job when steps run elsewhere; the result is
    read here, before execute_job's context closes."""
    if executor_settings()["name"] == "in_process":
        # execute_in_process replaces the job's executor, and with it the run lock the job's
        # executor takes (blueprint_pipeline/executors.py): taken here instead.
        with warehouse.run_lock():
            for line in migrate(warehouse):
                print(f"schema upgraded: {line}", file=sys.stderr)
            return job.execute_in_process(instance=instance, **kwargs)
    if instance.is_ephemeral:
        raise BlueprintError("steps in other processes need a persistent Dagster instance (DAGSTER_HOME)")
    from dagster._core.definitions.reconstruct import ReconstructableRepository

    # The implicit asset job cannot be rebuilt on its own (its name is reserved): through its repository.
    repository = ReconstructableRepository.for_module(__name__, definitions_for_runs.__name__)
    with dg.execute_job(repository.get_reconstructable_job(job.name), instance=instance, **kwargs) as result:
        return _Finished(result)


class _Finished:
    """What summarise() reads of an ExecuteJobResult, kept after its context has closed."""

    def __init__(self, result):
        self.success, self.run_id, self.all_events = result.success, result.run_id, result.all_events
        self._materializations = result.get_asset_materialization_events()
        self._checks = result.get_asset_check_evaluations()

    def get_asset_materialization_events(self):
        return self._materializations

    def get_asset_check_evaluations(self):
        return self._checks


def run_build(options: BuildOptions, instance: dg.DagsterInstance | None = None) -> BuildSummary:
    _apply_options(options)
    loaded = load_config(os.environ.get(CONFIG_DIR_ENV) or None)  # bad config: an error before any run
    objects = list(load_project(SQL_PROJECT_DIR).sources.values())
    check_sources_config(loaded.config.sources, objects, loaded.sources["sources"])
    check_labels(loaded.config, objects, loaded.sources["governance"])
    check_user_files(loaded)
    warehouse = warehouse_from_env()
    warehouse.check_reachable()
    try:
        as_of = (
            parse_as_of(options.as_of)
            if options.as_of is not None
            else datetime.now(UTC).replace(tzinfo=None)
        )
    except ValueError as exc:
        raise BlueprintError(str(exc)) from exc

    defs = definitions_for_runs()  # also checks the executor's settings against the warehouse
    job = defs.resolve_implicit_global_asset_job_def()
    graph = defs.resolve_asset_graph()
    selection, selection_note = None, None
    if options.select:
        try:
            selected = dg.AssetSelection.from_string(options.select).resolve(graph)
        except Exception as exc:  # Dagster raises several types for a bad selection string
            raise BlueprintError(f"--select {options.select!r}: {_first_line(str(exc))}") from exc
        if not selected:
            raise BlueprintError(f"--select {options.select!r} matches no asset")
        selection, selection_note = whole_steps(graph, selected)
    # Before anything runs (the assets check it too, for runs started elsewhere).
    check_time_moves_forward(
        warehouse, as_of, None if selection is None else {key.to_user_string() for key in selection}
    )

    tags = {AS_OF_TAG: as_of.isoformat(), FULL_REFRESH_TAG: str(options.full_refresh).lower()}
    instance = instance or _instance()
    with MemorySampler(warehouse.engine_memory_bytes) as sampler:
        result = _execute(
            job,
            instance,
            warehouse,
            tags=tags,
            run_config={"loggers": {"progress": {}}},
            asset_selection=selection,
            raise_on_error=False,
        )
    summary = summarise(
        result,
        graph,
        as_of,
        loaded.version,
        warehouse.display_url,
        deliberate_defects(LandingResource().root),
    )
    summary.selection_note = selection_note
    spans = {
        stats.step_key: (stats.start_time, stats.end_time)
        for stats in instance.get_run_step_stats(result.run_id)
        if stats.start_time and stats.end_time
    }
    summary.step_seconds = {step: end - start for step, (start, end) in spans.items()}
    summary.step_memory = per_step(sampler.samples, spans)
    summary.peak_resident = sampler.peak_resident
    summary.steps_here = executor_settings()["name"] == "in_process"
    summary.layer_seconds = _per_layer(summary.step_seconds, graph, summary.rows_per_layer)
    return summary


def whole_steps(graph, selected: set[dg.AssetKey]) -> tuple[list[dg.AssetKey], str | None]:
    """The selection with every asset that one step builds together with a selected one (a
    multi-asset that cannot be subset, e.g. buying_groups with buying_group_members): Dagster
    refuses a selection that cuts such a step. Returns the keys and a line saying what was added,
    or None when nothing was."""
    keys, added = set(selected), []
    for assets in graph.assets_defs:
        together = set(assets.keys)
        if not assets.can_subset and together & selected and not together <= selected:
            missing = sorted(key.to_user_string() for key in together - selected)
            chosen = sorted(key.to_user_string() for key in together & selected)
            added.append(f"{', '.join(missing)} (built in one step with {', '.join(chosen)})")
            keys |= together
    note = f"--select widened to whole steps: added {'; '.join(sorted(added))}" if added else None
    return sorted(keys, key=lambda key: key.to_user_string()), note


def _per_layer(step_seconds: dict[str, float], graph, layers: dict[str, int]) -> dict[str, float]:
    """Step time per asset group (a step's group is its first asset's), in the summary's order."""
    group_of_step = {}
    for assets in graph.assets_defs:
        if assets.keys:
            group_of_step.setdefault(assets.node_def.name, graph.get(next(iter(assets.keys))).group_name)
    seconds: dict[str, float] = defaultdict(float)
    for step, secs in step_seconds.items():
        # Dagster names a second step of the same op `<op>_2`, `<op>_3`, ... (the SQL layers).
        group = group_of_step.get(step) or group_of_step.get(re.sub(r"_\d+$", "", step))
        seconds[group or "other"] += secs
    order: dict[str, int] = {}
    for layer in [*LAYER_ORDER, *layers]:
        order.setdefault(layer, len(order))
    return dict(sorted(seconds.items(), key=lambda kv: (order.get(kv[0], 99), kv[0])))


def summarise(
    result: dg.ExecuteInProcessResult,
    graph,
    as_of: datetime,
    config_version: str,
    warehouse: str,
    on_purpose: dict[str, DeliberateDefect] | None = None,
) -> BuildSummary:
    summary = BuildSummary(result.success, result.run_id, as_of, config_version, warehouse)
    rows: dict[str, int] = defaultdict(int)
    for event in result.get_asset_materialization_events():
        materialization = event.materialization
        key = materialization.asset_key
        group = graph.get(key).group_name or "default"
        metadata = materialization.metadata
        if "dagster/row_count" in metadata:
            rows[group] += int(metadata["dagster/row_count"].value)
        if "rows_quarantined" in metadata:
            summary.rows_quarantined += int(metadata["rows_quarantined"].value)
        summary.highlights += [
            f"{name.removeprefix(SUMMARY_PREFIX)}: {value.value}"
            for name, value in metadata.items()
            if name.startswith(SUMMARY_PREFIX)
        ]
        copies = metadata.get("copies_not_ingested")
        if copies is not None and copies.value != "none":
            summary.copies_not_ingested += [line.removeprefix("- ") for line in copies.value.splitlines()]
        unmatched = metadata.get("unmatched_files")
        if unmatched is not None and unmatched.value != "none":
            summary.unmatched_files += [line.removeprefix("- ") for line in unmatched.value.splitlines()]
        skipped = metadata.get("skipped_files")
        if skipped is not None and skipped.value != "none":
            summary.skipped_files += [line.removeprefix("- ") for line in skipped.value.splitlines()]
        summary.assets_built += 1
    order = {layer: i for i, layer in enumerate(LAYER_ORDER)}
    summary.rows_per_layer = dict(sorted(rows.items(), key=lambda kv: (order.get(kv[0], 99), kv[0])))
    for evaluation in result.get_asset_check_evaluations():
        if "seconds" in evaluation.metadata:
            summary.gx_seconds += float(evaluation.metadata["seconds"].value)
        if not evaluation.passed:
            kind = "blocking" if evaluation.severity == dg.AssetCheckSeverity.ERROR else "warn"
            failing = evaluation.metadata.get("failing_rows")
            failed = evaluation.metadata.get("failed")
            count = f": {failing.value} failing rows" if failing is not None else ""
            count += f": {failed.value}" if failed is not None else ""
            name = f"{evaluation.asset_key.to_user_string()}.{evaluation.check_name}"
            summary.failed_checks.append(
                FailedCheck(
                    name,
                    kind,
                    count,
                    graph.get_check_spec(evaluation.asset_check_key).description or "",
                    (on_purpose or {}).get(name),
                )
            )
    for event in result.all_events:
        if event.is_run_failure and not summary.failures:  # failed before or between its steps
            error = getattr(event.event_specific_data, "error", None)
            if error is not None:
                summary.failures.append(f"run: {_first_line(error.message)}")
        if event.is_step_failure:
            error = event.step_failure_data.error
            message = _first_line(error.message if error else "")
            cause = error.cause if error else None
            while cause is not None and cause.cause is not None:
                cause = cause.cause
            if cause is not None:
                message = _first_line(cause.message)
            summary.failures.append(f"{event.step_key}: {message}")
    return summary
