"""How a run's steps execute (docs/production.md#executors).

- `in_process` (default): every step in the run's own process. The right choice for DuckDB, which
  allows one writing process, and the fastest for small data (a step in a new process pays ~2 s
  of imports and definitions).
- `multiprocess`: a process per step, up to BLUEPRINT_MAX_CONCURRENT at once, on one machine.
- `celery`: steps go to Celery workers through a broker (RabbitMQ or Redis), on any machine that
  reaches the broker, the warehouse and the Dagster instance's PostgreSQL storage.

The last two need a PostgreSQL warehouse (several writers) and a persistent Dagster instance.
"""

from __future__ import annotations

import dagster as dg
from dagster._core.executor.base import Executor

from blueprint_pipeline.core.errors import BlueprintError
from blueprint_pipeline.warehouse.migrations import migrate

EXECUTORS = ("in_process", "multiprocess", "celery")


class _RunsTakeTurns(Executor):
    """The chosen executor, inside the warehouse's run lock (Warehouse.run_lock): on PostgreSQL two
    runs on one schema take turns, whatever launched them (the CLI, a sensor, the UI). Steps
    within a run still run side by side. The lock is held by the process that hands steps out,
    which first upgrades the stateful tables (warehouse/migrations.py)."""

    def __init__(self, inner: Executor, warehouse):
        self.inner, self.warehouse = inner, warehouse

    def __getattr__(self, name: str):
        # Executors read their settings off the run's executor (dagster-celery: `app_args`).
        return getattr(self.inner, name)

    def execute(self, plan_context, execution_plan):
        with self.warehouse.run_lock():
            for line in migrate(self.warehouse):
                plan_context.log.info(f"schema upgraded: {line}")
            yield from self.inner.execute(plan_context, execution_plan)

    @property
    def retries(self):
        return self.inner.retries

    @property
    def step_dependency_config(self):
        return self.inner.step_dependency_config


def _taking_turns(inner: dg.ExecutorDefinition, warehouse) -> dg.ExecutorDefinition:
    return dg.ExecutorDefinition(
        name=inner.name,
        config_schema=inner.config_schema,
        executor_creation_fn=lambda context: _RunsTakeTurns(inner.executor_creation_fn(context), warehouse),
        requirements=inner.get_requirements,
        description=inner.description,
    )


def executor_for(settings: dict, warehouse) -> dg.ExecutorDefinition:
    return _taking_turns(_executor(settings, warehouse.dialect), warehouse)


def _executor(settings: dict, dialect: str) -> dg.ExecutorDefinition:
    name = settings["name"]
    if name not in EXECUTORS:
        raise BlueprintError(f"BLUEPRINT_EXECUTOR={name!r}: expected one of {', '.join(EXECUTORS)}")
    if name == "in_process":
        return dg.in_process_executor
    if dialect == "duckdb":
        raise BlueprintError(
            f"the {name} executor runs steps in several processes at once and DuckDB allows one "
            "writing process: use a PostgreSQL warehouse (docs/production.md) or the in_process executor"
        )
    if dialect == "spark":
        raise BlueprintError(
            f"the {name} executor runs steps in several processes at once, and the Spark "
            "warehouse commits a table at a time: steps that write one table together (every "
            "source asset writes the file ledger) would have their commits refused. Spark spreads "
            "each step's work over its executors: use the in_process executor (docs/operations.md)"
        )
    if name == "multiprocess":
        try:
            processes = int(settings["max_concurrent"])
        except ValueError:
            raise BlueprintError(
                f"BLUEPRINT_MAX_CONCURRENT={settings['max_concurrent']!r}: expected a whole number"
            ) from None
        # Steps fork from a server that has imported everything and built the definitions once.
        preload = ["dagster._core.executor.multiprocess", "blueprint_pipeline.runtime.preload"]
        start = {"forkserver": {"preload_modules": preload}}
        return dg.multiprocess_executor.configured(
            {"max_concurrent": max(1, processes), "start_method": start}
        )
    from dagster_celery import celery_executor

    # From the environment at run time: a configured value would show in the UI, password and all.
    return celery_executor.configured(
        {
            "broker": settings["broker_config"],
            "backend": settings["backend_config"],
            "config_source": {"task_default_queue": settings["queue"]},  # workers: celery ... worker -Q <it>
        }
    )
