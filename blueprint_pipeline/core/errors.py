"""Errors a user can act on: the CLI prints them as one line, without a traceback."""


class BlueprintError(Exception):
    """Base for every error whose message is meant for the user as it stands."""


class ConfigError(BlueprintError):
    """A config file is missing, unreadable or does not match its schema."""


class WarehouseError(BlueprintError):
    """The warehouse URL is wrong or the warehouse cannot be reached."""


class SqlModelError(BlueprintError):
    """A SQL model or its YAML file is invalid (bad ref, cycle, unknown test, ...)."""


class AsOfError(BlueprintError):
    """A run's as-of time is earlier than what an append-only history already records."""


def check_not_before(as_of, latest, what: str) -> None:
    """Append-only histories move forward in time: a run may not be dated before their last entry
    (replay an earlier period into another warehouse instead)."""
    if latest is not None and as_of < latest:
        raise AsOfError(
            f"as-of {as_of:%Y-%m-%d %H:%M} is before the last entry of {what} ({latest:%Y-%m-%d %H:%M}); "
            "histories only move forward: use a later --as-of, or another warehouse to replay the past"
        )
