"""Standing sales-alert rules (config `alerts`), evaluated every build after scores and stages;
their alerts go to their own outbox, which delivery sends with the journeys' (docs/alerts.md)."""

import dagster as dg
import pandas as pd

from blueprint_pipeline.alerts.rules import evaluate
from blueprint_pipeline.alerts.send import fill, prepare, rule_message
from blueprint_pipeline.core.run_facts import run_facts
from blueprint_pipeline.journeys.tables import append, append_columns
from blueprint_pipeline.resources import BlueprintConfigResource
from blueprint_pipeline.warehouse import Warehouse
from blueprint_pipeline.warehouse.stateful import create

STATE, LOG, OUTBOX = "sales_alert_state", "sales_alert_log", "sales_alert_outbox"


MEMORY = ("armed", "fired", "seq", "definition")  # a rule's memory of a group, beside its key


def _memory(frame: pd.DataFrame) -> dict[tuple[str, str], dict]:
    """`sales_alert_state` as `evaluate` takes it, read by columns (rows of rules times groups: 77k
    groups made it 1.2 s by rows). A table from before `definition` existed starts quiet."""
    definitions = frame["definition"].tolist() if "definition" in frame.columns else [None] * len(frame)
    keys = zip(frame["rule"].tolist(), frame["buying_group_id"].tolist(), strict=True)
    values = zip(
        frame["armed"].tolist(), frame["fired"].tolist(), frame["seq"].tolist(), definitions, strict=True
    )
    return {
        key: {"armed": bool(armed), "fired": bool(fired), "seq": int(seq), "definition": definition}
        for key, (armed, fired, seq, definition) in zip(keys, values, strict=True)
    }


@dg.asset(
    kinds={"python"},
    deps=[
        "buying_group_stages",
        "buying_group_engagement",
        "person_engagement_contributions",
        "stg_salesforce__users",
        "readiness_scores",
    ],
)
def sales_alerts(
    context: dg.AssetExecutionContext, warehouse: Warehouse, blueprint_config: BlueprintConfigResource
) -> dg.MaterializeResult:
    """Append-only `sales_alert_log` (rule, group, reason, where it was routed and why) of the
    alerts the standing rules fired this build, and each rule's memory in `sales_alert_state`;
    the alerts themselves are queued in `sales_alert_outbox` (channel sales_alert), which
    `journey_deliveries` sends with the journeys' outbox."""
    loaded = blueprint_config.loaded
    config = loaded.config
    facts_of_run = run_facts(context, loaded.version)
    as_of = facts_of_run.as_of
    domain = config.journeys.delivery.from_address.rpartition("@")[2]
    with warehouse.transaction() as session:
        create(session, OUTBOX, STATE, LOG)
        groups = session.fetch_df(
            "select g.buying_group_id, g.solution_interest, s.stage, coalesce(e.score, 0) as score, "
            "coalesce(g.is_complete, false) as is_complete, "
            "coalesce(g.completeness_score, 0) as completeness from buying_groups as g "
            "left join buying_group_stages as s on s.buying_group_id = g.buying_group_id "
            "left join buying_group_engagement as e on e.buying_group_id = g.buying_group_id "
            "order by g.buying_group_id"
        )
        moves = session.fetch_df(
            "select h.change_seq, h.buying_group_id, g.solution_interest, h.from_stage, h.to_stage "
            "from buying_group_stage_history as h "
            "inner join buying_groups as g on g.buying_group_id = h.buying_group_id"
        )
        state = _memory(session.fetch_df(f"select * from {STATE}"))
        result = evaluate(config.alerts, groups, moves, state)
        facts, territory = prepare(session, config, sorted({f.buying_group_id for f in result.fired}), as_of)
        messages, log = [], []
        for fired in result.fired:
            if fired.buying_group_id not in facts:
                continue
            group = facts[fired.buying_group_id]
            message = rule_message(fired.buying_group_id, fired.rule, fired.reason, as_of, domain)
            message["account_id"] = group["account"]["id"]
            fill(message, group, territory.get(group["account"]["id"]), config, fired.reason, fired.rule)
            log.append(
                {
                    "rule": fired.rule,
                    "buying_group_id": fired.buying_group_id,
                    "reason": fired.reason,
                    "routed_to": message["to_address"],
                    "routed_by": message.pop("routed_by"),
                    "message_id": message["message_id"],
                    "fired_at": as_of,
                    "config_version": loaded.version,
                }
            )
            messages.append(message | {"attempts": 0})
        session.execute(f"drop table {STATE}")  # rewritten whole (and with today's columns)
        create(session, STATE)
        remembered = sorted(result.state.items())
        append_columns(
            session,
            STATE,
            {
                "rule": [rule for (rule, _), _ in remembered],
                "buying_group_id": [group for (_, group), _ in remembered],
                **{column: [memory[column] for _, memory in remembered] for column in MEMORY},
            },
        )
        append(session, LOG, log)
        append(session, OUTBOX, messages)
    by_rule = pd.Series([m["rule"] for m in log], dtype="string").value_counts().to_dict() if log else {}
    summary = ", ".join(f"{rule} {n:,}" for rule, n in sorted(by_rule.items()))
    return dg.MaterializeResult(
        metadata={
            "alerts": len(log),
            "rules": ", ".join(sorted(config.alerts.rules)) or "none",
            **({"summary/sales alerts": summary} if log else {}),
            **(
                {
                    "summary/sales alerts held back": ", ".join(
                        f"{rule} ({what})" for rule, what in sorted(result.quiet.items())
                    )
                }
                if result.quiet
                else {}
            ),
            **facts_of_run.metadata(),
        }
    )
