"""Run failures reach people through the journeys' channels (docs/reporting.md#monitoring)."""

import hashlib
import os
from email.message import EmailMessage
from email.utils import formatdate

import dagster as dg

from blueprint_pipeline.core.redact import redacted
from blueprint_pipeline.resources import BlueprintConfigResource, DeliveryResource, sensor_status

UI_URL_ENV = "BLUEPRINT_UI_URL"


def failure_message(run: dg.DagsterRun, steps: dict[str, str], error: str, ui: str) -> tuple[str, str]:
    """(subject, text) of the alert: the job, the run, each failed step with the first line of its
    error, without data values (they may be personal)."""
    subject = f"[blueprint] run failed: {run.job_name} ({run.run_id[:8]})"
    lines = [f"The run {run.run_id} of {run.job_name} failed.", ""]
    lines += [f"- {step}: {redacted(message)}" for step, message in sorted(steps.items())] or [
        f"- outside a step: {redacted(error) or 'see the run'}"
    ]
    lines += ["", f"Open it: {ui.rstrip('/')}/runs/{run.run_id}"]
    return subject, "\n".join(lines) + "\n"


@dg.run_failure_sensor(
    name="run_failure_alerts",
    default_status=sensor_status(),
    minimum_interval_seconds=30,
    description="Emails (and texts, when an SMS endpoint is set) reporting.monitoring's recipients "
    "about each failed run, through the journeys' delivery (SMTP or the mailbox folder).",
)
def run_failure_alerts(
    context: dg.RunFailureSensorContext, delivery: DeliveryResource, blueprint_config: BlueprintConfigResource
) -> None:
    monitoring = blueprint_config.loaded.config.reporting.monitoring
    run = context.dagster_run
    steps = {}
    for event in context.get_step_failure_events():
        error = event.step_failure_data.error
        while error is not None and error.cause is not None:  # Dagster wraps the asset's own error
            error = error.cause
        steps[event.step_key or "?"] = error.message if error else "failed"
    subject, text = failure_message(
        run, steps, context.failure_event.message or "", os.environ.get(UI_URL_ENV, "http://127.0.0.1:3000")
    )
    sender = blueprint_config.loaded.config.journeys.delivery.from_address
    email = delivery.email()
    for to in monitoring.run_failures_to:
        message = EmailMessage()
        # One id per run and recipient: a sensor retried after a crash overwrites, never doubles.
        recipient = hashlib.sha256(to.encode()).hexdigest()[:8]
        message["Message-ID"] = f"<run-failure-{run.run_id}-{recipient}@{sender.rpartition('@')[2]}>"
        message["From"] = sender
        message["To"] = to
        message["Subject"] = subject
        message["Date"] = formatdate(usegmt=True)
        message.set_content(text)
        email.send(message)
    sms = delivery.sms()
    if sms is not None:
        for number in monitoring.run_failures_sms_to:
            sms.send(number, subject, f"run-failure-{run.run_id}-{number}")
    context.log.info(f"run {run.run_id} failed: told {len(monitoring.run_failures_to)} address(es)")
