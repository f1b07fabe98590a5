"""Group `activation`: LinkedIn matched-audience files (docs/activation.md)."""

from collections.abc import Iterator

import dagster as dg

from blueprint_pipeline.activation.linkedin import (
    accounts_of,
    company_rows,
    contact_rows,
    left_out_note,
    persons_of,
    targeting,
    write_list,
)
from blueprint_pipeline.activation.state import (
    check_moves_forward,
    complete,
    create_state,
    previous,
    remember,
)
from blueprint_pipeline.core.faults import crash_point
from blueprint_pipeline.core.run_facts import run_facts
from blueprint_pipeline.core.step_order import AFTER_THE_ALERTS
from blueprint_pipeline.defs.activation import checks
from blueprint_pipeline.resources import ActivationResource, BlueprintConfigResource
from blueprint_pipeline.warehouse import Warehouse


@dg.asset(
    kinds={"python"},
    deps=[
        "account_audience_members",
        "buying_group_members",
        "buying_groups",
        "unified_persons",
        "int_person_activities",
    ],
    op_tags=AFTER_THE_ALERTS,
    check_specs=checks.specs("linkedin_audiences", checks.FORBIDDEN, checks.OPTED_OUT, checks.CONSISTENT),
)
def linkedin_audiences(
    context: dg.AssetExecutionContext,
    warehouse: Warehouse,
    blueprint_config: BlueprintConfigResource,
    activation: ActivationResource,
) -> Iterator:
    """Company and contact lists for LinkedIn Matched Audiences, each build: the full list (split at
    LinkedIn's limits), adds and removes since the last completed activation before this as-of (so
    a re-run writes the same files), a manifest; accounts missing
    roles get the job functions and seniorities to target. A list whose data a governance policy
    forbids for LinkedIn is blocked: nothing of it is written."""
    loaded = blueprint_config.loaded
    settings = loaded.config.activation.linkedin
    facts = run_facts(context, loaded.version)
    stamp = f"{facts.as_of:%Y%m%dT%H%M%S}"
    folder = activation.root / "linkedin"
    blocked = checks.gate(context, loaded.config, "linkedin")
    report: dict[str, str] = {}
    warnings: list[str] = []
    lists = [("company", n, d) for n, d in settings.company_lists.items()]
    lists += [("contact", n, d) for n, d in settings.contact_lists.items()]
    lists = sorted((x for x in lists if x[1] not in blocked), key=lambda x: x[1])
    with warehouse.transaction() as session:
        create_state(session)
        check_moves_forward(session, "linkedin", [n for _, n, _ in lists], facts.as_of)
        for kind, name, definition in lists:
            not_one = 0
            if kind == "company":
                frame = company_rows(session, definition)
                extra = (
                    {"targeting.csv": targeting(session, definition.missing_roles_of, settings)}
                    if definition.missing_roles_of
                    else None
                )
            else:
                (frame, not_one), extra = (
                    contact_rows(session, definition, facts.as_of, settings.hash_emails),
                    None,
                )
            described = {
                "kind": kind,
                **definition.model_dump(exclude_none=True),
                "config_version": loaded.version,
            }
            written = write_list(
                folder,
                kind,
                name,
                frame,
                previous(session, "linkedin", name, facts.as_of),
                settings,
                described,
                stamp,
                extra,
            )
            remember(session, "linkedin", name, frame["key"], facts.as_of)
            complete(session, "linkedin", name, facts.as_of)  # files in place: commits with the rest
            report[name] = (
                f"{written.records:,} ({written.adds:,} added, {written.removes:,} removed"
                f"{left_out_note(not_one)})"
            )
            if written.warning:
                warnings.append(f"{name}: {written.warning}")
        opted_out = checks.opted_out(session, "linkedin", sorted(settings.contact_lists), facts.as_of)
        mismatched = []
        for kind, name, definition in lists:
            if kind == "company":
                sql, params = accounts_of(definition)
                sql = (
                    f"select account_id from ({sql}) as s "
                    "where account_id in (select account_id from unified_accounts)"
                )
                both_ways = bool(definition.audience)  # a missing-roles list may drop nobody either
            elif definition.members_of:
                (sql, params), both_ways = persons_of(definition), False  # consent narrows it
            else:
                continue  # form visitors: the window moves with the as-of time
            if checks.differs(session, "linkedin", name, sql, params, both_ways, facts.as_of):
                mismatched.append(name)
        crash_point("linkedin_audiences")  # files written, their state not committed
    yield checks.forbidden_result(blocked)
    yield opted_out
    yield checks.consistent_result(mismatched)
    yield dg.MaterializeResult(
        metadata={
            "lists": ", ".join(f"{n} {r}" for n, r in report.items()) or "none",
            "blocked": ", ".join(sorted(blocked)) or "none",
            "folder": str(folder),
            **(
                {"summary/linkedin lists": "; ".join(f"{n} {r}" for n, r in report.items())} if report else {}
            ),
            **({"summary/linkedin warnings": "; ".join(warnings)} if warnings else {}),
            **checks.blocked_summary(blocked, "linkedin"),
            **facts.metadata(),
        }
    )
