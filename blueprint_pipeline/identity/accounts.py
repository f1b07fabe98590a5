"""Unified accounts: CRM accounts with domain duplicates merged, hierarchies kept apart.

The CRM is the system of record for accounts. Two live accounts are duplicates when they have the
same normalised website domain and sit in different hierarchies (a hierarchy is a connected
component of the parent links, found with scipy like the identity graph). Per domain:

- the survivor is an account in a hierarchy (a parent or a child) if there is one, then the
  oldest (or the latest modified, by config), then the smallest id;
- every other hierarchy with exactly one account at that domain merges that account into the
  survivor; a hierarchy with several accounts at the domain merges none of them (they would merge
  with each other, and accounts in one hierarchy never merge);
- accounts in the survivor's hierarchy stay.

Accounts the CRM merged (deleted with a MasterRecordId) become aliases of their master's survivor.
A personal email domain never makes two accounts duplicates. Pure pandas; the asset does the I/O.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from blueprint_pipeline.identity.graph import components
from blueprint_pipeline.identity.tables import isin, lookup, typed

ACCOUNT_COLUMNS = [
    "account_id",
    "account_name",
    "domain",
    "industry",
    "employees",
    "annual_revenue",
    "billing_country",
    "billing_state",
    "account_type",
    "owner_user_id",
    "parent_account_id",
    "ultimate_parent_id",
    "hierarchy_level",
    "created_at",
    "last_modified_at",
]
FIRMOGRAPHICS = [
    "account_name",
    "industry",
    "employees",
    "annual_revenue",
    "billing_country",
    "billing_state",
    "account_type",
    "owner_user_id",
]
ALIAS_COLUMNS = ["alias_account_id", "account_id", "reason"]
COLUMN_TYPES = {
    "employees": "Int64",
    "annual_revenue": "float64",
    "hierarchy_level": "int64",
    "created_at": "datetime",
    "last_modified_at": "datetime",
}
MAX_HIERARCHY_DEPTH = 50  # deeper chains (or a cycle in the parent links) stop counting here


@dataclass(frozen=True)
class UnifiedAccounts:
    accounts: pd.DataFrame  # ACCOUNT_COLUMNS + source_keys, one row per unified account
    aliases: pd.DataFrame  # ALIAS_COLUMNS: a merged-away id -> its survivor, with the reason
    unknown_parents: int = 0  # parent ids naming no live account, dropped


def _tops(account_ids: pd.Series, parents: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Each account's ultimate parent and its level below it (0 = top), following known parents,
    one vectorised step up per level."""
    parent_of = pd.Series(parents.values, index=account_ids.values)
    top = pd.Series(account_ids.values, index=account_ids.values)
    level = pd.Series(0, index=account_ids.values)
    for _ in range(MAX_HIERARCHY_DEPTH):
        up = lookup(top, parent_of)
        known = up.notna() & isin(up, parent_of.index)
        if not known.any():
            break
        top[known] = up[known]
        level[known] += 1
    return top, level


def _survivor_order(frame: pd.DataFrame, survivor: str) -> pd.DataFrame:
    by_time = ["created_at"] if survivor == "oldest" else ["last_modified_at"]
    return frame.sort_values(
        ["domain", "in_hierarchy", *by_time, "account_id"],
        ascending=[True, False, survivor == "oldest", True],
        na_position="last",
    )


def unify(
    crm: pd.DataFrame,
    crm_merges: pd.DataFrame,
    personal_domains: set[str],
    survivor: str,
    country_names: dict[str, str] | None = None,
) -> UnifiedAccounts:
    """`crm`: live accounts (stg_salesforce__accounts columns, `website_domain` as the domain);
    `crm_merges`: record_id, master_record_id of accounts the CRM merged away."""
    frame = crm.rename(columns={"website_domain": "domain"}).copy()
    # One spelling per country (US, USA -> United States), from the seed country_names.
    as_typed = frame["billing_country"].astype("string").str.strip()
    frame["billing_country"] = as_typed.str.lower().map(country_names or {}).astype("string").fillna(as_typed)
    frame["domain"] = frame["domain"].where(~isin(frame["domain"], personal_domains))
    ids = frame["account_id"]
    parents = frame["parent_account_id"].where(isin(frame["parent_account_id"], ids))
    links = pd.DataFrame({"source_key": ids, "other_key": parents}).dropna()
    hierarchy = components(ids, links).set_index("source_key")["component_key"]
    frame["hierarchy_id"] = ids.map(hierarchy)
    sizes = frame["hierarchy_id"].map(frame["hierarchy_id"].value_counts())
    frame["in_hierarchy"] = sizes > 1

    # Duplicates: per domain, each other hierarchy's single account at that domain.
    with_domain = _survivor_order(frame.dropna(subset=["domain"]), survivor)
    survivor_of_domain = with_domain.drop_duplicates("domain").set_index("domain")
    with_domain = with_domain.assign(
        survivor_id=with_domain["domain"].map(survivor_of_domain["account_id"]),
        survivor_hierarchy=with_domain["domain"].map(survivor_of_domain["hierarchy_id"]),
    )
    per_hierarchy = with_domain.groupby(["domain", "hierarchy_id"])["account_id"].transform("size")
    duplicate = (with_domain["hierarchy_id"] != with_domain["survivor_hierarchy"]) & (per_hierarchy == 1)
    merged = with_domain[duplicate]
    aliases = pd.DataFrame(
        {
            "alias_account_id": merged["account_id"],
            "account_id": merged["survivor_id"],
            "reason": "same_domain",
        }
    )
    resolve = aliases.set_index("alias_account_id")["account_id"]

    # Accounts the CRM merged: the master, followed through later CRM merges (B -> A, A -> C: B's
    # survivor is C), then through a same-domain merge.
    crm_merged = crm_merges.dropna(subset=["master_record_id"])
    crm_merged = crm_merged[~isin(crm_merged["record_id"], ids)]
    master_of = crm_merged.drop_duplicates("record_id").set_index("record_id")["master_record_id"]
    final = crm_merged["master_record_id"].copy()
    for _ in range(MAX_HIERARCHY_DEPTH):  # a cycle of merges stops here
        further = final.map(master_of)
        if further.isna().all():
            break
        final = further.fillna(final)
    crm_aliases = pd.DataFrame(
        {
            "alias_account_id": crm_merged["record_id"],
            "account_id": final.map(resolve).fillna(final),
            "reason": "crm_merge",
        }
    )
    aliases = pd.concat([aliases, crm_aliases], ignore_index=True).drop_duplicates("alias_account_id")

    # Survivors take missing firmographics from their duplicates (the newest modified first).
    frame["unified_id"] = frame["account_id"].map(resolve).fillna(frame["account_id"])
    frame["is_survivor"] = frame["unified_id"] == frame["account_id"]
    ordered = frame.sort_values(
        ["unified_id", "is_survivor", "last_modified_at", "account_id"], ascending=[True, False, False, True]
    )
    filled = ordered.groupby("unified_id", sort=False)[FIRMOGRAPHICS].first()
    keys = ordered.groupby("unified_id", sort=False)["account_id"].agg(
        lambda s: ",".join(sorted(f"{a}@prod.Salesforce" for a in s))
    )
    accounts = frame[frame["is_survivor"]].drop(columns=FIRMOGRAPHICS).join(filled, on="unified_id")
    accounts["source_keys"] = accounts["unified_id"].map(keys)
    # A parent merged away is replaced by its survivor; an account never parents itself; a parent
    # that is no live account (not in the export, or deleted) is dropped and counted.
    parent = accounts["parent_account_id"].map(resolve).fillna(accounts["parent_account_id"])
    live = isin(parent, accounts["account_id"])
    known = live & (parent != accounts["account_id"])
    unknown_parents = int((parent.notna() & ~live).sum())
    accounts["parent_account_id"] = parent.where(known)
    accounts = accounts.reset_index(drop=True)
    top, level = _tops(accounts["account_id"], accounts["parent_account_id"])
    accounts["ultimate_parent_id"], accounts["hierarchy_level"] = top.values, level.values
    return UnifiedAccounts(
        accounts=typed(accounts[[*ACCOUNT_COLUMNS, "source_keys"]], COLUMN_TYPES).sort_values(
            "account_id", ignore_index=True
        ),
        aliases=typed(aliases[ALIAS_COLUMNS], {}).sort_values("alias_account_id", ignore_index=True),
        unknown_parents=unknown_parents,
    )
