"""One asset per source object declared in dbt_like_sql/sources.yml."""

from datetime import UTC, datetime

import dagster as dg

from blueprint_pipeline.core.run_facts import run_facts
from blueprint_pipeline.ingestion.contract import SourceObject
from blueprint_pipeline.ingestion.landing import files_for, nested_files, unmatched_files
from blueprint_pipeline.ingestion.raw_load import ingest_object
from blueprint_pipeline.resources import BlueprintConfigResource, LandingResource
from blueprint_pipeline.sql_models.project import SqlProject
from blueprint_pipeline.warehouse import Warehouse

FRESH = "extract_fresh"


def build_source_asset(obj: SourceObject, siblings: list[SourceObject]) -> dg.AssetsDefinition:
    @dg.asset(
        name=obj.table,
        kinds={"csv"},
        description=(
            f"{obj.system} {obj.name}: new files from landing/{obj.system}/ "
            f"({', '.join(obj.files)}, or compressed as .csv.gz) appended as text, once per file "
            "(see docs/sources.md)."
        ),
        metadata={"key": obj.key, "dagster/table_name": obj.table},
        check_specs=(
            [
                dg.AssetCheckSpec(
                    FRESH,
                    asset=obj.table,
                    description=f"The newest {obj.system} file landed within reporting.monitoring."
                    f"stale_after_hours.{obj.system} of the run (a stale extract fails it).",
                )
            ]
            if obj is siblings[0]
            else []
        ),
    )
    def _source(
        context: dg.AssetExecutionContext,
        warehouse: Warehouse,
        landing: LandingResource,
        blueprint_config: BlueprintConfigResource,
    ) -> dg.MaterializeResult:
        loaded = blueprint_config.loaded
        facts = run_facts(context, loaded.version)
        extra = loaded.config.sources.file_names.get(obj.system, {})
        aliases = loaded.config.sources.aliases_for(obj.system, obj.name)
        report = ingest_object(warehouse, landing.root, obj, extra, aliases, facts.as_of)
        errors = list(report.errors)
        if obj is siblings[0]:  # one asset per system names the files in sub-folders, which nothing reads
            errors += [
                f"{p.relative_to(landing.root)}: in a sub-folder of {obj.system}/: not read "
                f"(only files directly in {obj.system}/ are)"
                for p in nested_files(landing.root, obj.system)
            ]
        for error in errors:
            context.log.error(f"file skipped: {error}")
        copies = [
            f"{f.file}: {f.reason}" for f in report.files if f.status == "already ingested" and f.reason
        ]
        for copy in copies:
            context.log.info(f"not ingested again: {copy}")
        unmatched = []
        if obj is siblings[0]:  # one asset per system reports the files no object claims
            unmatched = [
                str(p.relative_to(landing.root))
                for p in unmatched_files(landing.root, obj.system, siblings, extra)
            ]
            for name in unmatched:
                context.log.warning(f"{name}: matches no {obj.system} object (see file_names); not ingested")
        with warehouse.session() as session:
            total = session.row_count(obj.table)
        dropped = sum(f.forgotten for f in report.files)
        checks = []
        if obj is siblings[0]:
            limit = loaded.config.reporting.monitoring.stale_after_hours.get(obj.system)
            files = [p for o in siblings for p in files_for(landing.root, o, extra)]
            checks.append(freshness(obj.system, files, limit, facts.as_of))
        return dg.MaterializeResult(
            check_results=checks,
            metadata={
                "dagster/row_count": total,
                "rows_ingested": report.rows_ingested,
                "rows_quarantined": report.rows_quarantined,
                "rows_of_forgotten_persons_dropped": dropped,
                **(
                    {f"summary/{obj.table}": f"{dropped:,} row(s) of forgotten persons dropped"}
                    if dropped
                    else {}
                ),
                "files_ingested": report.count("ingested"),
                "files_already_ingested": report.count("already ingested"),
                "files_skipped": len(errors),
                "skipped_files": dg.MetadataValue.md("\n".join(f"- {e}" for e in errors) or "none"),
                "unmatched_files": dg.MetadataValue.md("\n".join(f"- {n}" for n in unmatched) or "none"),
                "copies_not_ingested": dg.MetadataValue.md("\n".join(f"- {c}" for c in copies) or "none"),
                **facts.metadata(),
            },
        )

    return _source


def freshness(system: str, files: list, limit: float | None, as_of: datetime) -> dg.AssetCheckResult:
    """The system's newest landed file against its age limit (file modification time, UTC)."""
    if limit is None:
        return dg.AssetCheckResult(check_name=FRESH, passed=True, metadata={"watched": "no"})
    if not files:
        return dg.AssetCheckResult(
            check_name=FRESH,
            passed=False,
            severity=dg.AssetCheckSeverity.WARN,
            metadata={"newest_file": "none", "limit_hours": limit},
        )
    newest = max(files, key=lambda p: p.stat().st_mtime)
    arrived = datetime.fromtimestamp(newest.stat().st_mtime, UTC).replace(tzinfo=None)
    age = (as_of - arrived).total_seconds() / 3600
    return dg.AssetCheckResult(
        check_name=FRESH,
        passed=age <= limit,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "newest_file": newest.name,
            "arrived_at": f"{arrived:%Y-%m-%d %H:%M} UTC",
            "age_hours": round(age, 1),
            "limit_hours": limit,
        },
    )


def build_source_assets(project: SqlProject) -> list[dg.AssetsDefinition]:
    by_system: dict[str, list[SourceObject]] = {}
    for obj in project.sources.values():
        by_system.setdefault(obj.system, []).append(obj)
    return [build_source_asset(obj, siblings) for siblings in by_system.values() for obj in siblings]
