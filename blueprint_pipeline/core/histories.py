"""Append-only histories stamped with the as-of time of the run that wrote them: time may not go
backwards in them (errors.check_not_before), checked before a build runs and by the assets."""

from datetime import datetime

import pandas as pd

from blueprint_pipeline.core.errors import check_not_before

_JOURNEYS = ("journey_enrolments", "journey_step_log", "journey_outbox", "journey_node_counts")

# table -> (its as-of column, the asset keys of the steps that append to it). A build checks only
# the tables its selected steps write, so the error names the history actually involved.
FORWARD_ONLY: dict[str, tuple[str, tuple[str, ...]]] = {
    # The journeys' moves join the stage history at the stage asset's next run: a journey run
    # before its last entry would queue a move that lands out of order.
    "buying_group_stage_history": ("changed_at", ("buying_group_stage_history", *_JOURNEYS)),
    "journey_stage_moves": ("changed_at", _JOURNEYS),
    "journey_runs": ("last_run_at", _JOURNEYS),
    "account_audience_history": ("happened_at", ("account_audience_history",)),
    "buying_group_member_events": ("happened_at", ("buying_group_member_events",)),
    "journey_member_events": ("happened_at", _JOURNEYS),
    "person_id_history": ("happened_at", ("person_registry",)),
}


def check_history_moves_forward(session, as_of: datetime, table: str) -> None:
    """An as-of before the last entry of `table` is an error naming it."""
    column = FORWARD_ONLY[table][0]
    if not session.table_exists(table):
        return
    latest = session.scalar(f"select max({column}) from {table}")
    check_not_before(as_of, None if latest is None else pd.Timestamp(latest).to_pydatetime(), table)


def check_time_moves_forward(warehouse, as_of: datetime, selected: set[str] | None = None) -> None:
    """Before anything runs: every history that the selected asset keys (all when None) append to."""
    with warehouse.session() as session:
        for table, (_, writers) in FORWARD_ONLY.items():
            if selected is None or selected & set(writers):
                check_history_moves_forward(session, as_of, table)
