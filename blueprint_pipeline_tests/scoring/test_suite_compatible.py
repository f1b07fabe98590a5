"""The suite-compatible model on hand-made data, on DuckDB and PostgreSQL.

Persons (identity_unified, as of 2026-03-01, 30-day window, shipped weights, daily cap 1):
  Carol  two form fills on two days: 2 x 40 = 80               sqrt 8.944272
  Zed    two form fills on Feb 26: capped to 1: 40 (Dec's is outside the window)   6.324555
  Ann    form fill 40 + page view 40 + attendance 60 + CRM registration (27 days) 60 = 200  14.142136
  Eve    email open 30                                          5.477226
  Dee    CRM "Responded" form fill (26 days) 40                 6.324555
  score = 100 x sqrt / 14.142136: Ann 100, Carol 63.245553, Zed and Dee 44.72136, Eve 38.729833.
Groups (template weights DM 100, Champion 80, Practitioner 40; sum 220):
  g: p1 DM 100 and p2 Practitioner 50 -> 100 x 100/220 + 50 x 40/220 = 54.545455
  h: p3 Champion 20 -> 20 x 80/220 = 7.272727; k: nobody -> 0
  score = 100 x sqrt(raw) / sqrt(54.545455): g 100, h 36.514837, k 0.
"""

from __future__ import annotations

import shutil
from datetime import datetime

import pandas as pd

from blueprint_pipeline.core.paths import SQL_PROJECT_DIR
from blueprint_pipeline.sql_models.project import load_project
from blueprint_pipeline.sql_models.runner import build_model
from blueprint_pipeline_tests.conftest import FIXTURES
from blueprint_pipeline_tests.identity.test_unified import ANN, CAROL, DEE, EVE, ZED
from blueprint_pipeline_tests.ingestion.test_two_drops import build


def test_person_suite_scores(warehouse, tmp_path, monkeypatch):
    landing = tmp_path / "landing"
    shutil.copytree(FIXTURES / "identity_unified", landing)
    config = tmp_path / "config"
    config.mkdir()
    (config / "scoring.yaml").write_text("suite_compatible: {daily_cap: 1}\n")
    monkeypatch.setenv("BLUEPRINT_CONFIG_DIR", str(config))
    assert build(landing, warehouse, monkeypatch, keep_config=True).success
    found = {
        p: (raw, round(s, 6))
        for p, raw, s in warehouse.fetchall("select person_id, raw_points, score from person_suite_scores")
    }
    assert found == {
        ANN: (200, 100.0),
        CAROL: (80, 63.245553),
        ZED: (40, 44.72136),
        DEE: (40, 44.72136),
        EVE: (30, 38.729833),
    }


def test_group_suite_scores(warehouse):
    roles = [("DM", 100.0), ("Champion", 80.0), ("Practitioner", 40.0)]
    tables = {
        "buying_groups": pd.DataFrame({"buying_group_id": ["g", "h", "k"]}),
        "buying_group_roles": pd.DataFrame(
            [(g, r, w) for g in ("g", "h", "k") for r, w in roles],
            columns=["buying_group_id", "role", "weight"],
        ),
        "buying_group_members": pd.DataFrame(
            [("g", "p1", "DM"), ("g", "p2", "Practitioner"), ("h", "p3", "Champion")],
            columns=["buying_group_id", "person_id", "role"],
        ),
        "person_suite_scores": pd.DataFrame({"person_id": ["p1", "p2", "p3"], "score": [100.0, 50.0, 20.0]}),
    }
    with warehouse.transaction() as session:
        for name, frame in tables.items():
            session.replace_table(name, frame)
    project = load_project(SQL_PROJECT_DIR)
    build_model(
        warehouse,
        project,
        project.models["buying_group_suite_scores"],
        as_of=datetime(2026, 3, 1),
        config_version="t",
    )
    found = {
        g: (round(r, 6), round(s, 6))
        for g, r, s in warehouse.fetchall("select * from buying_group_suite_scores")
    }
    assert found == {"g": (54.545455, 100.0), "h": (7.272727, 36.514837), "k": (0.0, 0.0)}
