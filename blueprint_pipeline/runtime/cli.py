"""The `blueprint` command line: build everything, generate sample data, benchmark, validate config.

Errors a user can fix are printed as one line (no traceback) with exit status 2; a build that ran
but failed (a blocking check, a broken model) exits with 1; a build that did its job exits with 0,
even when files were skipped or warning-level checks failed: the summary says so.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import warnings
from datetime import datetime
from pathlib import Path

from blueprint_pipeline.core.errors import BlueprintError, WarehouseError
from blueprint_pipeline.core.paths import DAGSTER_STORAGE_DIR, DEFAULT_LANDING_DIR, PROJECT_DIR
from blueprint_pipeline.core.redact import without_passwords

EXIT_FAILED_BUILD = 1
EXIT_USAGE = 2


def set_instance_env() -> None:
    """Point Dagster at the project's dagster.yaml unless the user chose another instance."""
    os.environ.setdefault("DAGSTER_HOME", str(PROJECT_DIR))
    os.environ.setdefault("BLUEPRINT_DAGSTER_STORAGE", str(DAGSTER_STORAGE_DIR))


def _cmd_run(args: argparse.Namespace) -> int:
    from blueprint_pipeline.runtime.build import BuildOptions, run_build

    options = BuildOptions(
        landing=Path(args.landing).resolve() if args.landing else None,
        warehouse_url=args.warehouse,
        config_dir=Path(args.config).resolve() if args.config else None,
        as_of=args.as_of,
        full_refresh=args.full_refresh,
        select=args.select,
        executor=args.executor,
    )
    summary = run_build(options)
    print(summary.render())
    if args.steps_json:
        table = {"peak_resident": summary.peak_resident, "steps_here": summary.steps_here}
        Path(args.steps_json).write_text(json.dumps(table | {"steps": summary.step_table()}, indent=1))
    return 0 if summary.success else EXIT_FAILED_BUILD


def _cmd_validate_config(args: argparse.Namespace) -> int:
    from blueprint_pipeline.config.governance import DESTINATIONS
    from blueprint_pipeline.core.paths import SQL_PROJECT_DIR
    from blueprint_pipeline.governance.lineage import check_labels, violations
    from blueprint_pipeline.ingestion.landing import check_sources_config
    from blueprint_pipeline.resources import load_config
    from blueprint_pipeline.runtime.user_files import check_user_files
    from blueprint_pipeline.sql_models.project import load_project

    loaded = load_config(args.dir)
    objects = list(load_project(SQL_PROJECT_DIR).sources.values())
    check_sources_config(loaded.config.sources, objects, loaded.sources["sources"])
    check_labels(loaded.config, objects, loaded.sources["governance"])
    files = check_user_files(loaded)
    print(f"config OK (version {loaded.version}):")
    for section, path in sorted(loaded.sources.items()):
        print(f"  {section}: {path}")
    for line in files:
        print(f"  {line}")
    blocked = [
        f"{destination} {name} ({found[0].policy}: label {found[0].label} on {found[0].field})"
        for destination in DESTINATIONS
        for name, found in sorted(violations(loaded.config, destination).items())
        if found
    ]
    print(
        f"  governance: {len(blocked)} list(s) a policy would block: {'; '.join(blocked)}"
        if blocked
        else "  governance: no activation breaks a policy"
    )
    return 0


def _warehouse(url: str | None):
    """--warehouse URL, else BLUEPRINT_WAREHOUSE_URL; BLUEPRINT_WAREHOUSE_SCHEMA names the schema."""
    from blueprint_pipeline.resources import pipeline_warehouse, warehouse_from_env

    return pipeline_warehouse(url) if url else warehouse_from_env()


def _every(hours: float):
    from datetime import timedelta

    if not hours > 0:
        raise BlueprintError(f"--every-hours {hours:g}: give a number of hours above 0")
    return timedelta(hours=hours)


def _cmd_journey_simulate(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime, timedelta

    from blueprint_pipeline.core.run_facts import parse_as_of
    from blueprint_pipeline.journeys.simulate import simulate
    from blueprint_pipeline.resources import load_config

    loaded = load_config(args.config)
    now = datetime.now(UTC).replace(tzinfo=None)
    try:
        start = parse_as_of(args.start) if args.start else now
        end = parse_as_of(args.end) if args.end else start + timedelta(days=30)
    except ValueError as exc:
        raise BlueprintError(str(exc)) from exc
    warehouse = _warehouse(args.warehouse)
    with warehouse.session() as session:
        result = simulate(session, loaded, args.journey, start, end, _every(args.every_hours))
    print(result.render())
    return 0


def _cmd_simulate_config(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime, timedelta

    from blueprint_pipeline.core.run_facts import parse_as_of
    from blueprint_pipeline.resources import load_config
    from blueprint_pipeline.scoring.simulate import compare

    current, other = load_config(args.current), load_config(args.dir)
    now = datetime.now(UTC).replace(tzinfo=None)
    try:
        end = parse_as_of(args.end) if args.end else now
        start = parse_as_of(args.start) if args.start else end - timedelta(days=14)
    except ValueError as exc:
        raise BlueprintError(str(exc)) from exc
    if end < start:
        raise BlueprintError("--to is before --from")
    warehouse = _warehouse(args.warehouse)
    workdir = Path(args.workdir).resolve()
    result = compare(warehouse, current, other, start, end, _every(args.every_hours), workdir)
    print(result.render(args.dir))
    return 0


def _cmd_forget(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from blueprint_pipeline.governance.forget import forget
    from blueprint_pipeline.governance.requests import places, read_requests
    from blueprint_pipeline.resources import ActivationResource, DeliveryResource, load_config, reports_dir

    addresses = list(args.email or [])
    if args.file:
        try:
            addresses += read_requests(Path(args.file))
        except (OSError, ValueError) as exc:
            raise BlueprintError(f"{args.file}: {exc}") from exc
    if not addresses:
        raise BlueprintError("give the person's email address: --email ADDRESS (or --file requests.csv)")
    bad = [a for a in addresses if "@" not in a]
    if bad:
        raise BlueprintError(f"--email {bad[0]!r} is not an email address")
    loaded = load_config(args.config)
    warehouse = _warehouse(args.warehouse)
    warehouse.check_reachable()
    landing = Path(args.landing).resolve() if args.landing else DEFAULT_LANDING_DIR
    where = places(
        loaded, landing, ActivationResource().root, DeliveryResource().mailbox_folder(), reports_dir()
    )
    now = datetime.now(UTC).replace(tzinfo=None)
    outcomes = forget(warehouse, addresses, origin="blueprint forget", at=now, places=where)
    for outcome in outcomes:
        print(outcome.describe())
    print("audit: table forget_requests (hashes and counts only); later extracts holding them are dropped")
    return 0


def _cmd_tracking_server(args: argparse.Namespace) -> int:
    import uvicorn

    from blueprint_pipeline.resources import LandingResource, tracking_secret
    from blueprint_pipeline.tracking.app import create_app

    landing = LandingResource(path=args.landing).root
    print(f"tracking endpoint on http://{args.host}:{args.port}, events land in {landing / 'tracking'}")
    uvicorn.run(create_app(landing, tracking_secret()), host=args.host, port=args.port, log_level="warning")
    return 0


def _cmd_generate(args: argparse.Namespace) -> int:
    from datetime import date

    from blueprint_pipeline.generator.generate import data_end, generate
    from blueprint_pipeline.generator.scales import scale_named

    try:
        end = data_end(date.fromisoformat(args.end) if args.end else None)
    except ValueError:
        raise BlueprintError(f"--end {args.end!r}: expected a date, e.g. 2026-11-20") from None
    try:
        scale = scale_named(args.scale)
        counts = generate(
            Path(args.out),
            scale,
            args.seed,
            end,
            force=args.force,
            profile=args.profile,
            compress=args.compress,
        )
    except (ValueError, FileExistsError) as exc:
        raise BlueprintError(str(exc)) from exc
    except OSError as exc:
        raise BlueprintError(f"cannot write to {args.out}: {exc.strerror or exc}") from exc
    written = ", ".join(f"{v:,} {k}" for k, v in counts.items())
    print(f"generated {written} in {args.out}, the data ending {end:%Y-%m-%d}")
    return 0


def _cmd_bench(args: argparse.Namespace) -> int:
    from blueprint_pipeline.runtime.bench import run_bench, run_identity_bench

    if args.memory_limit and (args.titles or args.identity):
        raise BlueprintError(
            "--memory-limit bounds the build bench's warehouse: not with --titles or --identity"
        )
    if args.warehouse:
        return _engines_bench(args)
    if args.titles:
        from blueprint_pipeline.buying_groups.title_bench import run_title_bench

        print(run_title_bench())
        return 0
    if args.identity:
        try:
            found = run_identity_bench(
                args.identity, args.scale, args.seed, Path(args.workdir).resolve(), args.reuse
            )
        except ValueError as exc:
            raise BlueprintError(str(exc)) from exc
        print(found.render())
        return 0 if found.build_exit_code == 0 else EXIT_FAILED_BUILD
    try:
        result = run_bench(
            args.scale,
            args.seed,
            Path(args.workdir).resolve(),
            reuse=args.reuse,
            fresh=args.fresh,
            journeys=args.journeys,
            fast_path=args.fast_path,
            new_persons=args.new_persons,
            compress=args.compress,
            memory_limit=args.memory_limit,
        )
    except ValueError as exc:
        raise BlueprintError(str(exc)) from exc
    print(result.render())
    return 0 if result.build_exit_code == 0 else EXIT_FAILED_BUILD


# The other benches' options, which the engines bench (--warehouse) does not take.
ENGINES_BENCH_ALONE = (
    "fresh", "new_persons", "journeys", "fast_path", "identity", "titles", "memory_limit", "compress"
)  # fmt: skip


def _engines_bench(args: argparse.Namespace) -> int:
    """`bench --warehouse URL`: DuckDB and Spark side by side (runtime/engines_bench.py)."""
    from blueprint_pipeline.runtime.engines_bench import run_engines_bench

    others = [f"--{name.replace('_', '-')}" for name in ENGINES_BENCH_ALONE if getattr(args, name)]
    if others:
        raise BlueprintError(f"--warehouse times two whole builds side by side: not with {', '.join(others)}")
    try:
        result = run_engines_bench(
            args.scale, args.seed, Path(args.workdir).resolve(), args.warehouse, reuse=args.reuse
        )
    except ValueError as exc:
        raise BlueprintError(str(exc)) from exc
    print(result.render())
    return 0 if result.ok else EXIT_FAILED_BUILD


def _cmd_compare_engines(args: argparse.Namespace) -> int:
    from blueprint_pipeline.core.paths import SQL_PROJECT_DIR
    from blueprint_pipeline.runtime.engines import side_by_side
    from blueprint_pipeline.sql_models.project import load_project
    from blueprint_pipeline.warehouse import warehouse_from_url

    source = Path(args.duckdb_file)
    if not source.is_file():
        raise WarehouseError(f"{source}: no such DuckDB file")
    other = warehouse_from_url(args.warehouse)
    models = {m.strip() for m in args.models.split(",") if m.strip()} if args.models else None
    try:
        as_of = datetime.fromisoformat(args.as_of) if args.as_of else None
    except ValueError:
        raise WarehouseError(
            f"--as-of {args.as_of!r}: expected a date and time, e.g. 2026-11-25T00:00:00"
        ) from None
    copied, results = side_by_side(
        source, other, load_project(SQL_PROJECT_DIR), as_of=as_of, models=models,
        progress=lambda line: print(line, file=sys.stderr, flush=True),
    )  # fmt: skip
    differing = [r for r in results if r.differences]
    print(f"{other.display_url} against {source}")
    print(f"  inputs copied in {copied:.1f} s")
    print(
        f"  {len(results)} SQL models: {sum(r.seconds for r in results):.1f} s on Spark, "
        f"{sum(r.duckdb_seconds for r in results):.1f} s on DuckDB; "
        f"{len(results) - len(differing)} the same, {len(differing)} differ"
    )
    slowest = sorted(results, key=lambda r: -r.seconds)[:5]
    print("  slowest on Spark: " + ", ".join(f"{r.name} {r.seconds:.1f}s ({r.rows} rows)" for r in slowest))
    for result in differing:
        for line in result.differences[:3]:
            print(f"  DIFFERS {line}")
    return 1 if differing else 0


def _cmd_compare(args: argparse.Namespace) -> int:
    from blueprint_pipeline.runtime.compare import DEFAULT_IGNORE, compare

    ignore = [*([] if args.no_default_ignore else DEFAULT_IGNORE), *args.ignore]
    found = compare(args.a, args.b, ignore)
    print(found.report())
    if ignore:
        print(f"ignored columns: {', '.join(ignore)}")
    return 0 if found.same else 1


def _cmd_worker(args: argparse.Namespace) -> int:
    """Become a Celery worker for the celery executor: same broker and queue as the runs, the
    definitions built once before the pool forks (blueprint_pipeline/runtime/preload.py)."""
    from blueprint_pipeline.resources import executor_settings

    os.environ["BLUEPRINT_EXECUTOR"] = "celery"  # the definitions this worker builds must match the runs'
    settings = executor_settings()
    # Broker and backend through celery's variables, not arguments: a password stays out of `ps`.
    os.environ["CELERY_BROKER_URL"] = settings["broker"]
    os.environ["CELERY_RESULT_BACKEND"] = settings["backend"]
    command = [
        str(Path(sys.executable).with_name("celery")), "-A", "dagster_celery.app", "worker",
        "-Q", settings["queue"], "-c", str(args.processes), "--prefetch-multiplier=1",
        "-I", "blueprint_pipeline.runtime.preload", "--loglevel", args.loglevel,
    ]  # fmt: skip
    if args.name:
        command += ["-n", args.name]
    sys.stdout.flush()
    os.execv(command[0], command)
    return 0  # not reached


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="blueprint", description=__doc__.splitlines()[0])
    sub = top.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="materialise every asset on the data in the landing directory")
    run.add_argument("--landing", help="landing directory (salesforce/, marketo/, linkedin/)")
    run.add_argument(
        "--warehouse",
        help="duckdb:///path/file.duckdb (?memory_limit=4GB bounds DuckDB's buffer, 2GB by default), "
        "postgresql+psycopg2://user@host/db, or spark+local://N, spark://host:7077 or sc://host:15002 "
        "with ?warehouse=/path/to/folder (docs/operations.md)",
    )
    run.add_argument("--config", help="config directory overriding the shipped defaults")
    run.add_argument("--as-of", help="the run's 'now' (ISO-8601, UTC if no offset); default: the run's start")
    run.add_argument("--full-refresh", action="store_true", help="rebuild incremental models from scratch")
    run.add_argument(
        "--select", help="Dagster asset selection, e.g. 'group:staging' or 'stg_salesforce__accounts+'"
    )
    run.add_argument(
        "--executor",
        choices=("in_process", "multiprocess", "celery"),
        help="where steps run (default: BLUEPRINT_EXECUTOR, else in_process; the others need PostgreSQL: "
        "docs/production.md)",
    )
    run.add_argument(
        "--steps-json",
        metavar="PATH",
        help="also write every step's seconds and memory peaks (resident, the warehouse engine's "
        "buffer, outside it) to this JSON file (docs/benchmarks.md#memory-per-step)",
    )
    run.set_defaults(func=_cmd_run)

    gen = sub.add_parser("generate", help="write synthetic landing files in the real export formats")
    gen.add_argument(
        "--scale",
        default="demo",
        help="tiny, demo, small, medium, large (100k accounts, 1M persons) or xlarge (1M accounts, "
        "10M persons, 200M activities: use --compress, docs/benchmarks.md)",
    )
    gen.add_argument("--seed", type=int, default=7, help="same seed and --end, same files")
    gen.add_argument(
        "--end",
        help="the day the data ends (YYYY-MM-DD, at 00:00 UTC; default today, so a build's velocities "
        "are meaningful whenever it runs)",
    )
    gen.add_argument("--out", default=str(DEFAULT_LANDING_DIR), help="landing directory to write")
    gen.add_argument("--force", action="store_true", help="replace the system folders in --out")
    gen.add_argument(
        "--compress",
        action="store_true",
        help="write the landing files gzip-compressed (.csv.gz, about a fifth of the size; the same rows)",
    )
    gen.add_argument(
        "--profile",
        default="standard",
        help="standard, or dirty-duplicates: person records only, with typos and copies, and their "
        "truth in truth/persons.csv (docs/identity.md)",
    )
    gen.set_defaults(func=_cmd_generate)

    bench = sub.add_parser("bench", help="generate data at a scale, build it, report time and memory")
    bench.add_argument("--scale", default="small", help="tiny, demo, small, medium, large or xlarge")
    bench.add_argument("--seed", type=int, default=1)
    bench.add_argument(
        "--workdir",
        default=str(PROJECT_DIR / "data" / "bench"),
        help="where the generated data, the builds' outputs and the results go (default data/bench)",
    )
    bench.add_argument(
        "--reuse", action="store_true", help="reuse landing files generated by an earlier bench"
    )
    bench.add_argument(
        "--compress",
        action="store_true",
        help="generate the landing files gzip-compressed (.csv.gz) and build from them (xlarge needs it "
        "to fit the disk: docs/benchmarks.md)",
    )
    bench.add_argument(
        "--fresh",
        type=int,
        default=0,
        metavar="N",
        help="then land a new file of N activities and time the run that rescores from it",
    )
    bench.add_argument(
        "--new-persons",
        type=int,
        default=0,
        metavar="N",
        help="build the identity layer (and what it is built from), then land a file of N new Marketo "
        "leads and time the run that matches them (incremental person matching)",
    )
    bench.add_argument(
        "--journeys",
        action="store_true",
        help="with two live journeys over every account: time the entry run, a step run and a sensor tick",
    )
    bench.add_argument(
        "--fast-path",
        action="store_true",
        help="then, with dagster dev and the sensors on, time an activities file to its sales alert",
    )
    bench.add_argument(
        "--identity",
        nargs="?",
        const="dirty-duplicates",
        metavar="SET",
        help="instead, score person matching on a labelled set: dirty-duplicates (default, at --scale), "
        "febrl1 or febrl3",
    )
    bench.add_argument(
        "--memory-limit",
        metavar="SIZE",
        help="bound the warehouse's DuckDB buffer (e.g. 4GB; default 2GB): the build's warehouse URL "
        "gets ?memory_limit=SIZE (docs/scaling.md)",
    )
    bench.add_argument(
        "--warehouse",
        metavar="URL",
        help="instead, build the sample whole on DuckDB and on this Spark warehouse (spark+local://N or "
        "spark://host:port; its folder defaults to the workdir's spark-SCALE) one after the other, with "
        "each one's time and driver, JVM and executor memory, and compare the two (docs/scaling.md)",
    )
    bench.add_argument(
        "--titles",
        action="store_true",
        help="instead, score the title parser on the labelled title set (development and held-out halves)",
    )
    bench.set_defaults(func=_cmd_bench)

    validate = sub.add_parser("validate-config", help="check a config directory without running anything")
    validate.add_argument("dir", help="config directory")
    validate.set_defaults(func=_cmd_validate_config)

    journey = sub.add_parser("journey", help="journey tools: simulate (a dry run)")
    journey_sub = journey.add_subparsers(dest="journey_command", required=True)
    simulate = journey_sub.add_parser(
        "simulate", help="replay a journey over the data at hand through a period; nothing is written or sent"
    )
    simulate.add_argument("journey", help="the journey's name in journeys.yaml (any status)")
    simulate.add_argument("--from", dest="start", help="first as-of time (ISO-8601; default now)")
    simulate.add_argument("--to", dest="end", help="last as-of time (default 30 days after --from)")
    simulate.add_argument("--every-hours", type=float, default=24, help="hours between runs (default 24)")
    simulate.add_argument("--config", help="config directory (the journey's definition)")
    simulate.add_argument(
        "--warehouse", help="warehouse URL (default BLUEPRINT_WAREHOUSE_URL or data/warehouse.duckdb)"
    )
    simulate.set_defaults(func=_cmd_journey_simulate)

    sim = sub.add_parser(
        "simulate-config", help="how stages and sales alerts would differ under another config, over a period"
    )
    sim.add_argument("dir", help="the other config directory (scoring, stages, alerts, ...)")
    sim.add_argument("--current", help="the current config directory (default: the shipped defaults)")
    sim.add_argument("--from", dest="start", help="first as-of time (default 14 days before --to)")
    sim.add_argument("--to", dest="end", help="last as-of time (default now)")
    sim.add_argument("--every-hours", type=float, default=24, help="hours between runs (default 24)")
    sim.add_argument(
        "--warehouse", help="warehouse URL (default BLUEPRINT_WAREHOUSE_URL or data/warehouse.duckdb)"
    )
    sim.add_argument("--workdir", default=str(PROJECT_DIR / "data" / "simulate"), help="scratch folder")
    sim.set_defaults(func=_cmd_simulate_config)

    forget = sub.add_parser(
        "forget", help="erase a person from every table and file (the right to be forgotten)"
    )
    forget.add_argument("--email", action="append", help="the person's email address (repeatable)")
    forget.add_argument("--file", help="a CSV of requests with an `email` column")
    forget.add_argument(
        "--landing", help="landing directory whose files are rewritten (default data/landing)"
    )
    forget.add_argument(
        "--warehouse", help="warehouse URL (default BLUEPRINT_WAREHOUSE_URL or data/warehouse.duckdb)"
    )
    forget.add_argument("--config", help="config directory (its header aliases read the landing files)")
    forget.set_defaults(func=_cmd_forget)

    worker = sub.add_parser(
        "worker",
        help="run steps for the celery executor (docs/production.md)",
        description="A Celery worker for `blueprint run --executor celery`: it listens on "
        "BLUEPRINT_CELERY_QUEUE (default dagster) of BLUEPRINT_CELERY_BROKER (default "
        "pyamqp://guest@127.0.0.1:5672//) and needs the same BLUEPRINT_* and DAGSTER_* variables as "
        "the runs.",
    )
    worker.add_argument("--name", help="worker name, unique per machine (default celery@<host>)")
    worker.add_argument("--processes", type=int, default=1, help="steps at once in this worker (default 1)")
    worker.add_argument("--loglevel", default="WARNING", help="celery's log level (default WARNING)")
    worker.set_defaults(func=_cmd_worker)

    comp = sub.add_parser(
        "compare",
        help="are two warehouses the same, table by table, row for row (exit 1 if not)",
        description="Compare every table of two DuckDB warehouse files, rows as multisets. Build one "
        "sample at one --as-of on two commits, then compare: what a refactor must leave unchanged. "
        "Either side may be a warehouse URL instead (postgresql+psycopg2://..., spark+local://N?"
        "warehouse=...): one build on two engines, numbers compared to 1e-9, each engine's own "
        "hash columns left out.",
    )
    comp.add_argument("a", help="first warehouse: a .duckdb file or a warehouse URL")
    comp.add_argument("b", help="second warehouse: a .duckdb file or a warehouse URL")
    comp.add_argument(
        "--ignore",
        action="append",
        default=[],
        metavar="TABLE.COLUMN",
        help="a column to leave out (glob patterns: '*.loaded_at'); repeatable",
    )
    comp.add_argument(
        "--no-default-ignore",
        action="store_true",
        help="compare the columns that record when and by which run something was built, too",
    )
    comp.set_defaults(func=_cmd_compare)

    engines = sub.add_parser(
        "compare-engines",
        help="build the SQL models on Spark from a DuckDB build's inputs, compare each table and time",
        description="Copy every table no SQL model makes from a built DuckDB warehouse to a Spark "
        "warehouse, build the SQL models there in order, and compare each with DuckDB's table (the "
        "same rows, numbers to 1e-9); each model is also built again on a copy of the DuckDB file "
        "for its time. Exit 1 if a table differs. docs/operations.md, 'Spark'.",
    )
    engines.add_argument("duckdb_file", help="a DuckDB warehouse a whole build made (.duckdb)")
    engines.add_argument(
        "--warehouse",
        required=True,
        help="the Spark warehouse URL (spark+local://2?warehouse=/path/to/folder)",
    )
    engines.add_argument("--models", help="only these SQL models, comma-separated (their inputs copied)")
    engines.add_argument("--as-of", help="the build's as-of (default: its latest snapshot's)")
    engines.set_defaults(func=_cmd_compare_engines)

    tracking = sub.add_parser("tracking-server", help="serve the open / click / unsubscribe endpoint")
    tracking.add_argument("--host", default="127.0.0.1")
    tracking.add_argument("--port", type=int, default=8088)
    tracking.add_argument("--landing", help="landing directory the events go to (tracking/)")
    tracking.set_defaults(func=_cmd_tracking_server)
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    # Dagster's beta/preview notices are for developers, not for the one-line output of a command.
    warnings.filterwarnings("ignore", message=".*(beta|preview).*")
    set_instance_env()
    try:
        return args.func(args)
    except BlueprintError as exc:
        # Whatever raised it, a URL in the message is printed without its password.
        print(f"error: {without_passwords(str(exc))}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (`| head`): stop quietly, as the Python docs advise, so that the
        # interpreter's final flush does not fail on the closed pipe again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141  # 128 + SIGPIPE, what a shell reports for a command a pipe cut short


if __name__ == "__main__":
    sys.exit(main())
