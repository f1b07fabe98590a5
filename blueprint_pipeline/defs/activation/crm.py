"""Group `activation`: the CRM write-back (docs/activation.md#crm-write-back)."""

from collections.abc import Iterator

import dagster as dg
import pandas as pd

from blueprint_pipeline.activation.crm import (
    account_updates_csv,
    row_hash,
    upsert_columns,
    upsert_csv,
    writeback_columns,
    writeback_rows,
)
from blueprint_pipeline.activation.files import write_folder
from blueprint_pipeline.activation.state import CRM, baseline, check_moves_forward, complete, create_state
from blueprint_pipeline.core.csv_safety import formula_cells
from blueprint_pipeline.core.faults import crash_point
from blueprint_pipeline.core.run_facts import run_facts
from blueprint_pipeline.core.step_order import AFTER_THE_ALERTS
from blueprint_pipeline.defs.activation import checks
from blueprint_pipeline.resources import ActivationResource, BlueprintConfigResource
from blueprint_pipeline.sql_models.checks import checked_transaction, declared_checks
from blueprint_pipeline.warehouse import Warehouse
from blueprint_pipeline.warehouse.stateful import create

TABLE = "crm_buying_group_writeback"
# Per as-of: each group's row hash and the journey field updates written out (activation/state.py).
SENT, UPDATES_SENT = "crm_writeback_sent", "crm_field_updates_sent"


@dg.asset(
    kinds={"python"},
    deps=[
        "buying_group_stages",
        "buying_group_engagement",
        "buying_group_roles",
        "journey_enrolments",
        "crm_field_updates",
    ],
    op_tags=AFTER_THE_ALERTS,
    check_specs=[*checks.specs(TABLE, checks.FORBIDDEN), *declared_checks(TABLE)],
)
def crm_buying_group_writeback(
    context: dg.AssetExecutionContext,
    warehouse: Warehouse,
    blueprint_config: BlueprintConfigResource,
    activation: ActivationResource,
) -> Iterator:
    """One row per buying group (stage, completeness, engagement score, roles filled and missing,
    last stage change) and, under data/activation/crm/<as-of>/, the Bulk API upsert CSV of every
    group, the delta of the groups that changed since the last completed write-back before this
    as-of, and the journeys' Account field updates that no such write-back wrote out (so a re-run
    at the same as-of writes the same files). When a governance policy forbids the write-back,
    nothing is written."""
    loaded = blueprint_config.loaded
    crm = loaded.config.activation.crm
    facts = run_facts(context, loaded.version)
    blocked = checks.gate(context, loaded.config, "crm")
    yield checks.forbidden_result(blocked)
    if blocked:
        for spec in declared_checks(TABLE):
            yield dg.AssetCheckResult(
                check_name=spec.name, passed=True, metadata={"skipped": "blocked by governance"}
            )
        yield dg.MaterializeResult(
            metadata={"blocked": "write-back", **checks.blocked_summary(blocked, "crm"), **facts.metadata()}
        )
        return
    stamp = f"{facts.as_of:%Y%m%dT%H%M%S}"
    with checked_transaction(warehouse, TABLE) as (session, checked):
        create_state(session)
        create(session, SENT, UPDATES_SENT)
        check_moves_forward(session, CRM[0], [CRM[1]], facts.as_of)
        at = {"t": facts.as_of, "since": baseline(session, *CRM, facts.as_of)}
        rows = writeback_rows(session)
        rows["row_hash"] = row_hash(rows) if len(rows) else pd.Series(dtype="string")
        sent = dict(
            session.fetchall(f"select buying_group_id, row_hash from {SENT} where activated_at = $since", at)
        )
        changed = [sent.get(g) != h for g, h in zip(rows["buying_group_id"], rows["row_hash"], strict=True)]
        delta = rows[pd.Series(changed, index=rows.index, dtype=bool)]
        # The journeys' field updates up to this as-of that no completed write-back before it wrote
        # out: by step key, kept for good (there is no full file to fall back on). Its rows commit
        # only with complete(), so a row before this as-of is a completed write-back's; never join
        # activation_completed, which complete() prunes (an update would count as unsent again
        # and set Salesforce back to its stale value).
        updates = (
            session.fetch_df(
                "select step_key, account_id, field, value from crm_field_updates where happened_at <= $t "
                f"and step_key not in (select step_key from {UPDATES_SENT} where activated_at < $t) "
                "order by happened_at, step_key",
                {"t": facts.as_of},
            )
            if session.table_exists("crm_field_updates")
            else pd.DataFrame(columns=["step_key", "account_id", "field", "value"])
        )
        session.replace_table(TABLE, rows.drop(columns="row_hash"))
        for table, frame in (
            (SENT, rows[["buying_group_id", "row_hash"]]),
            (UPDATES_SENT, updates[["step_key"]]),
        ):
            session.execute(f"delete from {table} where activated_at = $t", at)
            if len(frame):
                stamped = frame.assign(activated_at=pd.Timestamp(facts.as_of))
                session.insert_from_local_query(
                    table, list(stamped.columns), "select * from f", frames={"f": stamped}
                )
        files = {
            "buying_groups_upsert.csv": upsert_csv(rows, crm),
            "buying_groups_delta.csv": upsert_csv(delta, crm),
        }
        if len(updates):
            files["account_updates.csv"] = account_updates_csv(updates)
        formulas = formula_cells(rows, upsert_columns(crm)) + formula_cells(updates, ["value"])
        manifest = {
            "object": crm.object,
            "external_id_field": crm.external_id_field,
            "built_for": stamp,
            "rows": len(rows),
            "changed": len(delta),
            "account_field_updates": len(updates),
            "formula_like_values": formulas,
            "columns": writeback_columns(loaded.config),
            "config_version": loaded.version,
        }
        write_folder(activation.root / "crm" / stamp, files, manifest)
        complete(session, *CRM, facts.as_of, pruned=(SENT,))  # files in place: commits with the rest
        crash_point("crm_writeback")  # files written, their state not committed
    yield from checked.reported(
        dg.MaterializeResult(
            metadata={
                "dagster/row_count": len(rows),
                "summary/crm write-back": f"{len(rows):,} buying groups, {len(delta):,} changed since the "
                f"last write-back, {len(updates):,} journey field updates",
                "formula_like_values": formulas,
                **(
                    {
                        "summary/crm values a spreadsheet would run": f"{formulas:,} value(s) starting with "
                        "=, +, -, @, tab or CR written raw to the Bulk API files (read by Salesforce; "
                        "do not open them in a spreadsheet)"
                    }
                    if formulas
                    else {}
                ),
                **facts.metadata(),
            }
        )
    )
