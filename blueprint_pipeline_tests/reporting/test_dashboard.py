"""The dashboard built from the KPI fixture (test_kpis.py) and a few more hand-made tables: one
self-contained page (plotly.js inline, no network), five sections, every chart drawn or saying
it has no data, no personal data; the sales hand-off lists the qualified groups (g2 Marketing
Qualified with score 40, g3 Sales Ready with 50: g3 first)."""

from __future__ import annotations

import json
import re

import dagster as dg
import pandas as pd

from blueprint_pipeline.core.run_facts import AS_OF_TAG
from blueprint_pipeline.defs.reporting.dashboard import dashboard
from blueprint_pipeline.defs.reporting.kpis import kpis
from blueprint_pipeline.resources import BlueprintConfigResource
from blueprint_pipeline_tests.reporting.test_kpis import D, _tables


def more_tables() -> dict[str, pd.DataFrame]:
    groups = ["g1", "g2", "g3"]
    return {
        "unified_accounts": pd.DataFrame({"account_id": ["A1", "A2", "A3"],
                                          "account_name": ["Acme", "Globex", "Initech"]}),
        "buying_groups": pd.DataFrame({"buying_group_id": groups, "account_id": ["A1", "A2", "A3"],
                                       "solution_interest": ["data_platform", "data_platform", "security_add_on"],
                                       "completeness_score": [0.75, 1.0, 0.8],
                                       "missing_required_roles": ["Champion", "", ""]}),
        "buying_group_stages": pd.DataFrame({"buying_group_id": groups,
                                             "stage": ["Engaged", "Marketing Qualified", "Sales Ready"],
                                             "entered_at": [D("2026-11-10")] * 3, "days_in_stage": [45, 13, 20]}),
        "buying_group_engagement": pd.DataFrame({"buying_group_id": groups, "score": [20.0, 40.0, 50.0],
                                                 "velocity_14": [12.0, -3.0, 0.0]}),
        "buying_group_roles": pd.DataFrame({"buying_group_id": ["g1", "g1", "g2"],
                                            "role": ["Decision Maker", "Champion", "Decision Maker"],
                                            "assigned": [1, 0, 2]}),
        "buying_group_members": pd.DataFrame({"buying_group_id": ["g1", "g2", "g2"], "person_id": ["prs_zq1", "prs_zq1", "prs_zq2"],
                                              "role": ["Decision Maker", "Decision Maker", "Decision Maker"]}),
        "person_engagement_scores": pd.DataFrame({"person_id": ["prs_zq1", "prs_zq2"], "score": [5.0, 7.0]}),
        "account_engagement_scores": pd.DataFrame({"account_id": ["A1", "A2"], "score": [30.0, 9.0],
                                                   "velocity_14": [15.0, -12.0]}),
        "journey_node_counts": pd.DataFrame({"journey_id": ["j1", "j1"], "node": ["entry", "wait"],
                                             "accounts": [4, 2], "accounts_here_now": [0, 2]}),
    }  # fmt: skip


def test_dashboard_and_handoff(warehouse, tmp_path, monkeypatch):
    monkeypatch.setenv("BLUEPRINT_REPORTS_DIR", str(tmp_path / "reports"))
    with warehouse.transaction() as session:
        for name, frame in {**_tables(), **more_tables()}.items():
            session.replace_table(name, frame)
    result = dg.materialize(
        [kpis, dashboard],
        resources={
            "warehouse": warehouse,
            "blueprint_config": BlueprintConfigResource(config_dir=str(tmp_path)),
        },
        tags={AS_OF_TAG: "2026-11-25T00:00:00"},
    )
    assert result.success
    page = (tmp_path / "reports" / "dashboard.html").read_text()
    for section in ("overview", "progression", "coverage", "journeys", "tuning"):
        assert f'<section id="{section}">' in page
    assert "<script src=" not in page and 'src="http' not in page  # plotly.js is inline: no network
    assert page.count('class="plotly-graph-div"') == 14  # every chart has data in this fixture
    assert "Surging accounts" in page and "Acme" in page and "Globex" in page  # +15 and -12 velocity
    assert "prs_zq" not in page  # persons only as counts
    handoff = (tmp_path / "reports" / "sales_handoff.csv").read_text().splitlines()
    assert handoff[0] == (
        "account_name,account_id,solution_interest,stage,stage_since,completeness,group_engagement_score,"
        "missing_roles"
    )
    assert [line.split(",")[1] for line in handoff[1:]] == ["A3", "A2"]
    [page_built] = [
        m for m in result.get_asset_materialization_events() if m.asset_key == dg.AssetKey("dashboard")
    ]
    metadata = page_built.materialization.metadata
    assert metadata["sales_handoff_rows"].value == 2
    _labels_are_words_and_scores_state_their_scale(page)
    _day_axes_are_days(page)


def _labels_are_words_and_scores_state_their_scale(page: str) -> None:
    """Tables head their columns in words, and a group's score and an account's say
    which scale each is on (the shipped config: role-weighted mean of members, sum over persons)."""
    headings = set(re.findall(r"<th>([^<]*)</th>", page))
    assert {"Account", "Solution interest", "Stage", "Days in stage"} <= headings
    assert not {h for h in headings if "_" in h}, headings  # no column name such as velocity_14
    assert "Group engagement score (points, role-weighted mean of members)" in headings
    assert "Account engagement score (points, sum over its persons)" in headings
    # A group's velocity aggregates its members' as its score does (docs/figures.md), an account's sums.
    velocity = "14-day velocity (points, {}: last 14 days minus the 14 before)"
    assert "Group " + velocity.format("role-weighted mean of members") in headings
    assert "Account " + velocity.format("sum over its persons") in headings
    assert "Mean group engagement score (points, role-weighted mean of members)" in page


def _figures(page: str) -> list[tuple[list, dict]]:
    """Each chart's data and layout, as plotly.js is handed them."""
    decoder, found = json.JSONDecoder(), []
    for match in re.finditer(r'Plotly\.newPlot\(\s*"[^"]+",\s*', page):
        data, end = decoder.raw_decode(page, match.end())
        layout, _ = decoder.raw_decode(page, page.index("{", end))
        found.append((data, layout))
    return found


def _day_axes_are_days(page: str) -> None:
    """A chart over days or weeks ticks once per day drawn: with a single day, a date axis would
    read "23:59:59.9995". Every axis is titled in words."""
    figures = _figures(page)
    assert len(figures) == 14
    day_axes = 0
    for _, layout in figures:
        for name, axis in layout.items():
            if not name.startswith(("xaxis", "yaxis")):
                continue
            title = (axis.get("title") or {}).get("text")
            assert title is None or "_" not in title, title
            if title in ("Day", "Week"):
                assert axis.get("type") == "category", (title, axis)
                day_axes += 1
    assert day_axes >= 3  # stage progression, role acquisition, journey completion, email engagement
