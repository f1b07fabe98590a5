"""Who is in each account audience now, and what changed since the last build.

Filters run in the warehouse (compiled by `compile.py`, values bound); static lists are read here,
resolved through `account_aliases`, and checked against `unified_accounts`. The history is the
difference between the previous and the new membership: `joined` and `left` events at the as-of
time, so a re-run on the same data records nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from blueprint_pipeline.audiences.compile import compile_filter
from blueprint_pipeline.config import LoadedConfig
from blueprint_pipeline.config.files import read_user_csv
from blueprint_pipeline.core.errors import ConfigError
from blueprint_pipeline.warehouse import Session

MEMBER_COLUMNS = ["audience_id", "account_id", "matched_by"]
HISTORY_COLUMNS = ["audience_id", "account_id", "event", "happened_at"]


def static_list_path(loaded: LoadedConfig, file: str) -> Path:
    path = loaded.user_file(file)
    if path is None:
        raise ConfigError(f"static_list {file}: a static list lives in your config directory (--config)")
    return path


def read_static_list(path: Path, audience: str = "") -> pd.Series:
    """The account ids of a static list file: a CSV with an `account_id` column."""
    if not path.exists():
        named_by = f" (audiences.yaml: audiences.{audience}.static_list)" if audience else ""
        raise ConfigError(f"{path}: static list file does not exist{named_by}")
    return read_user_csv(path, ["account_id"], required=["account_id"])["account_id"].drop_duplicates()


@dataclass(frozen=True)
class Membership:
    members: pd.DataFrame  # MEMBER_COLUMNS
    unknown_list_ids: dict[str, list[str]]  # audience -> static-list ids naming no account


def current_members(session: Session, loaded: LoadedConfig, as_of: object) -> Membership:
    frames, unknown = [], {}
    aliases = session.fetch_df("select alias_account_id, account_id from account_aliases")
    resolve = aliases.set_index("alias_account_id")["account_id"]
    known = set(session.fetch_df("select account_id from unified_accounts")["account_id"])
    for name, audience in sorted(loaded.config.audiences.audiences.items()):
        if audience.filter is not None:
            condition, params = compile_filter(audience.filter)
            ids = session.fetch_df(
                f"select a.account_id from unified_accounts as a where {condition}",
                {**params, "as_of": as_of} if "as_of" in condition else params,
            )["account_id"]
            matched_by = "filter"
        else:
            listed = read_static_list(static_list_path(loaded, audience.static_list), name)
            listed = listed.map(resolve).fillna(listed)
            unknown[name] = sorted(set(listed) - known)
            ids, matched_by = listed[listed.isin(known)], "static_list"
        frames.append(
            pd.DataFrame({"audience_id": name, "account_id": ids.astype(str), "matched_by": matched_by})
        )
    members = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=MEMBER_COLUMNS)
    members = members.drop_duplicates(["audience_id", "account_id"]).sort_values(
        ["audience_id", "account_id"]
    )
    return Membership(members.astype("string").reset_index(drop=True), unknown)


def changes(previous: pd.DataFrame, current: pd.DataFrame, as_of: object) -> pd.DataFrame:
    """`joined` for members new since `previous`, `left` for members gone, at `as_of`."""
    keys = ["audience_id", "account_id"]
    both = previous[keys].merge(current[keys], on=keys, how="outer", indicator=True)
    events = both[both["_merge"] != "both"].assign(
        event=lambda f: f["_merge"].map({"left_only": "left", "right_only": "joined"}).astype("string"),
        happened_at=pd.Timestamp(as_of),
    )
    return events[HISTORY_COLUMNS].sort_values(keys, ignore_index=True)
