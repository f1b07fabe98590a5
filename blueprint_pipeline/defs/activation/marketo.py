"""Group `activation`: Marketo static lists (docs/activation.md#marketo-static-lists)."""

from collections.abc import Iterator

import dagster as dg

from blueprint_pipeline.activation.linkedin import left_out_note, marketo_rows, persons_of, write_list
from blueprint_pipeline.activation.state import (
    check_moves_forward,
    complete,
    create_state,
    previous,
    remember,
)
from blueprint_pipeline.config.activation import LinkedIn
from blueprint_pipeline.core.faults import crash_point
from blueprint_pipeline.core.run_facts import run_facts
from blueprint_pipeline.core.step_order import AFTER_THE_ALERTS
from blueprint_pipeline.defs.activation import checks
from blueprint_pipeline.resources import ActivationResource, BlueprintConfigResource
from blueprint_pipeline.warehouse import Warehouse


@dg.asset(
    kinds={"python"},
    deps=["account_audience_members", "buying_group_members", "unified_persons"],
    op_tags=AFTER_THE_ALERTS,
    check_specs=checks.specs("marketo_static_lists", checks.FORBIDDEN, checks.OPTED_OUT, checks.CONSISTENT),
)
def marketo_static_lists(
    context: dg.AssetExecutionContext,
    warehouse: Warehouse,
    blueprint_config: BlueprintConfigResource,
    activation: ActivationResource,
) -> Iterator:
    """Per static list: the members of an audience or of a buying-group role as a CSV Marketo's
    list import takes (REST field names as headers), split under Marketo's 10 MB, with adds and
    removes (person ids) since the last completed activation before this as-of, and a manifest,
    under data/activation/marketo/<list>/<as-of>/. A list a governance policy forbids for Marketo
    is blocked: nothing of it is written."""
    loaded = blueprint_config.loaded
    marketo = loaded.config.activation.marketo
    limits = LinkedIn(max_bytes_per_file=marketo.max_bytes_per_file, min_records=0)  # the same file rules
    facts = run_facts(context, loaded.version)
    stamp = f"{facts.as_of:%Y%m%dT%H%M%S}"
    blocked = checks.gate(context, loaded.config, "marketo")
    lists = {n: d for n, d in sorted(marketo.static_lists.items()) if n not in blocked}
    report = {}
    with warehouse.transaction() as session:
        create_state(session)
        check_moves_forward(session, "marketo", list(lists), facts.as_of)
        for name, definition in lists.items():
            frame, not_one = marketo_rows(session, definition)
            described = {
                "kind": "marketo",
                **definition.model_dump(exclude_none=True),
                "config_version": loaded.version,
            }
            written = write_list(
                activation.root / "marketo",
                "marketo",
                name,
                frame,
                previous(session, "marketo", name, facts.as_of),
                limits,
                described,
                stamp,
            )
            remember(session, "marketo", name, frame["key"], facts.as_of)
            complete(session, "marketo", name, facts.as_of)  # files in place: commits with the rest
            report[name] = (
                f"{written.records:,} ({written.adds:,} added, {written.removes:,} removed"
                f"{left_out_note(not_one)})"
            )
        opted_out = checks.opted_out(session, "marketo", sorted(marketo.static_lists), facts.as_of)
        mismatched = [
            name
            for name, definition in lists.items()
            if checks.differs(
                session, "marketo", name, *persons_of(definition), both_ways=False, as_of=facts.as_of
            )
        ]
        crash_point("marketo_static_lists")  # files written, their state not committed
    yield checks.forbidden_result(blocked)
    yield opted_out
    yield checks.consistent_result(mismatched)
    yield dg.MaterializeResult(
        metadata={
            "lists": ", ".join(f"{n} {r}" for n, r in report.items()) or "none",
            "blocked": ", ".join(sorted(blocked)) or "none",
            **({"summary/marketo lists": "; ".join(f"{n} {r}" for n, r in report.items())} if report else {}),
            **checks.blocked_summary(blocked, "marketo"),
            **facts.metadata(),
        }
    )
