"""Buying groups per account x solution interest, their members and roles, and completeness."""

import dagster as dg

from blueprint_pipeline.buying_groups.groups import MEMBER_COLUMNS, build_groups, completeness, read_overrides
from blueprint_pipeline.buying_groups.history import EVENTS_TABLE, append_membership_events, journey_state
from blueprint_pipeline.buying_groups.roles import (
    assign_roles,
    custom_fields_by_person,
    parsed_titles,
    uses_custom_fields,
)
from blueprint_pipeline.config.figures import complete_threshold
from blueprint_pipeline.core.histories import check_history_moves_forward
from blueprint_pipeline.core.run_facts import run_facts
from blueprint_pipeline.resources import BlueprintConfigResource
from blueprint_pipeline.sql_models.checks import checked_transaction, declared_checks
from blueprint_pipeline.sql_models.published import published
from blueprint_pipeline.warehouse import Session, Warehouse
from blueprint_pipeline.warehouse.effects import apply_requests
from blueprint_pipeline.warehouse.stateful import create

NOT_APPLIED = "summary/overrides not applied (person not on the group's account, or no such group)"


def _spec(key: str, description: str, deps: list[str]) -> dg.AssetSpec:
    return dg.AssetSpec(
        key,
        kinds={"python"},
        deps=deps,
        description=description,
    )


TABLES = ("buying_groups", "buying_group_members", "buying_group_roles")
INPUTS = [
    "unified_persons",
    "person_account_links",
    "unified_accounts",
    "account_audience_members",
    "int_person_custom_fields",
]


JOURNEY_CHANGES = "journey_member_events"  # the journeys' effect table, from the previous run


def apply_journey_changes(session: Session, as_of) -> int:
    """Append the membership changes journeys made since this asset last ran to the history, once
    each (by step key), in the order the journeys made them: the journeys run after this asset (an
    edge from them would be a cycle), so their changes join the history at its next run."""
    create(session, EVENTS_TABLE)
    if not session.table_exists(JOURNEY_CHANGES):
        return 0
    return apply_requests(
        session,
        JOURNEY_CHANGES,
        EVENTS_TABLE,
        {
            **{c: f"j.{c}" for c in ("buying_group_id", "person_id", "event", "role")},
            "actor": "'journey'",
            **{c: f"j.{c}" for c in ("matched_condition", "happened_at", "config_version")},
            "request_key": "j.step_key",
        },
        "happened_at",
        as_of,
        counter="event_seq",
    )


@dg.multi_asset(
    specs=[
        _spec(
            "buying_groups",
            "One row per account x solution interest whose audience holds the account, named "
            "(solution interest) for (account), with members, completeness_score (the solution "
            "interest's method), suites_completeness and weighted_completeness side by side, "
            "required_roles_completeness and missing_required_roles.",
            INPUTS,
        ),
        _spec(
            "buying_group_members",
            "One row per group and person: the role, the actor (rule or manual) and the condition "
            "that matched. At most one role per person per group.",
            INPUTS,
        ),
        _spec(
            "buying_group_roles",
            "One row per group and template role: assigned, members_required, role_completeness.",
            INPUTS,
        ),
        _spec(
            EVENTS_TABLE,
            "Append-only membership history (added / changed / removed, actor, as-of time); its last "
            "entry per group and person is the current membership. The journeys' changes join it at "
            f"the start of the next run, from `{JOURNEY_CHANGES}` (docs/architecture.md, the journey "
            "feedback loop).",
            INPUTS,
        ),
    ],
    check_specs=[
        *declared_checks(*TABLES),
        # Against the config, not the data: computed from the asset's own result.
        dg.AssetCheckSpec("solution_interests_exist", asset="buying_groups", blocking=True),
    ],
)
def buying_groups(
    context: dg.AssetExecutionContext, warehouse: Warehouse, blueprint_config: BlueprintConfigResource
):
    loaded = blueprint_config.loaded
    config = loaded.config.buying_groups
    facts = run_facts(context, loaded.version)
    overrides = read_overrides(loaded.user_file(config.overrides_file), config)
    audiences = sorted({i.audience for i in config.solution_interests.values()}) or [""]
    with checked_transaction(warehouse, *TABLES) as (session, checked):
        check_history_moves_forward(session, facts.as_of, EVENTS_TABLE)
        from_journeys = apply_journey_changes(session, facts.as_of)
        params = {f"a{i}": a for i, a in enumerate(audiences)}
        wanted = f"where audience_id in ({', '.join(f'${name}' for name in params)})"
        in_audiences = f"(select account_id from account_audience_members {wanted})"
        audience_members = session.fetch_df(
            f"select audience_id, account_id from account_audience_members {wanted}", params
        )
        accounts = session.fetch_df(
            f"select account_id, account_name from unified_accounts where account_id in {in_audiences}",
            params,
        )
        persons = session.fetch_df(
            "select p.person_id, p.title, p.department, p.country, l.account_id from unified_persons as p "
            "inner join person_account_links as l on l.person_id = p.person_id and l.is_primary "
            f"where l.account_id in {in_audiences}",
            params,
        )
        if uses_custom_fields(config):
            custom = custom_fields_by_person(
                session.fetch_df(
                    "select f.person_id, f.fields from int_person_custom_fields as f inner join "
                    "person_account_links as l on l.person_id = f.person_id and l.is_primary "
                    f"where l.account_id in {in_audiences}",
                    params,
                )
            )
            persons["custom"] = [custom.get(p, {}) for p in persons["person_id"]]
        titles = parsed_titles(persons)
        roles = assign_roles(persons, config, titles)
        result = build_groups(
            config,
            audience_members,
            accounts,
            persons[["person_id", "account_id"]],
            roles,
            overrides,
            journey_state(session),
        )
        groups, role_status = completeness(config, result.groups, result.members)

        session.replace_table("buying_groups", groups)
        # The member row shows the parsed title beside the rule that matched (matched_condition).
        shown = titles[["person_id", "title_function", "title_seniority"]]
        members = result.members[MEMBER_COLUMNS].merge(shown, on="person_id", how="left")
        session.replace_table("buying_group_members", members)
        session.replace_table("buying_group_roles", role_status)
        event_counts = append_membership_events(
            session, "buying_group_members", "buying_groups", result.manual_removals, facts.as_of,
            facts.config_version,
        )  # fmt: skip
    complete = int(groups["is_complete"].sum())
    mean_completeness = float(groups["completeness_score"].fillna(0).mean()) if len(groups) else 0.0
    not_applied = result.overrides_not_applied["row_in_file"].astype(str).tolist()
    unknown_interests = sorted(set(groups["solution_interest"]) - set(config.solution_interests))
    yield from checked.reported(
        dg.MaterializeResult(
            asset_key="buying_groups",
            metadata={
                **published(warehouse, "buying_groups"),
                "dagster/row_count": len(groups),
                "summary/buying groups": f"{len(groups):,} with {len(result.members):,} members; "
                f"mean completeness {mean_completeness:.0%}, {complete:,} complete "
                f"({complete_threshold(loaded.config)})",
                "mean_completeness": dg.MetadataValue.float(mean_completeness),
                "complete_groups": complete,
                "completeness_method": ", ".join(sorted(set(groups["completeness_method"].dropna()))),
                **facts.metadata(),
            },
        ),
        dg.MaterializeResult(
            asset_key="buying_group_members",
            metadata={
                **published(warehouse, "buying_group_members"),
                "dagster/row_count": len(result.members),
                "by_rule": int((result.members["actor"] == "rule").sum()),
                "manual": int((result.members["actor"] == "manual").sum()),
                "by_journey": int((result.members["actor"] == "journey").sum()),
                "overrides_file": overrides.path or "(none)",
                "overrides_not_applied": len(result.overrides_not_applied),
                **({NOT_APPLIED: ", ".join(f"row {r}" for r in not_applied)} if not_applied else {}),
                **facts.metadata(),
            },
        ),
        dg.MaterializeResult(
            asset_key="buying_group_roles",
            metadata={**published(warehouse, "buying_group_roles"), "dagster/row_count": len(role_status)},
        ),
        dg.MaterializeResult(
            asset_key=EVENTS_TABLE,
            metadata={f"{k}": int(v) for k, v in event_counts.items()}
            | {"from_journeys": from_journeys, "reads_previous_run": JOURNEY_CHANGES}
            | facts.metadata(),
        ),
    )
    yield dg.AssetCheckResult(
        check_name="solution_interests_exist", asset_key="buying_groups", passed=not unknown_interests,
        metadata={"unknown": ", ".join(unknown_interests) or "none"},
    )  # fmt: skip
