"""The checks every activation output carries (docs/activation.md#checks): no forbidden field
(the governance gate, docs/governance.md), no opted-out person, members consistent with their
definition."""

from __future__ import annotations

import dagster as dg

from blueprint_pipeline.activation.state import MEMBERS
from blueprint_pipeline.config.models import BlueprintConfig
from blueprint_pipeline.governance.lineage import Violation, violations
from blueprint_pipeline.warehouse import Session

FORBIDDEN = "no_forbidden_field"
OPTED_OUT = "no_opted_out_person"
CONSISTENT = "members_match_definition"


def specs(asset: str, *names: str) -> list[dg.AssetCheckSpec]:
    described = {
        FORBIDDEN: "No activation touches data whose labels a policy forbids for the destination's marketing "
        "actions (a list that would is blocked: nothing written).",
        OPTED_OUT: "No person list holds a person opted out of email or bounced.",
        CONSISTENT: "Every list member belongs to the audience or buying group the list is defined from.",
    }
    return [
        dg.AssetCheckSpec(n, asset=asset, blocking=n != CONSISTENT, description=described[n]) for n in names
    ]


def gate(
    context: dg.AssetExecutionContext, config: BlueprintConfig, destination: str
) -> dict[str, list[Violation]]:
    """The activations to `destination` that policies block (logged, each violation on a line)."""
    blocked = {name: found for name, found in violations(config, destination).items() if found}
    for found in blocked.values():
        for violation in found:
            context.log.error(f"blocked: {violation.describe()}")
    return blocked


def forbidden_result(blocked: dict[str, list[Violation]]) -> dg.AssetCheckResult:
    lines = [v.describe() for found in blocked.values() for v in found]
    return dg.AssetCheckResult(
        check_name=FORBIDDEN,
        passed=not blocked,
        metadata={
            "blocked": ", ".join(sorted(blocked)) or "none",
            "violations": dg.MetadataValue.md("\n".join(f"- {line}" for line in lines) or "none"),
        },
    )


def blocked_summary(blocked: dict[str, list[Violation]], destination: str) -> dict[str, str]:
    """Build-summary lines: which lists were blocked and the first reason for each."""
    if not blocked:
        return {}
    reasons = "; ".join(
        f"{name} ({len(found)} violation(s), e.g. label {found[0].label} on {found[0].field}, policy "
        f"{found[0].policy})"
        for name, found in sorted(blocked.items())
    )
    return {f"summary/{destination} blocked by governance": reasons}


def opted_out(session: Session, destination: str, person_lists: list[str], as_of) -> dg.AssetCheckResult:
    """Over the lists as handed out at `as_of` (MEMBERS keeps the baseline's too)."""
    count = int(
        session.scalar(
            f"select count(*) from {MEMBERS} as m inner join unified_persons as p on p.person_id = m.key "
            "where m.destination = $d and m.list_name in (select unnest($lists)) and m.activated_at = $t "
            "and (p.email_opt_out or coalesce(p.email_bounced, false))",
            {"d": destination, "lists": person_lists or [""], "t": as_of},
        )
    )
    return dg.AssetCheckResult(
        check_name=OPTED_OUT, passed=count == 0, metadata={"opted_out_in_lists": count}
    )


def differs(
    session: Session, destination: str, list_name: str, allowed_sql: str, params: dict, both_ways: bool, as_of
) -> bool:
    """Whether a list as handed out at `as_of` holds a key `allowed_sql` (person or account ids)
    does not, or, `both_ways`, lacks one it does."""
    listed = (
        f"select key from {MEMBERS} where destination = $dest and list_name = $list "
        "and activated_at = $listed_at"
    )
    params = {"dest": destination, "list": list_name, "listed_at": as_of, **params}
    extra = int(session.scalar(f"select count(*) from ({listed} except {allowed_sql}) as d", params))
    missing = int(session.scalar(f"select count(*) from ({allowed_sql} except {listed}) as d", params))
    return extra + (missing if both_ways else 0) > 0


def consistent_result(mismatched: list[str]) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        check_name=CONSISTENT,
        passed=not mismatched,
        metadata={"mismatched_lists": ", ".join(mismatched) or "none"},
    )
