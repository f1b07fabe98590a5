"""How an owner applies another layer's effect table to its own log: the journeys write what they
did to a table of theirs (journey_member_events, journey_stage_moves, ...), and the table's owner
appends the rows it has not applied yet at its next run (docs/architecture.md, the journey
feedback loop)."""

from __future__ import annotations

from blueprint_pipeline.warehouse.base import Session


def not_applied(source: str, target: str) -> str:
    """The `from ... where` of the rows of `source` (as `j`) whose step key is no request key of
    `target` yet: each request is applied once, whichever run applies it."""
    return (
        f"from {source} as j where not exists "
        f"(select 1 from {target} as applied where applied.request_key = j.step_key)"
    )


def apply_requests(
    session: Session, source: str, target: str, columns: dict[str, str], made_at: str, as_of,
    counter: str | None = None,
) -> int:  # fmt: skip
    """Append to `target` the rows of `source` made by `as_of` and not applied yet, in the order
    they were made (`event_seq`); `columns` maps each target column to its expression over `j`.
    With `counter`, the target's own sequence column continues from its largest value. Returns
    how many rows were appended."""
    new = f"{not_applied(source, target)} and j.{made_at} <= $as_of"
    count = int(session.scalar(f"select count(*) {new}", {"as_of": as_of}))
    names, values, order = list(columns), list(columns.values()), " order by j.event_seq"
    if counter:
        first = int(session.scalar(f"select coalesce(max({counter}), 0) from {target}"))
        names, values, order = (
            [counter, *names],
            [f"{first} + row_number() over (order by j.event_seq)", *values],
            "",
        )
    session.execute(
        f"insert into {target} ({', '.join(names)}) select {', '.join(values)} {new}{order}", {"as_of": as_of}
    )
    return count
