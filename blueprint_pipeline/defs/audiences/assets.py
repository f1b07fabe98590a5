"""Account audiences: members now (`account_audience_members`) and the history of joins and leaves."""

import dagster as dg

from blueprint_pipeline.audiences.membership import HISTORY_COLUMNS, MEMBER_COLUMNS, changes, current_members
from blueprint_pipeline.core.histories import check_history_moves_forward
from blueprint_pipeline.core.run_facts import run_facts
from blueprint_pipeline.resources import BlueprintConfigResource
from blueprint_pipeline.sql_models.checks import checked_transaction, declared_checks
from blueprint_pipeline.sql_models.published import published
from blueprint_pipeline.warehouse import Warehouse
from blueprint_pipeline.warehouse.stateful import create


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            "account_audience_members",
            kinds={"python", "sql"},
            deps=["unified_accounts", "account_aliases", "int_account_activity"],
            description="One row per audience (config audiences.yaml) and member account, with how it "
            "matched (filter or static_list).",
        ),
        dg.AssetSpec(
            "account_audience_history",
            kinds={"python"},
            deps=["unified_accounts"],
            description="Append-only: every account joining or leaving an audience, at the run's as-of time.",
        ),
    ],
    check_specs=declared_checks("account_audience_members"),
)
def account_audiences(
    context: dg.AssetExecutionContext, warehouse: Warehouse, blueprint_config: BlueprintConfigResource
):
    loaded = blueprint_config.loaded
    facts = run_facts(context, loaded.version)
    with checked_transaction(warehouse, "account_audience_members") as (session, checked):
        check_history_moves_forward(session, facts.as_of, "account_audience_history")
        membership = current_members(session, loaded, facts.as_of)
        previous = (
            session.fetch_df("select audience_id, account_id from account_audience_members")
            if session.table_exists("account_audience_members")
            else membership.members.iloc[0:0]
        )
        events = changes(previous, membership.members, facts.as_of)
        session.replace_table("account_audience_members", membership.members[MEMBER_COLUMNS])
        create(session, "account_audience_history")
        if len(events):
            session.insert_from_local_query(
                "account_audience_history",
                [*HISTORY_COLUMNS, "config_version"],
                "select * from events",
                frames={"events": events.assign(config_version=facts.config_version)},
            )
    sizes = membership.members["audience_id"].value_counts().to_dict()
    counts = events["event"].value_counts().to_dict()
    yield from checked.reported(
        dg.MaterializeResult(
            asset_key="account_audience_members",
            metadata={
                **published(warehouse, "account_audience_members"),
                "dagster/row_count": len(membership.members),
                **{
                    f"summary/static list ids naming no account ({name})": ", ".join(ids[:10])
                    + (f" and {len(ids) - 10} more" if len(ids) > 10 else "")
                    for name, ids in membership.unknown_list_ids.items()
                    if ids
                },
                "summary/audiences": ", ".join(
                    f"{n} {int(sizes.get(n, 0)):,}" for n in loaded.config.audiences.audiences
                )
                or "none",
                **{f"size/{name}": int(sizes.get(name, 0)) for name in loaded.config.audiences.audiences},
                **{
                    f"unknown_list_ids/{name}": dg.MetadataValue.text(
                        ", ".join(ids[:20]) + (" ..." if len(ids) > 20 else "")
                    )
                    for name, ids in membership.unknown_list_ids.items()
                    if ids
                },
                **facts.metadata(),
            },
        ),
        dg.MaterializeResult(
            asset_key="account_audience_history",
            metadata={
                "joined": int(counts.get("joined", 0)),
                "left": int(counts.get("left", 0)),
                **facts.metadata(),
            },
        ),
    )
