"""A compact progress logger for the command line: one short line per step and per message."""

from __future__ import annotations

import logging
import sys
import time

import dagster as dg

_SHOWN_EVENTS = {"STEP_START": "started", "STEP_SUCCESS": "done", "STEP_FAILURE": "FAILED"}


def _shown(record: logging.LogRecord) -> bool:
    """User messages at INFO and above, plus step start / success / failure; not Dagster's chatter."""
    event = (getattr(record, "dagster_meta", {}) or {}).get("dagster_event")
    if event is None:
        return record.levelno >= logging.INFO
    return event.event_type_value in _SHOWN_EVENTS


class _ProgressFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        meta = getattr(record, "dagster_meta", {}) or {}
        step = meta.get("step_key") or "run"
        event = meta.get("dagster_event")
        message = meta.get("orig_message") or record.getMessage()
        if event is not None:
            message = _SHOWN_EVENTS.get(event.event_type_value, message)
        stamp = time.strftime("%H:%M:%S", time.localtime(record.created))
        return f"[{stamp}] {step}: {message}"


@dg.logger(description="One short line per step and message, on stderr (used by `blueprint run`).")
def progress_logger(init_context: dg.InitLoggerContext) -> logging.Logger:
    logger = logging.getLogger("blueprint.progress")
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(_ProgressFormatter())
        handler.addFilter(_shown)
        logger.addHandler(handler)
    return logger
