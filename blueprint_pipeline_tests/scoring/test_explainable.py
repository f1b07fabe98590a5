"""The explainable engagement model on hand-made data, DuckDB and PostgreSQL.

Person scores, on the identity_unified fixture (activities in docs/scoring.md's worked example),
as of 2026-03-01 00:00, half-life 10 days (decay = 0.5 ^ (age / 10)), points form_fill 10,
page_view 1, event_attendance 15, event_registration 8, email_open 1, daily cap 1 form fill:
  Carol  g1 (age 8.583 d) 10 x 0.551589 + g2 (3.583 d) 10 x 0.780065             = 13.316546
  Zed    g3 (2.583 d) 10 x 0.836053; g10 the same day: over the cap of 1, counted 0;
         g4 (1 Dec 2025 10:00, 89.583 d) 10 x 0.002010                            =  8.380636
  Ann    g5 form (Feb 27 10:00, 1.583 d) 10 x 0.896060 + g6 page (0.583 d) 1 x 0.960373
         + g7 attendance (0.5 d) 15 x 0.965936 + CRM registration (Feb 2, 27 d) 8 x 0.153893;
         her LinkedIn form (Mar 1, 09:00) is after the as-of time: not scored     = 25.641159
  Eve    g9 open (Feb 28 13:00, 0.458 d) 1 x 0.968730                             =  0.968730
  Dee    CRM "Responded" (26 d) 10 x 0.164938                                     =  1.649385
Velocity (undecayed points, last N days minus the N before): Carol 20 / 20, Zed 10 / 10,
Ann 26 - 8 = 18 / 34, Dee 0 - 10 = -10 / 10.
With a 30-day window instead: full points inside, none outside: Carol 20, Zed 10 (g4 is 89 days
old), Ann 10 + 1 + 15 + 8 = 34, Eve 1, Dee 10.
"""

from __future__ import annotations

import shutil
from datetime import datetime

import pandas as pd
import pytest

from blueprint_pipeline.core.paths import SQL_PROJECT_DIR
from blueprint_pipeline.sql_models.project import load_project
from blueprint_pipeline.sql_models.runner import build_model
from blueprint_pipeline_tests.conftest import FIXTURES
from blueprint_pipeline_tests.identity.test_unified import ANN, CAROL, DEE, EVE, ZED
from blueprint_pipeline_tests.ingestion.test_two_drops import build

SCORING = """
explainable:
  points: {form_fill: 10, page_view: 1, event_attendance: 15, event_registration: 8, email_open: 1}
  decay: {half_life_days: 10}
  daily_cap: {default: 5, form_fill: 1}
"""


def test_person_scores_decay_cap_and_velocity(warehouse, tmp_path, monkeypatch):
    landing = tmp_path / "landing"
    shutil.copytree(FIXTURES / "identity_unified", landing)
    config = tmp_path / "config"
    config.mkdir()
    (config / "scoring.yaml").write_text(SCORING)
    monkeypatch.setenv("BLUEPRINT_CONFIG_DIR", str(config))
    assert build(landing, warehouse, monkeypatch, keep_config=True).success
    found = {
        p: (round(s, 6), v14, v30)
        for p, s, v14, v30 in warehouse.fetchall(
            "select person_id, score, velocity_14, velocity_30 from person_engagement_scores"
        )
    }
    assert found == {
        CAROL: (13.316546, 20, 20),
        ZED: (8.380636, 10, 10),
        ANN: (25.641159, 18, 34),
        EVE: (0.96873, 1, 1),
        DEE: (1.649385, -10, 10),
    }
    zed_day = warehouse.fetchall(
        "select activities, counted from person_engagement_contributions "
        f"where person_id = '{ZED}' and cast(activity_day as varchar) = '2026-02-26'"
    )
    assert zed_day == [(2, 1)]
    # Every score is its contributions' sum.
    explained = (
        "select count(*) from person_engagement_scores as s where abs(s.score - (select sum(c.contribution) "
        "from person_engagement_contributions as c where c.person_id = s.person_id)) > 1e-6"
    )
    assert warehouse.scalar(explained) == 0

    (config / "scoring.yaml").write_text(
        SCORING.replace("{half_life_days: 10}", "{half_life_days: null, window_days: 30}")
    )
    assert build(landing, warehouse, monkeypatch, keep_config=True).success
    windowed = dict(warehouse.fetchall("select person_id, score from person_engagement_scores"))
    assert windowed == {CAROL: 20, ZED: 10, ANN: 34, EVE: 1, DEE: 10}
    assert (
        warehouse.scalar(
            "select count(*) from person_engagement_scores as s where abs(s.score - (select sum(c.contribution) "
            "from person_engagement_contributions as c where c.person_id = s.person_id)) > 1e-6"
        )
        == 0
    )


@pytest.mark.parametrize(
    ("aggregation", "model", "expected_g", "expected_v14", "contributions"),
    [
        ("sum", "explainable", 20.0, 6.0, [10.0, 4.0, 6.0, 0.0]),
        ("role_weighted_average", "explainable", 6.0, 1.461538, [3.846154, 1.230769, 0.923077, 0.0]),
        ("min_per_role", "explainable", 4.0, 2.0, [0.0, 4.0, 0.0, 0.0]),
        # the suite model's group score (given here) becomes `score`; velocity stays explainable
        ("sum", "suite_compatible", 70.0, 6.0, [10.0, 4.0, 6.0, 0.0]),
    ],
)
def test_group_aggregations(warehouse, aggregation, model, expected_g, expected_v14, contributions):
    """Group g: Decision Maker (weight 100, required) p1 scored 10, Champion (80, required) p2 4,
    Practitioner (40) p3 6 and p4 with no activity. sum 20; role-weighted (10x100 + 4x80 + 6x40 +
    0x40) / 260 = 6; weakest required role: Champion, 4. Group h has no members: 0 every way.
    Contributions (buying_group_score_contributions) add up to the score: role-weighted p1
    10 x 100 / 260 = 3.846154, p2 4 x 80 / 260 = 1.230769, p3 6 x 40 / 260 = 0.923077; min per
    role: only the Champion's members count. Suite raw contributions (member suite scores 50, 20,
    0, 0; template weights sum 220): p1 50 x 100 / 220 = 22.727273, p2 20 x 80 / 220 = 7.272727.
    Velocity (14 days: p1 1, p2 2, p3 3, p4 0) aggregates as the score does (docs/figures.md): sum
    6; role-weighted (1x100 + 2x80 + 3x40 + 0x40) / 260 = 1.461538; the weakest required role's
    (Champion) 2."""
    roles = [("DM", True, 100.0), ("Champion", True, 80.0), ("Practitioner", False, 40.0)]
    tables = {
        "buying_groups": pd.DataFrame({"buying_group_id": ["g", "h"]}),
        "buying_group_roles": pd.DataFrame(
            [(g, r, req, w) for g in ("g", "h") for r, req, w in roles],
            columns=["buying_group_id", "role", "required", "weight"],
        ),
        "buying_group_members": pd.DataFrame(
            [("g", "p1", "DM"), ("g", "p2", "Champion"), ("g", "p3", "Practitioner"), ("g", "p4", "Practitioner")],
            columns=["buying_group_id", "person_id", "role"],
        ),
        "person_engagement_scores": pd.DataFrame(
            {"person_id": ["p1", "p2", "p3"], "score": [10.0, 4.0, 6.0], "velocity_14": [1.0, 2.0, 3.0],
             "velocity_30": [0.0, 0.0, 5.0]}
        ),
        "buying_group_suite_scores": pd.DataFrame({"buying_group_id": ["g", "h"], "score": [70.0, 0.0]}),
        "person_suite_scores": pd.DataFrame({"person_id": ["p1", "p2"], "score": [50.0, 20.0]}),
        "scoring_settings": pd.DataFrame(
            {"half_life_days": [10.0], "window_days": [None], "lookback_days": [365.0], "group_aggregation": [aggregation],
             "model": [model]}
        ).astype({"window_days": "float64"}),
    }  # fmt: skip
    with warehouse.transaction() as session:
        for name, frame in tables.items():
            session.replace_table(name, frame)
    project = load_project(SQL_PROJECT_DIR)
    for name in ("buying_group_engagement", "buying_group_score_contributions"):
        build_model(warehouse, project, project.models[name], as_of=datetime(2026, 3, 1), config_version="t")
    found = {
        g: (round(s, 6), round(v14, 6))
        for g, s, v14 in warehouse.fetchall(
            "select buying_group_id, score, velocity_14 from buying_group_engagement"
        )
    }
    assert found == {"g": (expected_g, expected_v14), "h": (0.0, 0.0)}
    by_member = warehouse.fetchall(
        "select round(contribution, 6), round(suite_raw_contribution, 6) from buying_group_score_contributions "
        "order by person_id"
    )
    assert [c for c, _ in by_member] == contributions
    assert [s for _, s in by_member] == [22.727273, 7.272727, 0.0, 0.0]
    if model == "explainable":
        assert round(sum(c for c, _ in by_member), 6) == expected_g


def test_journey_score_adjustments(warehouse):
    """A form fill 10 days old at half-life 10 gives p1 10 x 0.5 = 5; a journey added 2.5 to p1
    (no decay) and took 3 from p2, whose score stays 0 (never below); an adjustment dated after
    the as-of time does not count yet; a forgotten person's (person_id redacted to null) counts
    for nobody, and the scores' blocking tests pass."""
    as_of = datetime(2026, 3, 1)
    tables = {
        "int_person_activities": pd.DataFrame(
            {"person_id": ["p1"], "activity_id": ["a1"], "kind": ["form_fill"], "activity_at": [datetime(2026, 2, 19)]}
        ),
        "scoring_points": pd.DataFrame({"kind": ["form_fill"], "points": [10.0], "daily_cap": [5]}),
        "scoring_settings": pd.DataFrame(
            {"half_life_days": [10.0], "window_days": [None], "lookback_days": [365.0],
             "group_aggregation": ["sum"], "model": ["explainable"]}
        ).astype({"window_days": "float64"}),
        "person_score_adjustments": pd.DataFrame(
            {"step_key": ["k1", "k2", "k3", "k4"], "person_id": ["p1", "p2", "p1", None],
             "points": [2.5, -3.0, 1.0, 4.0], "journey_id": "j", "node": "bump", "reason": "",
             "happened_at": [datetime(2026, 2, 28), datetime(2026, 2, 28), datetime(2026, 3, 2), datetime(2026, 2, 27)]}
        ),
        "person_account_links": pd.DataFrame(
            {"person_id": pd.Series([], dtype="string"), "account_id": pd.Series([], dtype="string"),
             "is_primary": pd.Series([], dtype="bool")}
        ),
    }  # fmt: skip
    with warehouse.transaction() as session:
        for name, frame in tables.items():
            session.replace_table(name, frame)
    project = load_project(SQL_PROJECT_DIR)
    for name in ("person_activity_days", "person_engagement_contributions", "person_engagement_scores"):
        model = project.models[name]
        blocking = tuple(t for t in model.tests if t.blocking)
        assert build_model(
            warehouse, project, model, as_of=as_of, config_version="t", blocking_tests=blocking
        ).published
    scores = {
        p: round(s, 6) for p, s in warehouse.fetchall("select person_id, score from person_engagement_scores")
    }
    assert scores == {"p1": 7.5, "p2": 0.0}
    assert warehouse.fetchall(
        "select person_id, kind, contribution from person_engagement_contributions order by person_id, kind"
    ) == [("p1", "form_fill", 5.0), ("p1", "journey_adjustment", 2.5), ("p2", "journey_adjustment", -3.0)]
