"""How every asset reads in the Dagster UI: its layer as a tag, an owner, the warehouse among its
kinds, and a description that states the grain (docs/reporting.md#the-ui)."""

from __future__ import annotations

import dagster as dg

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
    "person_score_adjustments": "one row per score change a journey made",
    "sales_alerts": "one row per alert fired, in sales_alert_log",
    "journey_deliveries": "no table: sends the outbox's pending messages and marks them",
    "linkedin_audiences": "files: one folder per list and build; activation_members one row per member",
    "marketo_static_lists": "files: one folder per list and build; activation_members one row per member",
    "retention": "no table: deletes expired rows, with counts",
    "deletion_requests": "no table: applies request files; forget_requests one row per request",
    "dashboard": "files: one page and one CSV per build",
}


def _grain(spec: dg.AssetSpec) -> str | None:
    name = spec.key.to_user_string()
    if name in GRAINS:
        return GRAINS[name]
    if spec.group_name == "sources":
        return "one row per record of each ingested file, as text, with the file and row it came from"
    if spec.group_name == "seeds":
        return "one row per row of the seed file"
    return None


def catalogued(spec: dg.AssetSpec, dialect: str) -> dg.AssetSpec:
    """Its layer as a tag, an owner, the warehouse among the kinds (at most three, as Dagster shows
    them: sql or python, the warehouse, and csv or html), and the grain in the description."""
    kinds = set(spec.kinds) | {dialect}
    kinds = kinds if len(kinds) <= 3 else set(spec.kinds)
    owners = list(spec.owners) or [OWNERS.get(spec.group_name or "", DEFAULT_OWNER)]
    tags = {k: v for k, v in spec.tags.items() if not k.startswith("dagster/kind/")}
    tags["layer"] = spec.group_name or "default"
    description = spec.description or ""
    grain = _grain(spec)
    if grain and "grain" not in description.lower():
        description = f"{description}\n\nGrain: {grain}.".strip()
    return spec.replace_attributes(kinds=kinds, owners=owners, tags=tags, description=description)
