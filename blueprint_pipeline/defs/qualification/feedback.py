"""Group `qualification`: sales' accept and reject decisions (docs/qualification.md#sales-feedback)."""

from collections.abc import Iterator

import dagster as dg
import pandas as pd

from blueprint_pipeline.core.run_facts import run_facts
from blueprint_pipeline.qualification.feedback import sales_feedback as checked_feedback
from blueprint_pipeline.resources import BlueprintConfigResource
from blueprint_pipeline.sql_models.published import published
from blueprint_pipeline.warehouse import Warehouse

TABLE = "sales_feedback"


@dg.asset(
    name=TABLE,
    kinds={"python"},
    deps=["stg_sales__feedback", "account_aliases", "unified_accounts"],
    check_specs=[
        dg.AssetCheckSpec(
            "every_decision_usable",
            asset=TABLE,
            description="Every decision names a CRM account, a solution interest, accepted or rejected "
            "(a rejection with its reason) and a time; the others are kept with their problem and unused.",
        )
    ],
)
def sales_feedback(
    context: dg.AssetExecutionContext, warehouse: Warehouse, blueprint_config: BlueprintConfigResource
) -> Iterator:
    """Sales' decisions on marketing-qualified accounts (landing/sales/feedback*.csv), each on its
    account after merges, with `problem` naming why a row cannot be used (empty: used as a label
    and in the KPI `kpi_mqa_acceptance`). Grain: one row per decision (feedback_id)."""
    loaded = blueprint_config.loaded
    facts = run_facts(context, loaded.version)
    with warehouse.transaction() as session:
        frame = checked_feedback(session, loaded.config, pd.Timestamp(facts.as_of))
        session.replace_table(TABLE, frame)
    bad = frame[frame["problem"] != ""]
    yield dg.AssetCheckResult(
        check_name="every_decision_usable",
        passed=bad.empty,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "failing_rows": len(bad),  # the build summary shows these two
            "failed": "; ".join(
                f"{r.source_file} record {r.source_row}: {r.problem}" for r in bad.head(3).itertuples()
            )
            or "none",
        },
    )
    used = frame[frame["problem"] == ""]
    yield dg.MaterializeResult(
        metadata={
            **published(warehouse, TABLE),
            "accepted": int((used["decision"] == "accepted").sum()),
            "rejected": int((used["decision"] == "rejected").sum()),
            "unusable": len(bad),
            **facts.metadata(),
        }
    )
