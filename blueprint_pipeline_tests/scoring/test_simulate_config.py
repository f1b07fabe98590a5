"""`blueprint simulate-config` on hand-made tables, DuckDB and PostgreSQL.

Groups G1 (account A1, member p1) and G2 (A2, p2), both complete (1.0). p1 filled forms on 03-01
and 03-02 at 10:00; p2 visited a page on 03-01 10:00. Scoring: form fill 10, page view 1, a
30-day window (no decay), group score = the sum. Stages: the shipped `standard` model
(Awareness -> Engaged at 5 -> Marketing Qualified at 10 and 0.5 -> Sales Ready at 20 and 0.8).
Runs at 03-01 12:00 and 03-02 12:00.
  Current config: run 1 G1 = 10: new -> Awareness -> Engaged -> Marketing Qualified; G2 = 1:
  Awareness. Run 2 G1 = 20 -> Sales Ready. Alerts (shipped rules, quiet on run 1): run 2 fires
  engagement_rising (G1 20 >= 15) and sales_ready (G1's move). G2 ends in Awareness.
  Other config (page view 6): G2 = 6 -> Engaged on run 1, not 10: it ends in Engaged. G1 as before.
So 1 of 2 groups ends in another stage; Awareness -> Engaged happens once vs twice; alerts agree.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

import pandas as pd

from blueprint_pipeline.resources import load_config
from blueprint_pipeline.scoring.simulate import compare

SCORING = "explainable:\n  points: {form_fill: 10, page_view: POINTS}\n  decay: {half_life_days: null, window_days: 30}\n  group_aggregation: sum\n"


def _tables() -> dict[str, pd.DataFrame]:
    empty = lambda **cols: pd.DataFrame({c: pd.Series([], dtype=t) for c, t in cols.items()})  # noqa: E731
    return {
        "stg_marketo__activities": pd.DataFrame(
            {"activity_id": ["a1", "a2", "a3"], "lead_id": [1, 1, 2],
             "activity_at": [datetime(2026, 3, 1, 10), datetime(2026, 3, 2, 10), datetime(2026, 3, 1, 10)],
             "activity_type_id": [2, 2, 1], "activity_type_name": ["Fill Out Form", "Fill Out Form", "Visit Webpage"],
             "attributes": "{}", "source_batch": 1}
        ),
        "stg_salesforce__campaign_members": empty(
            campaign_member_id="string", contact_id="string", lead_id="string", member_status="string",
            last_modified_at="datetime64[us]", created_at="datetime64[us]",
        ),
        "stg_linkedin__lead_gen_responses": empty(
            lead_gen_response_id="string", submitted_at="datetime64[us]", is_test_lead="bool"
        ),
        "stg_tracking__events": empty(
            event_id="string", message_token="string", person_id="string", event="string",
            occurred_at="datetime64[us]",
        ),
        "person_registry": pd.DataFrame({"source_key": ["1@prod.Marketo", "2@prod.Marketo"], "person_id": ["p1", "p2"]}),
        "person_account_links": pd.DataFrame({"person_id": ["p1", "p2"], "account_id": ["A1", "A2"], "is_primary": True}),
        "person_score_adjustments": empty(person_id="string", points="float64", happened_at="datetime64[us]"),
        "buying_groups": pd.DataFrame(
            {"buying_group_id": ["G1", "G2"], "account_id": ["A1", "A2"], "solution_interest": "data_platform",
             "completeness_score": 1.0, "is_complete": True}
        ),
        "buying_group_members": pd.DataFrame(
            {"buying_group_id": ["G1", "G2"], "person_id": ["p1", "p2"], "role": "Decision Maker"}
        ),
        "buying_group_roles": pd.DataFrame(
            {"buying_group_id": ["G1", "G2"], "role": "Decision Maker", "required": True, "weight": 100.0}
        ),
    }  # fmt: skip


def test_stages_and_alerts_under_another_scoring_config(warehouse, tmp_path):
    with warehouse.transaction() as session:
        for name, frame in _tables().items():
            session.replace_table(name, frame)
    for label, points in (("current", 1), ("other", 6)):
        (tmp_path / label).mkdir()
        (tmp_path / label / "scoring.yaml").write_text(SCORING.replace("POINTS", str(points)))
    current, other = load_config(tmp_path / "current"), load_config(tmp_path / "other")
    start = datetime(2026, 3, 1, 12)
    result = compare(
        warehouse, current, other, start, start + timedelta(days=1), timedelta(days=1), tmp_path / "work"
    )
    assert result.runs == 2
    assert result.current.final_stage == {"G1": "Sales Ready", "G2": "Awareness"}
    assert result.other.final_stage == {"G1": "Sales Ready", "G2": "Engaged"}
    assert result.current.moves == Counter(
        {(None, "Awareness"): 2, ("Awareness", "Engaged"): 1, ("Engaged", "Marketing Qualified"): 1,
         ("Marketing Qualified", "Sales Ready"): 1}
    )  # fmt: skip
    assert result.other.moves[("Awareness", "Engaged")] == 2
    assert result.current.alerts == result.other.alerts == Counter({"engagement_rising": 1, "sales_ready": 1})
    text = result.render("other")
    assert "groups ending in another stage: 1 of 2" in text and "G2: Awareness -> Engaged" in text
    # Nothing was written to the warehouse.
    with warehouse.session() as session:
        assert not session.table_exists("buying_group_engagement")
