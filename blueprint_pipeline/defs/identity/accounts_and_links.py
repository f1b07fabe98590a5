"""Unified accounts (domain duplicates merged) and person-to-account links with their review queue."""

import dagster as dg

from blueprint_pipeline.core.run_facts import run_facts
from blueprint_pipeline.identity.accounts import unify
from blueprint_pipeline.identity.links import decisions_for, link
from blueprint_pipeline.published import published
from blueprint_pipeline.resources import BlueprintConfigResource
from blueprint_pipeline.warehouse import Session, Warehouse


def _personal_domains(session: Session) -> set[str]:
    return set(session.fetch_df("select domain from identity_personal_domains")["domain"])


def _count(session: Session, sql: str) -> int:
    return int(session.scalar(sql) or 0)


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            "unified_accounts",
            kinds={"python"},
            deps=[
                "stg_salesforce__accounts",
                "stg_salesforce__deleted_records",
                "identity_personal_domains",
                "country_names",
            ],
            description="One row per unified account: CRM accounts, domain duplicates merged into their "
            "survivor, hierarchies kept (parent_account_id, ultimate_parent_id, hierarchy_level).",
        ),
        dg.AssetSpec(
            "account_aliases",
            kinds={"python"},
            deps=["stg_salesforce__accounts", "stg_salesforce__deleted_records"],
            description="Every account id merged away (same domain, or merged in the CRM) -> its survivor.",
        ),
    ],
    check_specs=[
        dg.AssetCheckSpec("one_row_per_account", asset="unified_accounts", blocking=True),
        dg.AssetCheckSpec("parents_exist", asset="unified_accounts", blocking=True),
    ],
)
def unified_accounts(
    context: dg.AssetExecutionContext, warehouse: Warehouse, blueprint_config: BlueprintConfigResource
):
    loaded = blueprint_config.loaded
    facts = run_facts(context, loaded.version)
    with warehouse.transaction() as session:
        crm = session.fetch_df("select * from stg_salesforce__accounts")
        crm_merges = session.fetch_df(
            "select record_id, master_record_id from stg_salesforce__deleted_records "
            "where object_name = 'Account'"
        )
        countries = dict(session.fetchall("select alias, country from country_names"))
        result = unify(
            crm,
            crm_merges,
            _personal_domains(session),
            loaded.config.identity.account_merge.survivor,
            countries,
        )
        session.replace_table("unified_accounts", result.accounts)
        session.replace_table("account_aliases", result.aliases)
        duplicates = _count(session, "select count(*) - count(distinct account_id) from unified_accounts")
        orphans = _count(
            session,
            "select count(*) from unified_accounts as a where parent_account_id is not null "
            "and not exists (select 1 from unified_accounts as p where p.account_id = a.parent_account_id)",
        )
    reasons = result.aliases["reason"].value_counts().to_dict()
    yield dg.MaterializeResult(
        asset_key="unified_accounts",
        metadata={
            **published(warehouse, "unified_accounts"),
            "dagster/row_count": len(result.accounts),
            "crm_accounts": len(crm),
            "summary/unified accounts": f"{len(result.accounts):,} ({len(result.aliases):,} ids merged away)",
            "in_hierarchies": int((result.accounts["hierarchy_level"] > 0).sum()),
            "unknown_parents_dropped": result.unknown_parents,
            **facts.metadata(),
        },
    )
    yield dg.MaterializeResult(
        asset_key="account_aliases",
        metadata={
            **published(warehouse, "account_aliases"),
            "dagster/row_count": len(result.aliases),
            "merged_same_domain": int(reasons.get("same_domain", 0)),
            "merged_in_crm": int(reasons.get("crm_merge", 0)),
            **facts.metadata(),
        },
    )
    yield dg.AssetCheckResult(
        check_name="one_row_per_account",
        asset_key="unified_accounts",
        passed=duplicates == 0,
        metadata={"duplicate_rows": duplicates},
    )
    yield dg.AssetCheckResult(
        check_name="parents_exist",
        asset_key="unified_accounts",
        passed=orphans == 0,
        description="every parent_account_id is a unified account (unknown parents are dropped and "
        "counted in the asset's unknown_parents_dropped)",
        metadata={"accounts_with_unknown_parent": orphans},
    )


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            "person_account_links",
            kinds={"python", "rapidfuzz"},
            deps=[
                "int_person_account_evidence",
                "unified_persons",
                "unified_accounts",
                "account_aliases",
                "identity_personal_domains",
            ],
            description="person_id -> account_id with the method, confidence, clue and evidence; "
            "is_primary on each linked person's strongest link. Later layers use the primary link.",
        ),
        dg.AssetSpec(
            "person_account_review",
            kinds={"python"},
            deps=["int_person_account_evidence", "unified_accounts", "account_aliases"],
            description="Candidate links below the threshold (or ambiguous) for persons with no link: "
            "approve or reject them in the decisions file (docs/identity.md).",
        ),
    ],
    check_specs=[
        dg.AssetCheckSpec("accounts_exist", asset="person_account_links", blocking=True),
        dg.AssetCheckSpec("no_personal_domain_link", asset="person_account_links", blocking=True),
        dg.AssetCheckSpec("one_primary_per_person", asset="person_account_links", blocking=True),
        dg.AssetCheckSpec(
            "linked_share",
            asset="person_account_links",
            description="share of unified persons with an account link (warns below "
            "identity.account_links.min_linked_share)",
        ),
    ],
)
def person_account_links(
    context: dg.AssetExecutionContext, warehouse: Warehouse, blueprint_config: BlueprintConfigResource
):
    loaded = blueprint_config.loaded
    policy = loaded.config.identity.account_links
    facts = run_facts(context, loaded.version)
    decisions = decisions_for(loaded)
    with warehouse.transaction() as session:
        evidence = session.fetch_df(
            "select person_id, source_key, method, value from int_person_account_evidence"
        )
        accounts = session.fetch_df(
            "select account_id, account_name, domain, hierarchy_level, created_at from unified_accounts"
        )
        aliases = session.fetch_df("select alias_account_id, account_id from account_aliases")
        result = link(evidence, accounts, aliases, _personal_domains(session), policy, decisions)
        session.replace_table("person_account_links", result.links)
        session.replace_table("person_account_review", result.review)
        unknown_accounts = _count(
            session,
            "select count(*) from person_account_links as l "
            "where not exists (select 1 from unified_accounts as a where a.account_id = l.account_id)",
        )
        personal = _count(
            session,
            "select count(*) from person_account_links where method = 'email_domain' "
            "and clue in (select domain from identity_personal_domains)",
        )
        bad_primary = _count(
            session,
            "select count(*) from (select person_id from person_account_links group by person_id "
            "having sum(case when is_primary then 1 else 0 end) <> 1) as p",
        )
        persons = _count(session, "select count(*) from unified_persons")
    linked = int(result.links["person_id"].nunique())
    share = linked / persons if persons else 0.0
    methods = result.links.loc[result.links["is_primary"], "method"].value_counts().to_dict()
    yield dg.MaterializeResult(
        asset_key="person_account_links",
        metadata={
            **published(warehouse, "person_account_links"),
            "dagster/row_count": len(result.links),
            "linked_persons": linked,
            "summary/persons with an account": f"{linked:,} of {persons:,} ({share:.0%}); "
            f"{len(result.review):,} candidate link(s) to review in person_account_review",
            "linked_share": dg.MetadataValue.float(round(share, 4)),
            **{f"primary_by_{m}": int(n) for m, n in methods.items()},
            **{k: int(v) for k, v in result.stats.items()},
            "decisions_file": decisions.path or "(none)",
            **facts.metadata(),
        },
    )
    yield dg.MaterializeResult(
        asset_key="person_account_review",
        metadata={
            **published(warehouse, "person_account_review"),
            "dagster/row_count": len(result.review),
            **facts.metadata(),
        },
    )
    yield dg.AssetCheckResult(
        check_name="accounts_exist",
        asset_key="person_account_links",
        passed=unknown_accounts == 0,
        metadata={"links_to_unknown_accounts": unknown_accounts},
    )
    yield dg.AssetCheckResult(
        check_name="no_personal_domain_link",
        asset_key="person_account_links",
        passed=personal == 0,
        metadata={"links_by_personal_domain": personal},
    )
    yield dg.AssetCheckResult(
        check_name="one_primary_per_person",
        asset_key="person_account_links",
        passed=bad_primary == 0,
        metadata={"persons_without_exactly_one_primary": bad_primary},
    )
    yield dg.AssetCheckResult(
        check_name="linked_share",
        asset_key="person_account_links",
        passed=share >= policy.min_linked_share,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "linked_share": dg.MetadataValue.float(round(share, 4)),
            "linked_persons": linked,
            "persons": persons,
        },
    )
