"""Buying groups (one per account x solution interest in its audience), their members, the
membership history and completeness (docs/buying-groups.md).

Members by rule are the persons whose primary account is the group's account and who fit a role
of the solution interest's template. The overrides file (from sales) wins over rules: `assign`
puts a person in a role, `remove` takes them out. Opt-outs do not matter here: they suppress
messages, not membership. The history is append-only: each build appends what changed against
the last entry per group and person (`added`, `changed`, `removed`), with the actor (`rule`,
`manual`, `journey`) and the as-of time: history.py works it out in the warehouse.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from blueprint_pipeline.config.buying_groups import BuyingGroupsConfig
from blueprint_pipeline.config.figures import LIST_SEPARATOR
from blueprint_pipeline.config.files import check_choice, check_dates, read_user_csv
from blueprint_pipeline.core.errors import ConfigError

GROUP_COLUMNS = ["buying_group_id", "buying_group_name", "solution_interest", "account_id", "role_template"]
MEMBER_COLUMNS = [
    "buying_group_id",
    "solution_interest",
    "account_id",
    "person_id",
    "role",
    "actor",
    "matched_condition",
]
COMPLETENESS_COLUMNS = [  # what `completeness` adds to a group
    "members",
    "completeness_score",
    "suites_completeness",
    "weighted_completeness",
    "required_roles_completeness",
    "missing_required_roles",
    "is_complete",
    "completeness_method",
]
ROLE_STATUS_COLUMNS = [
    "buying_group_id",
    "role",
    "required",
    "weight",
    "members_required",
    "assigned",
    "role_completeness",
]
OVERRIDE_COLUMNS = [
    "solution_interest",
    "account_id",
    "person_id",
    "action",
    "role",
    "actor",
    "decided_at",
    "note",
]


def group_id(solution_interest: str, account_id: str) -> str:
    return f"{solution_interest}:{account_id}"


@dataclass(frozen=True)
class Overrides:
    frame: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=[*OVERRIDE_COLUMNS, "row_in_file"])
    )
    path: str = ""


def read_overrides(path: Path | None, config: BuyingGroupsConfig) -> Overrides:
    """The sales team's member assignments and removals; a bad row is an error naming the file,
    the row and the field. The last line for a group and person wins (the file is a log)."""
    if path is None or not path.exists():
        return Overrides()
    required = ("solution_interest", "account_id", "person_id", "action", "actor")
    frame = read_user_csv(path, OVERRIDE_COLUMNS, required)
    frame = check_choice(path, frame, "action", ("assign", "remove"))
    check_dates(path, frame, "decided_at")
    for values in frame.itertuples(index=False):
        interest = config.solution_interests.get(values.solution_interest)
        if interest is None:
            raise ConfigError(
                f"{path} row {values.row_in_file}: field solution_interest is {values.solution_interest!r}; "
                f"expected one of {sorted(config.solution_interests)}"
            )
        roles = [r.name for r in config.role_templates[interest.role_template].roles]
        if values.action == "assign" and values.role not in roles:
            raise ConfigError(
                f"{path} row {values.row_in_file}: field role is {values.role!r}; expected one of {roles}"
            )
    latest = frame.drop_duplicates(["solution_interest", "account_id", "person_id"], keep="last")
    return Overrides(latest[[*OVERRIDE_COLUMNS, "row_in_file"]], str(path))


@dataclass(frozen=True)
class Membership:
    groups: pd.DataFrame  # GROUP_COLUMNS
    members: pd.DataFrame  # MEMBER_COLUMNS
    overrides_not_applied: pd.DataFrame  # override rows whose person is not linked to the account
    manual_removals: pd.DataFrame  # buying_group_id, person_id, reason: removed by an override


def build_groups(
    config: BuyingGroupsConfig,
    audience_members: pd.DataFrame,
    accounts: pd.DataFrame,
    persons: pd.DataFrame,
    roles: pd.DataFrame,
    overrides: Overrides,
    journey: pd.DataFrame | None = None,
) -> Membership:
    """`audience_members`: audience_id, account_id; `accounts`: account_id, account_name;
    `persons`: person_id, account_id (primary links); `roles`: roles.ROLE_COLUMNS; `journey`: the
    last membership event per group and person where a journey acted (buying_group_id, person_id,
    event, role). Precedence: manual > journey > rule."""
    names = accounts.set_index("account_id")["account_name"]
    groups, members = [], []
    for key, interest in sorted(config.solution_interests.items()):
        in_audience = audience_members.loc[audience_members["audience_id"] == interest.audience, "account_id"]
        g = pd.DataFrame({"account_id": pd.Series(in_audience.drop_duplicates().tolist(), dtype="string")})
        account_name = g["account_id"].map(names).astype("string").fillna(g["account_id"])
        # Two accounts with one name get their ids in the group names, so that a name is one group.
        same_name = account_name.duplicated(keep=False)
        account_name = account_name.where(~same_name, account_name + " (" + g["account_id"] + ")")
        g = g.assign(
            buying_group_id=key + ":" + g["account_id"],
            buying_group_name=interest.name + " for " + account_name,
            solution_interest=key,
            role_template=interest.role_template,
        )
        groups.append(g)
        fit = roles[roles["role_template"] == interest.role_template]
        m = persons.merge(g[["account_id", "buying_group_id"]], on="account_id").merge(fit, on="person_id")
        members.append(m.assign(solution_interest=key, actor="rule"))
    groups_frame = pd.concat(groups, ignore_index=True) if groups else pd.DataFrame(columns=GROUP_COLUMNS)
    rule = pd.concat(members, ignore_index=True) if members else pd.DataFrame(columns=MEMBER_COLUMNS)
    rule = rule.reindex(columns=MEMBER_COLUMNS)
    if journey is not None and len(journey):
        rule = _journey_decisions(rule, journey, groups_frame, persons)

    # Manual overrides win: only for persons whose primary account is the group's account.
    o = overrides.frame.assign(
        buying_group_id=overrides.frame["solution_interest"] + ":" + overrides.frame["account_id"]
    )
    linked = o.merge(persons, on=["person_id", "account_id"], how="left", indicator=True)
    in_group = o["buying_group_id"].isin(groups_frame["buying_group_id"]).to_numpy()
    applicable = (linked["_merge"] == "both").to_numpy() & in_group
    applied, not_applied = o[applicable], o[~applicable]
    keys = ["buying_group_id", "person_id"]
    overridden = (
        rule.set_index(keys).index.isin(applied.set_index(keys).index)
        if len(applied)
        else pd.Series(False, index=rule.index)
    )
    assigned = applied[applied["action"] == "assign"]
    manual = pd.DataFrame(
        {
            "buying_group_id": assigned["buying_group_id"],
            "solution_interest": assigned["solution_interest"],
            "account_id": assigned["account_id"],
            "person_id": assigned["person_id"],
            "role": assigned["role"],
            "actor": "manual",
            "matched_condition": "assigned by "
            + assigned["actor"].where(assigned["actor"] != "", "sales")
            + assigned["note"].where(assigned["note"] == "", ": " + assigned["note"]),
        }
    )
    final = pd.concat([rule[~overridden], manual], ignore_index=True).sort_values(keys, ignore_index=True)
    removals = applied[applied["action"] == "remove"]
    manual_removals = pd.DataFrame(
        {
            "buying_group_id": removals["buying_group_id"],
            "person_id": removals["person_id"],
            "reason": "removed by "
            + removals["actor"]
            + removals["note"].where(removals["note"] == "", ": " + removals["note"]),
        }
    )
    return Membership(
        groups=groups_frame[GROUP_COLUMNS].astype("string"),
        members=final[MEMBER_COLUMNS].astype("string"),
        overrides_not_applied=not_applied,
        manual_removals=manual_removals,
    )


def _journey_decisions(
    rule: pd.DataFrame, journey: pd.DataFrame, groups: pd.DataFrame, persons: pd.DataFrame
) -> pd.DataFrame:
    """Journeys' assignments replace the rule's role for that person; their removals keep the
    person out; both only while the person's primary account is the group's account."""
    keys = ["buying_group_id", "person_id"]
    j = journey.merge(groups[["buying_group_id", "account_id", "solution_interest"]], on="buying_group_id")
    j = j.merge(persons[["person_id", "account_id"]], on=["person_id", "account_id"])
    decided = rule.set_index(keys).index.isin(j.set_index(keys).index) if len(j) else False
    assigned = j[j["event"] != "removed"]
    by_journey = pd.DataFrame(
        {
            "buying_group_id": assigned["buying_group_id"],
            "solution_interest": assigned["solution_interest"],
            "account_id": assigned["account_id"],
            "person_id": assigned["person_id"],
            "role": assigned["role"],
            "actor": "journey",
            "matched_condition": assigned["matched_condition"],
        }
    )
    return pd.concat([rule[~decided], by_journey], ignore_index=True).reindex(columns=MEMBER_COLUMNS)


def completeness(
    config: BuyingGroupsConfig, groups: pd.DataFrame, members: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per group and role: min(assigned, members required) / members required. Per group, both
    figures side by side: `suites_completeness` (the mean over the roles the interest counts, all
    or required) and `weighted_completeness` (weighted by role weight, over all roles);
    `completeness_score` is the one the group's solution interest chooses (`completeness_of`), and
    `is_complete` compares it with that interest's threshold. The required roles' mean sits beside
    them (NULL when a template has no required role)."""
    rows = []
    for name, template in config.role_templates.items():
        for role in template.roles:
            rows.append((name, role.name, role.required, role.weight_value, role.members_required))
    template_roles = pd.DataFrame(
        rows, columns=["role_template", "role", "required", "weight", "members_required"]
    )
    status = groups[["buying_group_id", "role_template"]].merge(template_roles, on="role_template")
    counts = members.groupby(["buying_group_id", "role"]).size().rename("assigned").reset_index()
    status = status.merge(counts, on=["buying_group_id", "role"], how="left")
    status["assigned"] = status["assigned"].fillna(0).astype("int64")
    status["role_completeness"] = (
        status[["assigned", "members_required"]].min(axis=1) / status["members_required"]
    )
    status["weighted"] = status["role_completeness"] * status["weight"]

    per_group = status.groupby("buying_group_id")
    required = status[status["required"]].groupby("buying_group_id")["role_completeness"].mean()
    every_role = per_group["role_completeness"].mean()
    totals = per_group[["weighted", "weight"]].sum()
    weighted = (totals["weighted"] / totals["weight"]).where(totals["weight"] > 0, 0.0)
    missing = status[status["required"] & (status["assigned"] < status["members_required"])]
    missing_roles = missing.groupby("buying_group_id")["role"].agg(LIST_SEPARATOR.join)

    out = groups.copy()
    ids = out["buying_group_id"]
    settings = {name: config.completeness_of(name) for name in config.solution_interests}
    chosen = out["solution_interest"].map(settings)
    counts_required = chosen.map(lambda c: c.roles == "required").astype(bool)
    by_weight = chosen.map(lambda c: c.method == "weighted").astype(bool)
    out["members"] = ids.map(members.groupby("buying_group_id").size()).fillna(0).astype("int64")
    out["suites_completeness"] = ids.map(every_role).where(~counts_required, ids.map(required))
    out["suites_completeness"] = out["suites_completeness"].astype("float64")
    out["weighted_completeness"] = ids.map(weighted).astype("float64")
    out["completeness_score"] = out["suites_completeness"].where(~by_weight, out["weighted_completeness"])
    out["required_roles_completeness"] = ids.map(required).astype("float64")
    out["missing_required_roles"] = ids.map(missing_roles).astype("string")
    complete_at = chosen.map(lambda c: c.complete_at).astype("float64")
    out["is_complete"] = (out["completeness_score"] >= complete_at).astype(bool)
    out["completeness_method"] = chosen.map(lambda c: c.label).astype("string")
    return out[[*groups.columns, *COMPLETENESS_COLUMNS]], status[ROLE_STATUS_COLUMNS]
