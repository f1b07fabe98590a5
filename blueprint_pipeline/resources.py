"""The resources every asset gets. Environment variables are read here and nowhere else.

`blueprint run --warehouse/--config/--landing` set these variables, so runs launched later by the
Dagster daemon or the UI (which load the definitions in a new process) see the same choices.
"""

from __future__ import annotations

import os
import secrets
from functools import cached_property
from pathlib import Path
from urllib.parse import urlsplit

import dagster as dg

from blueprint_pipeline.config import LoadedConfig, read_config
from blueprint_pipeline.core.paths import DATA_DIR, DEFAULT_LANDING_DIR
from blueprint_pipeline.governance.lineage import sender_errors
from blueprint_pipeline.journeys.validate import reference_errors as journey_reference_errors
from blueprint_pipeline.warehouse import Warehouse, warehouse_from_url

WAREHOUSE_URL_ENV = "BLUEPRINT_WAREHOUSE_URL"
WAREHOUSE_SCHEMA_ENV = "BLUEPRINT_WAREHOUSE_SCHEMA"
CONFIG_DIR_ENV = "BLUEPRINT_CONFIG_DIR"
LANDING_DIR_ENV = "BLUEPRINT_LANDING_DIR"
SMTP_URL_ENV = "BLUEPRINT_SMTP_URL"
MAILBOX_DIR_ENV = "BLUEPRINT_MAILBOX_DIR"
SMS_URL_ENV = "BLUEPRINT_SMS_URL"
SMS_TOKEN_ENV = "BLUEPRINT_SMS_TOKEN"
TRACKING_SECRET_ENV = "BLUEPRINT_TRACKING_SECRET"
AUTOMATION_ENV = "BLUEPRINT_AUTOMATION"
ACTIVATION_DIR_ENV = "BLUEPRINT_ACTIVATION_DIR"
REPORTS_DIR_ENV = "BLUEPRINT_REPORTS_DIR"
MODELS_DIR_ENV = "BLUEPRINT_MODELS_DIR"
REFRESH_CRON_ENV = "BLUEPRINT_REFRESH_CRON"
EXECUTOR_ENV = "BLUEPRINT_EXECUTOR"
MAX_CONCURRENT_ENV = "BLUEPRINT_MAX_CONCURRENT"
CELERY_BROKER_ENV = "BLUEPRINT_CELERY_BROKER"
CELERY_BACKEND_ENV = "BLUEPRINT_CELERY_BACKEND"
CELERY_QUEUE_ENV = "BLUEPRINT_CELERY_QUEUE"


def load_config(config_dir: str | Path | None = None) -> LoadedConfig:
    """The config validated whole (None: the shipped defaults), or ConfigError naming the file:
    its schema and cross-references, then the journeys' references, then the governance policies
    against what each journey node and alert sends (the lineage follows the names checked before)."""
    return read_config(config_dir, cross_checks=(journey_reference_errors, sender_errors))


def automation_on() -> bool:
    """BLUEPRINT_AUTOMATION=on starts the project's sensors and schedule running (else they wait
    to be turned on in the UI): for a deployment whose daemon should drive everything."""
    return os.environ.get(AUTOMATION_ENV, "").lower() in ("on", "1", "true")


def sensor_status() -> dg.DefaultSensorStatus:
    """How every sensor of the project starts (automation_on)."""
    return dg.DefaultSensorStatus.RUNNING if automation_on() else dg.DefaultSensorStatus.STOPPED


def schedule_status() -> dg.DefaultScheduleStatus:
    """How every schedule of the project starts (automation_on)."""
    return dg.DefaultScheduleStatus.RUNNING if automation_on() else dg.DefaultScheduleStatus.STOPPED


def refresh_cron() -> str:
    return os.environ.get(REFRESH_CRON_ENV, "0 6 * * *")


def executor_settings() -> dict:
    """How runs execute their steps (docs/production.md): BLUEPRINT_EXECUTOR (in_process,
    multiprocess or celery), BLUEPRINT_MAX_CONCURRENT processes for multiprocess, the Celery
    broker and result backend (their URLs may hold a password: they come from here only) and the
    queue the workers listen on."""
    return {
        "name": os.environ.get(EXECUTOR_ENV) or "in_process",
        "max_concurrent": os.environ.get(MAX_CONCURRENT_ENV) or str(os.cpu_count() or 2),
        "broker": os.environ.get(CELERY_BROKER_ENV) or "pyamqp://guest@127.0.0.1:5672//",
        "backend": os.environ.get(CELERY_BACKEND_ENV) or "rpc://",
        "queue": os.environ.get(CELERY_QUEUE_ENV) or "dagster",
    } | {  # for the executor's config: read from the environment at run time, never shown in the UI
        f"{part}_config": {"env": variable} if os.environ.get(variable) else default
        for part, variable, default in (
            ("broker", CELERY_BROKER_ENV, "pyamqp://guest@127.0.0.1:5672//"),
            ("backend", CELERY_BACKEND_ENV, "rpc://"),
        )
    }


def retrain_cron() -> str:
    return os.environ.get("BLUEPRINT_RETRAIN_CRON", "0 5 * * 1")


def tracking_secret() -> str:
    """The key that signs tracking links (BLUEPRINT_TRACKING_SECRET), else one made at random on
    first use and kept in data/tracking_secret, so the journeys and the endpoint agree."""
    given = os.environ.get(TRACKING_SECRET_ENV)
    if given:
        return given
    path = DATA_DIR / "tracking_secret"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it first
            pass
        else:
            with os.fdopen(descriptor, "w") as handle:
                handle.write(secrets.token_hex(32))
    return path.read_text().strip()


def warehouse_from_env() -> Warehouse:
    """The warehouse named by BLUEPRINT_WAREHOUSE_URL (default: the project's DuckDB file)."""
    return pipeline_warehouse(os.environ.get(WAREHOUSE_URL_ENV))


def pipeline_warehouse(url: str | None) -> Warehouse:
    """The warehouse a whole build runs on: DuckDB, PostgreSQL or Spark (docs/operations.md)."""
    return warehouse_from_url(url, os.environ.get(WAREHOUSE_SCHEMA_ENV))


class BlueprintConfigResource(dg.ConfigurableResource):
    """The validated config: the shipped defaults overridden by `config_dir` (or BLUEPRINT_CONFIG_DIR)."""

    config_dir: str | None = None

    @cached_property
    def loaded(self) -> LoadedConfig:
        return load_config(self.config_dir or os.environ.get(CONFIG_DIR_ENV) or None)


class LandingResource(dg.ConfigurableResource):
    """The landing directory with one folder per source system (or BLUEPRINT_LANDING_DIR)."""

    path: str | None = None

    @property
    def root(self) -> Path:
        return Path(self.path or os.environ.get(LANDING_DIR_ENV) or DEFAULT_LANDING_DIR)


class DeliveryResource(dg.ConfigurableResource):
    """Where journey messages go: an SMTP server (BLUEPRINT_SMTP_URL, smtp://user:password@host:port
    ?starttls=true), else .eml files in a mailbox folder (BLUEPRINT_MAILBOX_DIR, default
    data/mailbox), so nothing leaves the machine until a server is configured; SMS to an HTTP
    endpoint (BLUEPRINT_SMS_URL, BLUEPRINT_SMS_TOKEN)."""

    smtp_url: str | None = None
    mailbox_dir: str | None = None
    sms_url: str | None = None
    sms_token: str | None = None

    def email(self):
        from blueprint_pipeline.journeys.delivery import MailboxSender, SmtpSender

        url = self.smtp_url or os.environ.get(SMTP_URL_ENV)
        if url:
            return SmtpSender(url)
        return MailboxSender(
            Path(self.mailbox_dir or os.environ.get(MAILBOX_DIR_ENV) or DATA_DIR / "mailbox")
        )

    def mailbox_folder(self) -> Path | None:
        """The mailbox folder messages are written to, or None when they go to an SMTP server."""
        email = self.email()
        return getattr(email, "folder", None)

    def sms(self):
        from blueprint_pipeline.journeys.delivery import HttpSms

        url = self.sms_url or os.environ.get(SMS_URL_ENV)
        return HttpSms(url, self.sms_token or os.environ.get(SMS_TOKEN_ENV)) if url else None

    def describe(self) -> str:
        """Where messages go, without credentials (this lands in Dagster's event log)."""
        email = self.email()
        if hasattr(email, "url"):
            parts = urlsplit(email.url)
            where = f"SMTP {parts.hostname}:{parts.port or 25}"
        else:
            where = f"mailbox {email.folder}"
        return f"email: {where}; sms: {'HTTP endpoint' if self.sms() else 'none'}"


class ActivationResource(dg.ConfigurableResource):
    """Where activation files go (BLUEPRINT_ACTIVATION_DIR, default data/activation)."""

    path: str | None = None

    @property
    def root(self) -> Path:
        return Path(self.path or os.environ.get(ACTIVATION_DIR_ENV) or DATA_DIR / "activation")


def reports_dir() -> Path:
    """Where the dashboard and the sales hand-off go (BLUEPRINT_REPORTS_DIR, default data/reports)."""
    return Path(os.environ.get(REPORTS_DIR_ENV) or DATA_DIR / "reports")


def models_dir() -> Path:
    """Where readiness models are saved (BLUEPRINT_MODELS_DIR, default data/models)."""
    return Path(os.environ.get(MODELS_DIR_ENV) or DATA_DIR / "models")
