"""Turn the SQL project into Dagster assets, the way dagster-dbt's `@dbt_assets` does.
One subsettable multi-asset per layer folder: a step runs its selected models in dependency order
in one process (a step per model would cost ~2 s each under the multiprocess executor;
docs/decisions.md, "One multi-asset per layer folder"). A failed blocking test skips the models
downstream of it in the same step, and Dagster fails the step, which stops downstream steps.
"""

import hashlib
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import dagster as dg

from blueprint_pipeline.catalog import declared_by
from blueprint_pipeline.core.errors import SqlModelError
from blueprint_pipeline.core.naming import source_table
from blueprint_pipeline.core.redact import redacted
from blueprint_pipeline.core.run_facts import run_facts
from blueprint_pipeline.quality.gx_suites import run_suite
from blueprint_pipeline.sql_models.checks import check_result, check_spec
from blueprint_pipeline.sql_models.lineage import column_lineage, derive, upstream_columns
from blueprint_pipeline.sql_models.project import SqlModel, SqlProject
from blueprint_pipeline.sql_models.published import published
from blueprint_pipeline.sql_models.runner import build_model, load_seed, run_tests
from blueprint_pipeline.warehouse import Warehouse


def _description(model: SqlModel) -> str:
    parts = [model.description or f"SQL model `{model.name}`."]
    if model.grain:
        parts.append(f"Grain: {model.grain}.")
    parts.append(
        f"Materialised as `{model.materialized}`"
        + (f", merged on {', '.join(model.unique_key)}." if model.unique_key else ".")
    )
    return "\n\n".join(parts)


def spec_for(model: SqlModel) -> dg.AssetSpec:
    """The translator: key, deps and the file that declares it (whose folder, its layer, becomes its
    group in blueprint_pipeline/catalog.py, with its owner, automation and warehouse kind), all
    from the model's file and YAML."""
    deps = [dg.AssetKey(ref) for ref in model.refs]
    deps += [dg.AssetKey(source_table(system, obj)) for system, obj in model.sources]
    return dg.AssetSpec(
        key=dg.AssetKey(model.name),
        deps=deps,
        code_version=model.code_version,
        description=_description(model),
        kinds={"sql"},
        skippable=True,
        metadata={
            **declared_by(model.path),
            "sql": dg.MetadataValue.md(f"```sql\n{model.sql.strip()}\n```"),
            "materialized": model.materialized,
            "dagster/table_name": model.name,
            "source_file": str(model.path.relative_to(model.path.parent.parent)),
        },
    )


GX_CHECK = "gx_suite"


def check_specs_for(model: SqlModel) -> list[dg.AssetCheckSpec]:
    suite = (
        [
            dg.AssetCheckSpec(
                name=GX_CHECK,
                asset=dg.AssetKey(model.name),
                description="great-expectations suite from the model's YAML (warns; see docs/sources.md)",
            )
        ]
        if model.expectations
        else []
    )
    return suite + [check_spec(model.name, test) for test in model.tests]


def gx_check_result(warehouse: Warehouse, model: SqlModel) -> dg.AssetCheckResult:
    started = time.monotonic()
    suite = run_suite(warehouse, model.name, tuple((n, dict(k)) for n, k in model.expectations))
    failed = sum(not o.success for o in suite.outcomes)
    return dg.AssetCheckResult(
        asset_key=model.name,
        check_name=GX_CHECK,
        passed=suite.success,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "expectations": len(suite.outcomes),
            "expectations_failed": failed,
            "rows_evaluated": suite.rows_evaluated,
            "sampled": suite.sampled,
            "seconds": round(time.monotonic() - started, 2),
            "failed": ", ".join(f"{o.expectation}({o.column})" for o in suite.outcomes if not o.success)
            or "none",
            "results": dg.MetadataValue.md(suite.markdown()),
        },
    )


def _lineage(context, warehouse: Warehouse, project: SqlProject, model: SqlModel) -> dict:
    """The model's derived column lineage, as metadata; a model sqlglot cannot read has none."""
    try:
        with warehouse.session() as session:
            upstream = upstream_columns(session, project, model)
        return {"dagster/column_lineage": column_lineage(project, derive(project.render(model), upstream))}
    except Exception as exc:  # noqa: BLE001 - lineage is shown, never needed to build
        context.log.warning(f"{model.name}: no column lineage ({type(exc).__name__}: {str(exc)[:200]})")
        return {}


def build_selected_models(
    context: dg.AssetExecutionContext,
    project: SqlProject,
    warehouse: Warehouse,
    config_version: str,
    *,
    layer: str,
    extra_metadata: Callable[[SqlModel], dict] | None = None,
) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
    """The body of a layer's asset: the selected models built in dependency order, each with its
    tests; the step fails at the end if one failed. `extra_metadata` adds what the asset that
    declares the models shows beside each table."""
    facts = run_facts(context, config_version)
    selected = {k.to_user_string() for k in context.selected_asset_keys}
    selected_checks = set(context.selected_asset_check_keys)
    blocked: set[str] = set()
    failed: dict[str, str] = {}
    for model in project.in_order(selected):
        if set(model.refs) & blocked:
            context.log.warning(f"{model.name}: skipped, a model or blocking test upstream failed")
            blocked.add(model.name)
            continue
        context.log.info(f"building {model.name} ({model.materialized})")
        tests = [
            t for t in model.tests if dg.AssetCheckKey(dg.AssetKey(model.name), t.name) in selected_checks
        ]
        for test in [t for t in tests if t.to in blocked]:
            context.log.warning(f"{model.name}: {test.name} not run, {test.to} failed in this run")
            tests.remove(test)
        try:
            built = build_model(
                warehouse,
                project,
                model,
                as_of=facts.as_of,
                config_version=facts.config_version,
                full_refresh=facts.full_refresh,
                blocking_tests=tuple(t for t in tests if t.blocking),
            )
            results = list(built.tests)
            if built.published:
                results += run_tests(warehouse, model, [t for t in tests if not t.blocking])
        except Exception as exc:  # one broken model must not stop the independent ones
            reason = redacted(str(exc)) or type(exc).__name__
            context.log.error(f"{model.name} failed: {reason}")
            failed[model.name] = reason
            blocked.add(model.name)
            continue
        if built.published:
            yield dg.MaterializeResult(
                asset_key=model.name,
                metadata={
                    **published(warehouse, model.name),
                    **_lineage(context, warehouse, project, model),
                    **({} if built.row_count is None else {"dagster/row_count": built.row_count}),
                    "rows_inserted": built.rows_inserted,
                    "rows_replaced": built.rows_replaced,
                    "rows_removed": built.rows_removed,
                    "build_mode": built.mode,
                    **(extra_metadata(model) if extra_metadata else {}),
                    **facts.metadata(),
                },
            )
        else:
            context.log.error(f"{model.name}: a blocking test failed; the build was rolled back")
            blocked.add(model.name)
        for result in results:
            yield check_result(model.name, result)
        if not built.published:
            continue
        if model.expectations and dg.AssetCheckKey(dg.AssetKey(model.name), GX_CHECK) in selected_checks:
            try:
                yield gx_check_result(warehouse, model)
            except Exception as exc:  # a broken suite warns; it never stops the models
                context.log.warning(
                    f"{model.name}: great-expectations suite could not run: {type(exc).__name__}"
                )
                yield dg.AssetCheckResult(
                    asset_key=model.name,
                    check_name=GX_CHECK,
                    passed=False,
                    severity=dg.AssetCheckSeverity.WARN,
                    metadata={"error": type(exc).__name__},
                )
    if failed:
        listed = "; ".join(f"{name}: {reason}" for name, reason in failed.items())
        raise SqlModelError(f"{len(failed)} model(s) failed in {layer}: {listed}")


def build_layer_assets(project: SqlProject, layer: str) -> dg.AssetsDefinition:
    models = [m for m in project.in_order() if m.layer == layer]

    @dg.multi_asset(
        name=f"{layer}_sql_models",
        specs=[spec_for(m) for m in models],
        check_specs=[spec for m in models for spec in check_specs_for(m)],
        can_subset=True,
        description=f"The SQL models of dbt_like_sql/{layer}/, built in dependency order.",
        # By key, not by type: this generic layer knows the config only by its version.
        required_resource_keys={"warehouse", "blueprint_config"},
    )
    def _layer(context: dg.AssetExecutionContext):
        warehouse, version = context.resources.warehouse, context.resources.blueprint_config.loaded.version
        yield from build_selected_models(context, project, warehouse, version, layer=layer)

    return _layer


def build_seed_asset(name: str, path: Path) -> dg.AssetsDefinition:
    """A CSV shipped in dbt_like_sql/seeds/ becomes a table of text columns, as dbt seeds do."""

    @dg.asset(
        name=name,
        kinds={"csv"},
        code_version=hashlib.sha256(path.read_bytes()).hexdigest()[:16],
        description=f"Reference data shipped with the project: dbt_like_sql/seeds/{path.name}.",
        metadata={"dagster/table_name": name, **declared_by(path)},
    )
    def _seed(warehouse: Warehouse) -> dg.MaterializeResult:
        return dg.MaterializeResult(metadata={"dagster/row_count": load_seed(warehouse, name, path)})

    return _seed


def build_sql_model_assets(
    project: SqlProject, declared_elsewhere: Iterable[str] = ()
) -> list[dg.AssetsDefinition]:
    """The seeds and one asset per layer folder, but for the layers whose models another asset
    declares (with `spec_for` and `build_selected_models`)."""
    seeds = [build_seed_asset(name, path) for name, path in project.seeds.items()]
    layers = [layer for layer in project.layers() if layer not in set(declared_elsewhere)]
    return [*seeds, *(build_layer_assets(project, layer) for layer in layers)]
