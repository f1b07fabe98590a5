"""What every config model shares: unknown keys are errors, and names users give are identifiers."""

from __future__ import annotations

import re
from collections.abc import Callable

from pydantic import BaseModel, ConfigDict

NAME = re.compile(r"[a-z][a-z0-9_]{0,62}")


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def checked_names(what: str) -> Callable[[dict], dict]:
    """A validator: the keys of a mapping are snake_case names (they become ids in tables)."""

    def check(value: dict) -> dict:
        bad = sorted(k for k in value if not NAME.fullmatch(k))
        if bad:
            raise ValueError(f"{what} names {bad} are not snake_case names (a-z, 0-9, _; a letter first)")
        return value

    return check


def without_nulls(value: dict) -> dict:
    """A validator: `name: null` in a user's file removes a shipped entry."""
    return {name: entry for name, entry in value.items() if entry is not None}
