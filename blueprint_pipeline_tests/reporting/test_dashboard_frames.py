"""The dashboard's frames whose SQL is new (the rest moved from the page's code unchanged), worked by
hand on the dashboard's fixture (test_dashboard.py) plus a fourth group, DuckDB and PostgreSQL; and a
frame whose input is missing fails loudly instead of drawing an empty chart.

Groups (solution interest, completeness, group score, stage): g1 (data_platform, 0.75, 20,
Engaged), g2 (data_platform, 1.0, 40, Marketing Qualified), g3 (security_add_on, 0.8, 50, Sales
Ready), g4 (security_add_on, 0.1, no score: 0, Sales Ready; account A4, no name).
Bands of the shipped config: completeness [0, 0.25, 0.5, 0.75, 1.0], score [0, 10, 25, 50, 100];
an edge belongs to the band above it.
- completeness: data_platform 75%-100% (g1, at the edge) 1, 100% (g2) 1; security_add_on 75%-100%
  (g3) 1, 0%-25% (g4) 1.
- score: data_platform 10-25 (g1) 1, 25-50 (g2) 1; security_add_on 50-100 (g3, at the edge) 1, 0-10
  (g4, 0 without a score) 1.
- groups per interest: 2 and 2.
- hand-off, qualified stages [Sales Ready] from the config's alerts.yaml: g3 (A3, 50) then g4 (A4, 0);
  g2 (Marketing Qualified, qualified by the shipped config) is not handed off.
"""

from __future__ import annotations

import dagster as dg
import pandas as pd

from blueprint_pipeline.core.run_facts import AS_OF_TAG
from blueprint_pipeline.defs.reporting.dashboard import dashboard
from blueprint_pipeline.defs.reporting.kpis import kpis
from blueprint_pipeline.resources import BlueprintConfigResource
from blueprint_pipeline_tests.reporting.test_dashboard import more_tables
from blueprint_pipeline_tests.reporting.test_kpis import D, _tables


def _with_fourth_group() -> dict[str, pd.DataFrame]:
    tables = more_tables()
    fourth = {
        "buying_groups": {"buying_group_id": "g4", "account_id": "A4", "solution_interest": "security_add_on",
                          "completeness_score": 0.1, "missing_required_roles": "Champion"},
        "buying_group_stages": {"buying_group_id": "g4", "stage": "Sales Ready", "entered_at": D("2026-11-20"),
                                "days_in_stage": 5},
    }  # fmt: skip
    for name, row in fourth.items():
        tables[name] = pd.concat([tables[name], pd.DataFrame([row])], ignore_index=True)
    return tables


def _build(warehouse, config_dir, tables: dict[str, pd.DataFrame], **kwargs) -> dg.ExecuteInProcessResult:
    with warehouse.transaction() as session:
        for name, frame in tables.items():
            session.replace_table(name, frame)
    return dg.materialize(
        [kpis, dashboard],
        resources={
            "warehouse": warehouse,
            "blueprint_config": BlueprintConfigResource(config_dir=str(config_dir)),
        },
        tags={AS_OF_TAG: "2026-11-25T00:00:00"},
        **kwargs,
    )


def _rows(warehouse, table: str, order: str) -> list[tuple]:
    with warehouse.session() as session:
        frame = session.fetch_df(f"select * from {table}")
    frame = frame.sort_values(order.split(", ")).reset_index(drop=True)
    return [
        tuple(v.item() if hasattr(v, "item") else v for v in row) for row in frame.itertuples(index=False)
    ]


def test_bands_interests_and_handoff_by_hand(warehouse, tmp_path, monkeypatch):
    monkeypatch.setenv("BLUEPRINT_REPORTS_DIR", str(tmp_path / "reports"))
    (tmp_path / "alerts.yaml").write_text("milestones: {qualified_stages: [Sales Ready]}\n")
    result = _build(warehouse, tmp_path, {**_tables(), **_with_fourth_group()})
    assert result.success
    assert _rows(warehouse, "dashboard_group_bands", "measure, solution_interest, band") == [
        ("completeness", "data_platform", "100%", 1),
        ("completeness", "data_platform", "75%-100%", 1),
        ("completeness", "security_add_on", "0%-25%", 1),
        ("completeness", "security_add_on", "75%-100%", 1),
        ("score", "data_platform", "10-25", 1),
        ("score", "data_platform", "25-50", 1),
        ("score", "security_add_on", "0-10", 1),
        ("score", "security_add_on", "50-100", 1),
    ]
    assert _rows(warehouse, "dashboard_groups_per_interest", "solution_interest") == [
        ("data_platform", 2),
        ("security_add_on", 2),
    ]
    with warehouse.session() as session:  # stored most engaged first, as the CSV lists them
        handoff = session.fetch_df("select account_id, stage, group_engagement_score, missing_roles "
                                   "from dashboard_sales_handoff")  # fmt: skip
    assert [tuple(r) for r in handoff.itertuples(index=False)] == [
        ("A3", "Sales Ready", 50.0, ""),
        ("A4", "Sales Ready", 0.0, "Champion"),
    ]


def test_a_missing_input_fails_the_frame_loudly(warehouse, tmp_path, monkeypatch):
    """Not an empty chart: the frame that reads the missing table fails, naming it, the other frames
    are built, and no page is written (the page would have drawn "no data yet")."""
    monkeypatch.setenv("BLUEPRINT_REPORTS_DIR", str(tmp_path / "reports"))
    tables = {**_tables(), **more_tables()}
    del tables["journey_node_counts"]
    with warehouse.transaction() as session:
        session.execute("drop table if exists journey_node_counts")
    result = _build(warehouse, tmp_path, tables, raise_on_error=False)
    assert not result.success
    [failure] = [e for e in result.all_events if e.is_step_failure]
    assert failure.step_key == "dashboard"
    message = failure.step_failure_data.error.to_string()  # with its cause
    assert "dashboard_journey_nodes" in message and "journey_node_counts" in message
    built = {m.asset_key.path[-1] for m in result.get_asset_materialization_events()}
    assert "dashboard_journey_nodes" not in built and "dashboard" not in built
    assert {"dashboard_buying_groups", "dashboard_sales_handoff", "kpi_mqa_rate"} <= built
    assert not (tmp_path / "reports" / "dashboard.html").exists()
