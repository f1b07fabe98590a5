"""person_activity_days on hand-made data, DuckDB and PostgreSQL: the day sums, whatever the
as-of, and an incremental build that sums again only the days that changed.

Rules: form_fill 10 points, daily cap 1; page_view 1 point, cap 5; half-life 1 day, so an
activity h hours after midnight is anchored at points x 2^(h / 24).
  p1 form_fill 1 Mar: 12:00 and 06:00 -> 2 activities, 1 counted (06:00, the earliest):
     anchored 10 x 2^(6/24) = 11.892071, points_counted 10; over the cap too (anchored_all,
     the readiness features'): 10 x 2^(12/24) + 11.892071 = 14.142136 + 11.892071 = 26.034207
  p1 page_view 1 Mar 18:00 -> anchored 1 x 2^(18/24) = 1.681793
  p2 form_fill 2 Mar 00:00 -> anchored 10 x 2^0 = 10
  p3 email_open (no points) 2 Mar 12:00 -> 1 activity, 0 counted, points and sums null / 0
Then: p1 gains a form fill on 1 Mar 03:00 (now the counted one: 10 x 2^(3/24) = 10.905077),
p2's activity moves to p3 (identity joined them), and p3's email open is gone. Only p1's form
fill day is summed again; p2's day is removed; p3 gets the moved day; p1's page view day is not
rewritten (it keeps the row it had).
"""

from __future__ import annotations

from datetime import datetime

import pandas as pd
import pytest

from blueprint_pipeline.core.paths import SQL_PROJECT_DIR
from blueprint_pipeline.sql_models.project import load_project
from blueprint_pipeline.sql_models.runner import build_model

AS_OF = datetime(2026, 3, 10)
D = pd.Timestamp
RULES = {
    "scoring_points": pd.DataFrame({"kind": ["form_fill", "page_view"], "points": [10.0, 1.0], "daily_cap": [1, 5]}),
    "scoring_settings": pd.DataFrame(
        {"half_life_days": [1.0], "window_days": [None], "lookback_days": [365.0],
         "group_aggregation": ["sum"], "model": ["explainable"]}
    ).astype({"window_days": "float64"}),
}  # fmt: skip
FIRST = [
    ("p1", "a1", "form_fill", D("2026-03-01 12:00")),
    ("p1", "a2", "form_fill", D("2026-03-01 06:00")),
    ("p1", "a3", "page_view", D("2026-03-01 18:00")),
    ("p2", "a4", "form_fill", D("2026-03-02 00:00")),
    ("p3", "a5", "email_open", D("2026-03-02 12:00")),
]
THEN = [
    ("p1", "a1", "form_fill", D("2026-03-01 12:00")),
    ("p1", "a2", "form_fill", D("2026-03-01 06:00")),
    ("p1", "a6", "form_fill", D("2026-03-01 03:00")),
    ("p1", "a3", "page_view", D("2026-03-01 18:00")),
    ("p3", "a4", "form_fill", D("2026-03-02 00:00")),
]
DAYS = "select person_id, kind, cast(activity_day as varchar), activities, counted, points_each, round(anchored, 6), points_counted from person_activity_days order by 1, 2"  # noqa: E501


def _activities(warehouse, rows) -> None:
    frame = pd.DataFrame(rows, columns=["person_id", "activity_id", "kind", "activity_at"])
    with warehouse.transaction() as session:
        session.replace_table("int_person_activities", frame.astype({"activity_at": "datetime64[us]"}))


def _build(warehouse, full_refresh=False):
    project = load_project(SQL_PROJECT_DIR)
    model = project.models["person_activity_days"]
    return build_model(warehouse, project, model, as_of=AS_OF, config_version="t", full_refresh=full_refresh)


@pytest.fixture
def rules(warehouse):
    with warehouse.transaction() as session:
        for name, frame in RULES.items():
            session.replace_table(name, frame)
    return warehouse


def test_day_sums_and_an_incremental_build_of_the_changed_days(rules):
    warehouse = rules
    _activities(warehouse, FIRST)
    _build(warehouse)
    assert warehouse.fetchall(DAYS) == [
        ("p1", "form_fill", "2026-03-01", 2, 1, 10.0, 11.892071, 10.0),
        ("p1", "page_view", "2026-03-01", 1, 1, 1.0, 1.681793, 1.0),
        ("p2", "form_fill", "2026-03-02", 1, 1, 10.0, 10.0, 10.0),
        ("p3", "email_open", "2026-03-02", 1, 0, None, 0.0, 0.0),
    ]
    # The readiness features' columns: every activity, the cap ignored, and the day's first.
    assert warehouse.fetchall(
        "select person_id, kind, round(anchored_all, 6), cast(first_activity_at as varchar) "
        "from person_activity_days order by 1, 2"
    ) == [
        ("p1", "form_fill", 26.034207, "2026-03-01 06:00:00"),
        ("p1", "page_view", 1.681793, "2026-03-01 18:00:00"),
        ("p2", "form_fill", 10.0, "2026-03-02 00:00:00"),
        ("p3", "email_open", 0.0, "2026-03-02 12:00:00"),
    ]
    page_view_hash = warehouse.fetchall(
        "select activities_hash from person_activity_days where kind = 'page_view'"
    )

    _activities(warehouse, THEN)
    result = _build(warehouse)
    expected = [
        ("p1", "form_fill", "2026-03-01", 3, 1, 10.0, 10.905077, 10.0),
        ("p1", "page_view", "2026-03-01", 1, 1, 1.0, 1.681793, 1.0),
        ("p3", "form_fill", "2026-03-02", 1, 1, 10.0, 10.0, 10.0),
    ]
    assert warehouse.fetchall(DAYS) == expected
    # Written: p1's form fill day and p3's new day; removed: p2's day and p3's email open day.
    assert (result.rows_inserted, result.rows_replaced, result.rows_removed) == (2, 1, 2)
    assert warehouse.fetchall(
        "select activities_hash from person_activity_days where kind = 'page_view'"
    ) == (page_view_hash)
    _build(warehouse, full_refresh=True)
    assert warehouse.fetchall(DAYS) == expected


def test_a_change_of_the_rules_sums_every_day_again(rules):
    """form_fill worth 20 instead of 10: every form fill day is summed again, with nothing else new."""
    warehouse = rules
    _activities(warehouse, FIRST)
    _build(warehouse)
    with warehouse.transaction() as session:
        session.replace_table("scoring_points", RULES["scoring_points"].assign(points=[20.0, 1.0]))
    _build(warehouse)
    assert warehouse.fetchall(
        "select person_id, round(anchored, 6) from person_activity_days where kind = 'form_fill' order by 1"
    ) == [("p1", 23.784142), ("p2", 20.0)]
