"""Delivery of what journeys and sales alerts queued: each message once
(blueprint_pipeline/journeys/delivery.py)."""

import dagster as dg

from blueprint_pipeline.core.run_facts import run_facts
from blueprint_pipeline.journeys.delivery import MAX_ATTEMPTS, OUTBOXES, deliver
from blueprint_pipeline.journeys.engine import tracking_token
from blueprint_pipeline.resources import BlueprintConfigResource, DeliveryResource, LandingResource
from blueprint_pipeline.tracking.events import EventWriter
from blueprint_pipeline.warehouse import Warehouse


def not_sent_table(errors: list[tuple[str, str, str]]) -> str:
    """The messages this run could not send, as a Markdown table for the UI."""
    if not errors:
        return "none"
    lines = ["| message | status | reason |", "|---|---|---|"]
    lines += [f"| {m} | {s} | {r.replace('|', '/')} |" for m, s, r in errors]
    return "\n".join(lines)


def not_sent_summary(errors: list[tuple[str, str, str]], shown: int = 3) -> str:
    """One build-summary line: how many were not sent, what becomes of them, the first reasons."""
    by_status: dict[str, int] = {}
    for _, status, _ in errors:
        by_status[status] = by_status.get(status, 0) + 1
    fates = {"pending": "retried next run", "failed": f"failed after {MAX_ATTEMPTS} attempts",
             "bounced": "bounced"}  # fmt: skip
    counts = ", ".join(f"{n:,} {fates.get(s, s)}" for s, n in sorted(by_status.items()))
    reasons = "; ".join(f"{m}: {r}" for m, _, r in errors[:shown])
    more = f"; and {len(errors) - shown:,} more (asset metadata `not_sent`)" if len(errors) > shown else ""
    # The reasons shown hide addresses and numbers: the outbox keeps each one whole.
    where = " (reason in journey_outbox.last_error or sales_alert_outbox.last_error)"
    return f"{len(errors):,} message(s) not sent ({counts}): {reasons}{more}{where}"


@dg.asset(
    kinds={"python"},
    deps=["journey_outbox", "sales_alerts"],
)
def journey_deliveries(
    context: dg.AssetExecutionContext,
    warehouse: Warehouse,
    blueprint_config: BlueprintConfigResource,
    delivery: DeliveryResource,
    landing: LandingResource,
) -> dg.MaterializeResult:
    """Sends the pending messages of the journeys' outbox and the sales alerts' (`sales_alert_outbox`):
    email over SMTP or into the mailbox folder, SMS to the configured endpoint; marks each sending,
    then sent (or pending again with the error), in the outbox it is in."""
    settings = blueprint_config.loaded.config.journeys.delivery
    facts = run_facts(context, blueprint_config.loaded.version)
    with warehouse.session() as session:
        queued = any(session.table_exists(table) for table in OUTBOXES)
    if not queued:
        return dg.MaterializeResult(metadata={"sent": 0, **facts.metadata()})
    writers: list[EventWriter] = []

    def bounced(row: dict) -> None:
        """Lands a bounce event at once (before the message is marked bounced), like the
        endpoint's events, so the next build suppresses the address."""
        if not writers:
            writers.append(EventWriter(landing.root, rotate_seconds=0))
        writers[0].record("bounce", tracking_token(row["message_id"]), row["person_id"])

    done = deliver(warehouse, delivery.email(), delivery.sms(), settings.from_address, bounced)
    sent = sum(done.sent.values())
    summary = ", ".join(f"{n:,} {channel}" for channel, n in sorted(done.sent.items())) or "nothing"
    for message_id, status, reason in done.errors:
        context.log.warning(f"message {message_id} not sent ({status}): {reason}")
    return dg.MaterializeResult(
        metadata={
            "sent": sent,
            "failed": done.failed,
            "bounced": done.bounced,
            "resent_after_a_crash": done.retried_after_crash,
            "not_sent": dg.MetadataValue.md(not_sent_table(done.errors)),
            "channels": delivery.describe(),
            **({"summary/delivered": f"{summary} ({delivery.describe()})"} if sent or done.failed else {}),
            **({"summary/not delivered": not_sent_summary(done.errors)} if done.errors else {}),
            **facts.metadata(),
        }
    )
