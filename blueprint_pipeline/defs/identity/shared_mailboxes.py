"""Shared mailboxes (role addresses, or one address used by clearly different names): the identity
graph draws no email edge between their records, and person matching ignores their email."""

import dagster as dg

from blueprint_pipeline.core.run_facts import run_facts
from blueprint_pipeline.identity.matching.shared_mailboxes import shared_mailboxes_in
from blueprint_pipeline.resources import BlueprintConfigResource
from blueprint_pipeline.warehouse import Warehouse

TABLE = "identity_shared_mailboxes"


@dg.asset(
    name=TABLE,
    kinds={"python"},
    deps=["int_identity_nodes"],
)
def identity_shared_mailboxes(
    context: dg.AssetExecutionContext, warehouse: Warehouse, blueprint_config: BlueprintConfigResource
) -> dg.MaterializeResult:
    """Email addresses several people share: a role mailbox (config
    `identity.person_matching.role_mailboxes`: info@, sales@, ...) or one used by records with
    clearly different first names. Such an address never joins records into one person; records
    at it still join by ids (Marketo's CRM ids, conversions, merges) or by other evidence."""
    roles = blueprint_config.loaded.config.identity.person_matching.role_mailboxes
    with warehouse.transaction() as session:
        found = shared_mailboxes_in(session, "int_identity_nodes", roles)
        session.replace_table(TABLE, found)
    counts = found["reason"].value_counts().to_dict()
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": len(found),
            "role_local_part": int(counts.get("role_local_part", 0)),
            "different_names": int(counts.get("different_names", 0)),
            "records at a shared address": int(found["records"].sum()),
            **run_facts(context, blueprint_config.loaded.version).metadata(),
        }
    )
