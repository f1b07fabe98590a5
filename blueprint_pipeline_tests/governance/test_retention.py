"""Retention on hand-made tables, DuckDB and PostgreSQL. As of 2026-03-01, activities
kept 730 days (cutoff 2024-03-01) and the outbox 30 days (cutoff 2026-01-30): activity a-old
(2023-01-01) goes from the raw and the staged table, a-new stays; the outbox's old sent message
goes, its old pending one stays (it has not been sent yet), the new one stays."""

from __future__ import annotations

from datetime import datetime

import pandas as pd

from blueprint_pipeline.defs.governance.retention import retention
from blueprint_pipeline_tests.builds import materialized


def test_old_rows_expire_with_counts(warehouse, tmp_path):
    (tmp_path / "governance.yaml").write_text(
        "retention:\n  marketo_activities: {older_than_days: 730}\n  journey_outbox: {older_than_days: 30}\n"
        "  journey_step_log: null\n  sales_alert_log: null\n  tracking_events: null\n"
    )
    tables = {
        "raw_marketo__activities": pd.DataFrame({"marketo_guid": [" a-old", "a-new"], "activity_date": ["x", "y"]}),
        "stg_marketo__activities": pd.DataFrame(
            {"activity_id": ["a-old", "a-new"], "activity_at": [datetime(2023, 1, 1), datetime(2026, 2, 1)]}
        ),
        "journey_outbox": pd.DataFrame(
            {"message_id": ["m1", "m2", "m3"], "status": ["sent", "pending", "sent"],
             "created_at": [datetime(2026, 1, 1), datetime(2026, 1, 1), datetime(2026, 2, 20)]}
        ),
        # The sales alerts' outbox expires with the journeys' (the dataset journey_outbox).
        "sales_alert_outbox": pd.DataFrame(
            {"message_id": ["a1", "a2"], "status": ["sent", "pending"],
             "created_at": [datetime(2026, 1, 1), datetime(2026, 1, 1)]}
        ),
    }  # fmt: skip
    with warehouse.transaction() as session:
        for name, frame in tables.items():
            session.replace_table(name, frame)
    result = materialized([retention], warehouse, tmp_path, "2026-03-01T00:00:00")
    metadata = result.asset_materializations_for_node("retention")[0].metadata
    assert metadata["deleted_rows"].value == 4
    assert metadata["deleted/raw_marketo__activities"].value == 1
    assert warehouse.fetchall("select activity_id from stg_marketo__activities") == [("a-new",)]
    assert warehouse.fetchall("select trim(marketo_guid) from raw_marketo__activities") == [("a-new",)]
    assert sorted(warehouse.fetchall("select message_id from journey_outbox")) == [("m2",), ("m3",)]
    assert warehouse.fetchall("select message_id from sales_alert_outbox") == [("a2",)]
