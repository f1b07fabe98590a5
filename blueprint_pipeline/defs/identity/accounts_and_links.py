"""Unified accounts (domain duplicates merged) and person-to-account links with their review queue."""

import dagster as dg

from blueprint_pipeline.core.run_facts import run_facts
from blueprint_pipeline.identity.accounts import unify
from blueprint_pipeline.identity.link_inputs import (
    ALL_EVIDENCE,
    CHANGED,
    CHANGED_EVIDENCE,
    INPUTS,
    changed_persons,
    context_key,
    keep_all,
    link_source,
    replace_changed,
)
from blueprint_pipeline.identity.links import decisions_for, link
from blueprint_pipeline.resources import BlueprintConfigResource
from blueprint_pipeline.sql_models.checks import checked_transaction, declared_checks
from blueprint_pipeline.sql_models.published import published
from blueprint_pipeline.warehouse import Session, Warehouse

# Past this share of the linked persons changed, link everyone (replacing two tables is
# cheaper than deleting and inserting most of their rows).
MOST_PERSONS_CHANGED = 0.5


def _persons_linked(session: Session) -> int:
    return int(session.scalar(f"select count(*) from {INPUTS}") or 0)


def _personal_domains(session: Session) -> set[str]:
    return set(session.fetch_df("select domain from identity_personal_domains")["domain"])


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
    check_specs=declared_checks("unified_accounts", "account_aliases"),
)
def unified_accounts(
    context: dg.AssetExecutionContext, warehouse: Warehouse, blueprint_config: BlueprintConfigResource
):
    loaded = blueprint_config.loaded
    facts = run_facts(context, loaded.version)
    with checked_transaction(warehouse, "unified_accounts", "account_aliases") as (session, checked):
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
    reasons = result.aliases["reason"].value_counts().to_dict()
    yield from checked.reported(
        dg.MaterializeResult(
            asset_key="unified_accounts",
            metadata={
                **published(warehouse, "unified_accounts"),
                "dagster/row_count": len(result.accounts),
                "crm_accounts": len(crm),
                "summary/unified accounts": f"{len(result.accounts):,} "
                f"({len(result.aliases):,} ids merged away)",
                "in_hierarchies": int((result.accounts["hierarchy_level"] > 0).sum()),
                "unknown_parents_dropped": result.unknown_parents,
                **facts.metadata(),
            },
        ),
        dg.MaterializeResult(
            asset_key="account_aliases",
            metadata={
                **published(warehouse, "account_aliases"),
                "dagster/row_count": len(result.aliases),
                "merged_same_domain": int(reasons.get("same_domain", 0)),
                "merged_in_crm": int(reasons.get("crm_merge", 0)),
                **facts.metadata(),
            },
        ),
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
        *declared_checks("person_account_links", "person_account_review"),
        # Its threshold is config: computed from the asset's own figures, not SQL.
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
    with checked_transaction(warehouse, "person_account_links", "person_account_review") as (
        session,
        checked,
    ):
        accounts = session.fetch_df(
            "select account_id, account_name, domain, hierarchy_level, created_at from unified_accounts"
        )
        aliases = session.fetch_df("select alias_account_id, account_id from account_aliases")
        personal = _personal_domains(session)
        key = context_key(accounts, aliases, personal, policy, decisions.frame)
        written = all(session.table_exists(t) for t in ("person_account_links", "person_account_review"))
        changed = changed_persons(session, key, facts.full_refresh or not written)
        if changed is None or changed > MOST_PERSONS_CHANGED * _persons_linked(session):
            if changed is not None:
                session.execute(f"drop table {CHANGED}")
            evidence, engine = link_source(session, ALL_EVIDENCE)
            result = link(evidence, accounts, aliases, personal, policy, decisions, engine)
            session.replace_table("person_account_links", result.links)
            session.replace_table("person_account_review", result.review)
            keep_all(session, key)
            mode = "all persons"
        else:
            evidence, engine = link_source(session, CHANGED_EVIDENCE)
            result = link(evidence, accounts, aliases, personal, policy, decisions, engine)
            replace_changed(
                session, {"person_account_links": result.links, "person_account_review": result.review}
            )
            mode = f"{changed:,} person(s) whose clues changed"
        persons = int(session.scalar("select count(*) from unified_persons") or 0)
        linked, links_count = session.fetchall(
            "select count(distinct person_id), count(*) from person_account_links"
        )[0]
        reviews = int(session.scalar("select count(*) from person_account_review") or 0)
        methods = dict(
            session.fetchall("select method, count(*) from person_account_links where is_primary group by 1")
        )
    linked = int(linked)
    share = linked / persons if persons else 0.0
    yield from checked.reported(
        dg.MaterializeResult(
            asset_key="person_account_links",
            metadata={
                **published(warehouse, "person_account_links"),
                "dagster/row_count": int(links_count),
                "linked_persons": linked,
                "summary/persons with an account": f"{linked:,} of {persons:,} ({share:.0%}); "
                f"{reviews:,} candidate link(s) to review in person_account_review; linked this build: "
                f"{mode}",
                "linked_this_build": mode,
                "linked_share": dg.MetadataValue.float(round(share, 4)),
                **{f"primary_by_{m}": int(n) for m, n in methods.items()},
                **{f"{k} (this build's persons)": int(v) for k, v in result.stats.items()},
                "decisions_file": decisions.path or "(none)",
                **facts.metadata(),
            },
        ),
        dg.MaterializeResult(
            asset_key="person_account_review",
            metadata={
                **published(warehouse, "person_account_review"),
                "dagster/row_count": reviews,
                **facts.metadata(),
            },
        ),
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
