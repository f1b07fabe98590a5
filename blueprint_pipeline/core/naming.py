"""Names derived from real export names, in one place."""

from __future__ import annotations

import re


def snake_case(name: str) -> str:
    """AccountId -> account_id, "First name" -> first_name, marketoGUID -> marketo_guid."""
    snake = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name.strip())
    snake = re.sub(r"(?<=[A-Z])(?=[A-Z][a-z])", "_", snake)
    return re.sub(r"[^a-z0-9]+", "_", snake.lower()).strip("_")


def source_table(system: str, obj: str) -> str:
    """The raw table (and asset) of a source object: raw_salesforce__opportunity_contact_role."""
    return f"raw_{snake_case(system)}__{snake_case(obj)}"
