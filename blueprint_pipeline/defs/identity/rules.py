"""The identity config as small tables the SQL models join: no config value is pasted into SQL."""

import dagster as dg
import pandas as pd

from blueprint_pipeline.config.models import PERSON_FIELDS
from blueprint_pipeline.core.run_facts import run_facts
from blueprint_pipeline.resources import BlueprintConfigResource
from blueprint_pipeline.warehouse import Warehouse


@dg.asset(kinds={"python"})
def identity_field_precedence(
    context: dg.AssetExecutionContext, warehouse: Warehouse, blueprint_config: BlueprintConfigResource
) -> dg.MaterializeResult:
    """Per person field, the sources in order of trust (config `identity.person_merge`):
    `unified_persons` takes each field from the first source that has it."""
    policy = blueprint_config.loaded.config.identity.person_merge
    frame = pd.DataFrame(
        [
            (field, source, rank)
            for field in PERSON_FIELDS
            for rank, source in enumerate(policy.order_for(field), start=1)
        ],
        columns=["field", "person_source", "precedence"],
    )
    with warehouse.transaction() as session:
        session.replace_table("identity_field_precedence", frame)
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": len(frame),
            "default order": ", ".join(policy.source_precedence),
            **run_facts(context, blueprint_config.loaded.version).metadata(),
        }
    )


@dg.asset(
    kinds={"python"},
    deps=["personal_email_domains"],
)
def identity_personal_domains(
    context: dg.AssetExecutionContext, warehouse: Warehouse, blueprint_config: BlueprintConfigResource
) -> dg.MaterializeResult:
    """Email domains that never link a person to an account: the maintained list (seed
    `personal_email_domains`) plus config `identity.account_links.personal_email_domains`."""
    extra = pd.DataFrame(
        {"domain": blueprint_config.loaded.config.identity.account_links.personal_email_domains}, dtype=str
    )
    with warehouse.transaction() as session:
        session.replace_table("identity_personal_domains", extra.assign(origin="config"))
        session.execute(
            "insert into identity_personal_domains (domain, origin) "
            "select distinct lower(trim(domain)), 'maintained list' from personal_email_domains "
            "where lower(trim(domain)) not in (select domain from identity_personal_domains)"
        )
        count = session.row_count("identity_personal_domains")
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": count,
            "from config": len(extra),
            **run_facts(context, blueprint_config.loaded.version).metadata(),
        }
    )
