"""Group `activation`: LinkedIn matched-audience files (docs/activation.md)."""

from collections.abc import Iterator

import dagster as dg
import pandas as pd

from blueprint_pipeline.activation.linkedin import company_rows, contact_rows, targeting, write_list
from blueprint_pipeline.resources import ActivationResource, BlueprintConfigResource
from blueprint_pipeline.run_facts import run_facts
from blueprint_pipeline.warehouse import Session, Warehouse

MEMBERS = "activation_members"


def create_members(session: Session) -> None:
    session.execute(
        f"create table if not exists {MEMBERS} (destination varchar, list_name varchar, key varchar, "
        "activated_at timestamp)"
    )


def previous(session: Session, destination: str, list_name: str) -> set[str]:
    where = {"d": destination, "n": list_name}
    return {
        k
        for (k,) in session.fetchall(
            f"select key from {MEMBERS} where destination = $d and list_name = $n", where
        )
    }


def remember(session: Session, destination: str, list_name: str, keys: pd.Series, as_of) -> None:
    """The list as last handed to the destination: the next build's adds and removes are against it."""
    where = {"d": destination, "n": list_name}
    session.execute(f"delete from {MEMBERS} where destination = $d and list_name = $n", where)
    frame = pd.DataFrame({"destination": destination, "list_name": list_name, "key": keys.astype("string")})
    frame["activated_at"] = pd.Timestamp(as_of)
    if len(frame):
        session.insert_from_local_query(MEMBERS, list(frame.columns), "select * from f", frames={"f": frame})


def _differs(session: Session, list_name: str, audience: str) -> bool:
    """Whether the list as handed out differs from the audience's (unified) accounts."""
    listed = f"select key from {MEMBERS} where destination = 'linkedin' and list_name = $n"
    members = (
        "select account_id from account_audience_members where audience_id = $a "
        "and account_id in (select account_id from unified_accounts)"
    )
    params = {"n": list_name, "a": audience}
    extra = int(session.scalar(f"select count(*) from ({listed} except {members}) as d", params))
    missing = int(session.scalar(f"select count(*) from ({members} except {listed}) as d", params))
    return extra + missing > 0


@dg.asset(
    group_name="activation",
    kinds={"python"},
    deps=[
        "account_audience_members",
        "buying_group_members",
        "buying_groups",
        "unified_persons",
        "int_person_activities",
    ],
    automation_condition=dg.AutomationCondition.eager(),
    check_specs=[
        dg.AssetCheckSpec(
            "no_opted_out_person",
            asset="linkedin_audiences",
            blocking=True,
            description="No contact list holds a person opted out of email or bounced.",
        ),
        dg.AssetCheckSpec(
            "company_lists_match_audiences",
            asset="linkedin_audiences",
            description="A company list from an audience holds exactly the audience's accounts.",
        ),
    ],
)
def linkedin_audiences(
    context: dg.AssetExecutionContext,
    warehouse: Warehouse,
    blueprint_config: BlueprintConfigResource,
    activation: ActivationResource,
) -> Iterator:
    """Company and contact lists for LinkedIn Matched Audiences, each build: the full list (split at
    LinkedIn's limits), adds and removes since the last activation, a manifest; accounts missing
    roles get the job functions and seniorities to target."""
    loaded = blueprint_config.loaded
    settings = loaded.config.activation.linkedin
    facts = run_facts(context, loaded.version)
    stamp = f"{facts.as_of:%Y%m%dT%H%M%S}"
    folder = activation.root / "linkedin"
    report: dict[str, str] = {}
    warnings: list[str] = []
    with warehouse.transaction() as session:
        create_members(session)
        lists = [("company", n, d) for n, d in settings.company_lists.items()]
        lists += [("contact", n, d) for n, d in settings.contact_lists.items()]
        for kind, name, definition in sorted(lists, key=lambda x: x[1]):
            if kind == "company":
                frame = company_rows(session, definition)
                extra = (
                    {"targeting.csv": targeting(session, definition.missing_roles_of, settings)}
                    if definition.missing_roles_of
                    else None
                )
            else:
                frame, extra = contact_rows(session, definition, facts.as_of, settings.hash_emails), None
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
                previous(session, "linkedin", name),
                settings,
                described,
                stamp,
                extra,
            )
            remember(session, "linkedin", name, frame["key"], facts.as_of)
            report[name] = f"{written.records:,} ({written.adds:,} added, {written.removes:,} removed)"
            if written.warning:
                warnings.append(f"{name}: {written.warning}")
        contacts = sorted(settings.contact_lists)
        opted_out = int(
            session.scalar(
                f"select count(*) from {MEMBERS} as m inner join unified_persons as p on p.person_id = m.key "
                "where m.destination = 'linkedin' and m.list_name in (select unnest($lists)) "
                "and (p.email_opt_out or coalesce(p.email_bounced, false))",
                {"lists": contacts or [""]},
            )
        )
        mismatched = [
            name
            for name, company in settings.company_lists.items()
            if company.audience and _differs(session, name, company.audience)
        ]  # fmt: skip
    yield dg.AssetCheckResult(check_name="no_opted_out_person", passed=opted_out == 0,
                              metadata={"opted_out_in_lists": opted_out})  # fmt: skip
    yield dg.AssetCheckResult(check_name="company_lists_match_audiences", passed=not mismatched,
                              metadata={"mismatched_lists": ", ".join(mismatched) or "none"})  # fmt: skip
    yield dg.MaterializeResult(
        metadata={
            "lists": ", ".join(f"{n} {r}" for n, r in report.items()) or "none",
            "folder": str(folder),
            **(
                {"summary/linkedin lists": "; ".join(f"{n} {r}" for n, r in report.items())} if report else {}
            ),
            **({"summary/linkedin warnings": "; ".join(warnings)} if warnings else {}),
            **facts.metadata(),
        }
    )
