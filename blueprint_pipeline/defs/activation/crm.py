"""Group `activation`: the CRM write-back (docs/activation.md#crm-write-back)."""

import io
from collections.abc import Iterator

import dagster as dg
import pandas as pd

from blueprint_pipeline.activation.crm import row_hash, upsert_csv, write, writeback_rows
from blueprint_pipeline.defs.activation import checks
from blueprint_pipeline.resources import ActivationResource, BlueprintConfigResource
from blueprint_pipeline.run_facts import run_facts
from blueprint_pipeline.warehouse import Warehouse

TABLE, SENT = "crm_buying_group_writeback", "crm_writeback_sent"


@dg.asset(
    group_name="activation",
    kinds={"python"},
    deps=["buying_group_stages", "buying_group_engagement", "buying_group_roles", "journey_enrolments"],
    automation_condition=dg.AutomationCondition.eager(),
    check_specs=[
        *checks.specs("crm_writeback", checks.FORBIDDEN),
        dg.AssetCheckSpec(
            "one_row_per_buying_group",
            asset="crm_writeback",
            description="The write-back holds every buying group once.",
        ),
    ],
)
def crm_writeback(
    context: dg.AssetExecutionContext,
    warehouse: Warehouse,
    blueprint_config: BlueprintConfigResource,
    activation: ActivationResource,
) -> Iterator:
    """`crm_buying_group_writeback` (one row per buying group: stage, completeness, engagement
    score, roles filled and missing, last stage change) and, under data/activation/crm/<as-of>/, the
    Bulk API upsert CSV of every group, the delta of the groups that changed since the last
    write-back, and the journeys' Account field updates not written out before. When a
    governance policy forbids the write-back, nothing is written."""
    loaded = blueprint_config.loaded
    crm = loaded.config.activation.crm
    facts = run_facts(context, loaded.version)
    blocked = checks.gate(context, loaded.config, "crm")
    yield checks.forbidden_result(blocked)
    if blocked:
        yield dg.AssetCheckResult(
            check_name="one_row_per_buying_group", passed=True, metadata={"skipped": "blocked by governance"}
        )
        yield dg.MaterializeResult(
            metadata={"blocked": "write-back", **checks.blocked_summary(blocked, "crm"), **facts.metadata()}
        )
        return
    with warehouse.transaction() as session:
        session.execute(f"create table if not exists {SENT} (buying_group_id varchar, row_hash varchar)")
        session.execute("create table if not exists crm_field_updates_sent (step_key varchar)")
        rows = writeback_rows(session)
        rows["row_hash"] = row_hash(rows) if len(rows) else pd.Series(dtype="string")
        sent = dict(session.fetchall(f"select buying_group_id, row_hash from {SENT}"))
        changed = [sent.get(g) != h for g, h in zip(rows["buying_group_id"], rows["row_hash"], strict=True)]
        delta = rows[pd.Series(changed, index=rows.index, dtype=bool)]
        updates = (
            session.fetch_df(
                "select step_key, account_id, field, value from crm_field_updates where step_key not in "
                "(select step_key from crm_field_updates_sent) order by happened_at, step_key"
            )
            if session.table_exists("crm_field_updates")
            else pd.DataFrame(columns=["step_key", "account_id", "field", "value"])
        )
        session.replace_table(TABLE, rows.drop(columns="row_hash"))
        session.replace_table(SENT, rows[["buying_group_id", "row_hash"]])
        if len(updates):
            session.insert_from_local_query(
                "crm_field_updates_sent", ["step_key"], "select step_key from u", frames={"u": updates}
            )
        groups, distinct = session.fetchall(
            f"select (select count(*) from buying_groups), count(distinct buying_group_id) from {TABLE}"
        )[0]
    # One row per account with the last value of each field a journey set (an Account update by Id).
    wide = updates.drop_duplicates(["account_id", "field"], keep="last").pivot(
        index="account_id", columns="field", values="value"
    )
    account_file = io.StringIO()
    wide.reset_index().rename(columns={"account_id": "Id"}).to_csv(
        account_file, index=False, lineterminator="\n"
    )
    files = {
        "buying_groups_upsert.csv": upsert_csv(rows, crm),
        "buying_groups_delta.csv": upsert_csv(delta, crm),
    }
    if len(updates):
        files["account_updates.csv"] = account_file.getvalue().encode()
    manifest = {
        "object": crm.object,
        "external_id_field": crm.external_id_field,
        "built_for": f"{facts.as_of:%Y%m%dT%H%M%S}",
        "rows": len(rows),
        "changed": len(delta),
        "account_field_updates": len(updates),
        "config_version": loaded.version,
    }
    write(activation.root / "crm" / f"{facts.as_of:%Y%m%dT%H%M%S}", files, manifest)
    yield dg.AssetCheckResult(
        check_name="one_row_per_buying_group",
        passed=int(groups) == int(distinct) == len(rows),
        metadata={"buying_groups": int(groups), "rows": len(rows)},
    )
    yield dg.MaterializeResult(
        metadata={
            "dagster/row_count": len(rows),
            "summary/crm write-back": f"{len(rows):,} buying groups, {len(delta):,} changed since the "
            f"last write-back, {len(updates):,} journey field updates",
            **facts.metadata(),
        }
    )
