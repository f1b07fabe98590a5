"""Errors a user can act on: the CLI prints them as one line, without a traceback."""


class BlueprintError(Exception):
    """Base for every error whose message is meant for the user as it stands."""


class ConfigError(BlueprintError):
    """A config file is missing, unreadable or does not match its schema."""


class WarehouseError(BlueprintError):
    """The warehouse URL is wrong or the warehouse cannot be reached."""


class SqlModelError(BlueprintError):
    """A SQL model or its YAML file is invalid (bad ref, cycle, unknown test, ...)."""
