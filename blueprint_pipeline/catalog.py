"""The one place that sets, for every asset, its group (its layer), owner, kinds, automation
condition, a `layer` tag and a description that states the grain (docs/reporting.md#the-ui,
docs/architecture.md). Asset decorators say what an asset is; this module says how it is grouped,
owned and kept up to date (blueprint_pipeline_tests/test_catalog.py keeps it that way)."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from blueprint_pipeline.warehouse.stateful import SHARED_WRITES, WRITERS, shared_writer

CODE_REFERENCES = "dagster/code_references"

# Rebuild when an input changed, once the inputs' blocking checks passed: the default.
ON_CHECKED_INPUTS = dg.AutomationCondition.eager() & dg.AutomationCondition.all_deps_blocking_checks_passed()
# Rebuild when an input changed, whatever the inputs' checks said.
ON_ANY_INPUT = dg.AutomationCondition.eager()
# None: built only when a sensor, a schedule or a full build asks for it.
#
# The exceptions to the default, by layer and by asset. What sends data out of the platform
# (activation), what a marketer reads (reporting) and the readiness scores wait for their inputs'
# blocking checks, so a rolled-back or failed input never reaches a list, a page or a score.
AUTOMATION_BY_LAYER: dict[str, dg.AutomationCondition | None] = {
    "sources": None,  # the sensor `landing_files` ingests what lands (docs/operations.md)
    "seeds": None,  # shipped with the code: full builds load them
    # Retention and erasure are obligations: they run whatever the data's checks say.
    "governance": ON_ANY_INPUT,
}
AUTOMATION_BY_ASSET: dict[str, dg.AutomationCondition | None] = {
    # Tables of config (and seeds): no checked inputs.
    "identity_field_precedence": ON_ANY_INPUT,
    "identity_personal_domains": ON_ANY_INPUT,
    "scoring_activity_kinds": ON_ANY_INPUT,
    "scoring_points": ON_ANY_INPUT,
    "scoring_settings": ON_ANY_INPUT,
    "scoring_suite_weights": ON_ANY_INPUT,
    "person_score_adjustments": ON_ANY_INPUT,
    # Sends the outbox and the alerts, which have no blocking checks.
    "journey_deliveries": ON_ANY_INPUT,
    # Retrained by the schedule `retrain_readiness_model` and by full builds only.
    "qualification_training_set": None,
    "qualification_models": None,
}

# Who answers for each layer, shown as the asset's owner.
OWNERS = {
    "sources": "team:data-platform",
    "staging": "team:data-platform",
    "seeds": "team:data-platform",
    "identity": "team:data-platform",
    "governance": "team:data-governance",
}
DEFAULT_OWNER = "team:marketing-ops"
# The grain of the assets whose own description does not state it (SQL models take theirs from
# their YAML; these are the Python assets, the raw sources and the seeds).
GRAINS = {
    "account_audience_history": "one row per audience membership change (joined or left)",
    "buying_group_member_events": "one row per member change of a buying group",
    "person_account_links": "one row per person and linked account",
    "person_account_review": "one row per candidate link waiting for a reviewer",
    "account_aliases": "one row per account id merged into another",
    "person_registry": "one row per source record (source key), with its stable person id",
    "identity_field_precedence": "one row per field and person source",
    "identity_personal_domains": "one row per personal email domain",
    "identity_shared_mailboxes": "one row per shared email address, with its reason and record count",
    "journey_node_counts": "one row per journey, node and outcome",
    "journey_step_log": "one row per step taken (enrolment, node, person)",
    "journey_outbox": "one row per message",
    "buying_group_stage_history": "one row per stage change",
    "buying_group_stage_refusals": "one row per refused stage move",
    "scoring_points": "one row per activity kind",
    "scoring_suite_weights": "one row per activity kind",
    "scoring_settings": "one row",
    "person_score_adjustments": "one row per score change a journey made, as of the previous run",
    "journey_score_adjustments": "one row per score change a journey made",
    "journey_account_lists": "one row per list change a journey made",
    "journey_member_events": "one row per membership change a journey made",
    "journey_stage_moves": "one row per stage move a journey made",
    "journey_stage_refusals": "one row per stage move a journey asked for and the stage model refused",
    "linkedin_audience_additions": "one row per account a journey added to a LinkedIn audience",
    "crm_field_updates": "one row per Account field value a journey set",
    "buying_group_status_history": "one row per status a journey set",
    "reporting_settings": "one row",
    "reporting_bands": "one row per measure and band",
    "reporting_qualified_stages": "one row per qualified stage",
    "reporting_solution_interests": "one row per solution interest",
    "sales_alerts": "one row per alert fired, in sales_alert_log",
    "journey_deliveries": "no table: sends the outbox's pending messages and marks them",
    "linkedin_audiences": "files: one folder per list and build; activation_members one row per member",
    "marketo_static_lists": "files: one folder per list and build; activation_members one row per member",
    "retention": "no table: deletes expired rows, with counts",
    "deletion_requests": "no table: applies request files; forget_requests one row per request",
    "dashboard": "files: one page and one CSV per build",
}


def _grain(name: str, layer: str) -> str | None:
    if name in GRAINS:
        return GRAINS[name]
    if layer == "sources":
        return "one row per record of each ingested file, as text, with the file and row it came from"
    if layer == "seeds":
        return "one row per row of the seed file"
    return None


def declared_by(path: Path) -> dict[str, dg.CodeReferencesMetadataValue]:
    """Metadata naming the file that declares an asset whose Python function is generic (a SQL
    model's or a seed's file): `layer_of` reads it, and Dagster links to it as source code."""
    reference = dg.LocalFileCodeReference(file_path=str(path))
    return {CODE_REFERENCES: dg.CodeReferencesMetadataValue(code_references=[reference])}


def declared_in(spec: dg.AssetSpec) -> Path:
    """The file that declares the asset: the one `declared_by` named, else (added by
    `dg.with_source_code_references`) the file of its Python function."""
    references = spec.metadata.get(CODE_REFERENCES)
    files = [
        r.file_path
        for r in (references.code_references if references else [])
        if isinstance(r, dg.LocalFileCodeReference)
    ]
    if not files:
        raise ValueError(f"asset {spec.key.to_user_string()}: no source file to take its layer from")
    return Path(files[0])


def layer_of(spec: dg.AssetSpec) -> str:
    """The folder of the file that declares it: `defs/<layer>/` for Python assets (the raw sources
    in `defs/sources/`), `dbt_like_sql/<layer>/` for SQL models and `dbt_like_sql/seeds/`."""
    return declared_in(spec).parent.name


def automation_for(name: str, layer: str) -> dg.AutomationCondition | None:
    if name in AUTOMATION_BY_ASSET:
        return AUTOMATION_BY_ASSET[name]
    return AUTOMATION_BY_LAYER.get(layer, ON_CHECKED_INPUTS)


def catalogued_spec(spec: dg.AssetSpec, dialect: str) -> dg.AssetSpec:
    """Its layer as the group and a tag, an owner, its automation condition, the warehouse among
    the kinds (at most three, as Dagster shows them: sql or python, the warehouse, and csv or
    html), and the grain in the description."""
    name, layer = spec.key.to_user_string(), layer_of(spec)
    kinds = set(spec.kinds) | {dialect}
    kinds = kinds if len(kinds) <= 3 else set(spec.kinds)
    owners = [OWNERS.get(layer, DEFAULT_OWNER)]
    tags = {k: v for k, v in spec.tags.items() if not k.startswith("dagster/kind/")}
    tags["layer"] = layer
    description = spec.description or ""
    state = sorted(t for t, writer in WRITERS.items() if writer == name)
    shared = sorted(t for t in SHARED_WRITES if shared_writer(t, name))
    metadata = {
        **({"writes_state_tables": ", ".join(state)} if state else {}),
        **({"also_writes (shared, warehouse/stateful.py)": ", ".join(shared)} if shared else {}),
    }
    grain = _grain(name, layer)
    if grain and "grain" not in description.lower():
        description = f"{description}\n\nGrain: {grain}.".strip()
    return spec.replace_attributes(
        group_name=layer,
        automation_condition=automation_for(name, layer),
        kinds=kinds,
        owners=owners,
        tags=tags,
        description=description,
        metadata={**spec.metadata, **metadata},
    )


def catalogued(definitions: dg.Definitions, dialect: str) -> dg.Definitions:
    """Every asset of `definitions` through `catalogued_spec`, each first given a reference to the
    file that declares it (Dagster shows it as the asset's source code)."""
    located = {
        spec.key: spec
        for assets in dg.with_source_code_references(list(definitions.assets or []))
        for spec in (assets.specs if isinstance(assets, dg.AssetsDefinition) else [assets])
    }
    return definitions.map_asset_specs(func=lambda spec: catalogued_spec(located[spec.key], dialect))
