"""The training set on hand-made tables, worked by hand, both warehouses.

Each labelled example's features as they stood at its time T (the leakage test included).

o1: A1, Data Platform, created T1 = 2026-06-10 12:00, won. Persons of A1 (primary links): p1
(contact created 2026-01-01), p2 (no record; first activity 1 s before T1), p5 (contact created
2026-07-01, after T1: not known); p4 is linked to A1 but not primarily (left out).
Activities before T1: p1 email_click 9.5 days before, p1 form_fill 101.5 days before (outside the
90-day window, inside the lookback), p2 page_view 1 s before. p2's page_view 1 s AFTER T1 and 50
form fills after T1 must change nothing (the leakage test).
- activities_90d 2, active persons 2, velocity 2 - 0 = 2; of 2 known persons: engaged share 1.0,
  1.0 activity per person
- rule score (explainable points, 30-day half-life): 3 * 0.5^(9.5/30) + 1 * 0.5^(~0)
  + 10 * 0.5^(101.5/30) = 2.4082 + 1.0000 + 0.9588 = 4.3671
- known persons 2 (p1, p2); g1's members p1 Decision Maker, p2 Champion, p5 Influencer: 2 roles
  of the template's 4 known -> completeness 0.5
- the snapshot of 2026-06-09 (0.5, 12) counts; the one of T1's own day (0.9) does not
- log(1 + 999 employees) = 6.9078; no revenue
o2: A2, Data Platform, created T2 = 2026-06-20, lost: p3 email_open one day before ->
activities 1, velocity 1, rule score 0.5^(1/30) = 0.9772, known 1 (its activity), roles 1/4.
o3 (open) is not in the training set.
Sales feedback: f1 accepted A2's data_platform group at T3 = 2026-06-25 (label true): p3's
email_open 6 days before -> activities 1, velocity 1, rule score 0.5^(6/30) = 0.8706. f2 has a
problem (kept in sales_feedback, never a label); f3 is on the alias Z9, already mapped to A1 by
`sales_feedback`: rejected at 2026-06-12 (label false), p1's and p2's three activities before it.
"""

from __future__ import annotations

import math

import pandas as pd

from blueprint_pipeline.defs.qualification.training_set import qualification_training_set
from blueprint_pipeline.qualification.features import features_as_of
from blueprint_pipeline_tests.builds import day_sums, materialized

D = pd.Timestamp
T1 = D("2026-06-10 12:00:00")


def _tables(after: int = 0, extra: tuple = ()) -> dict[str, pd.DataFrame]:
    activities = [
        *extra,
        ("p1", "a1", "email_click", T1 - pd.Timedelta(days=9.5)),
        ("p1", "a2", "form_fill", T1 - pd.Timedelta(days=101.5)),
        ("p2", "a3", "page_view", T1 - pd.Timedelta(seconds=1)),
        ("p2", "a4", "page_view", T1 + pd.Timedelta(seconds=1)),
        ("p3", "a5", "email_open", D("2026-06-19")),
    ] + [("p1", f"late{i}", "form_fill", T1 + pd.Timedelta(hours=i + 1)) for i in range(after)]
    return {
        "stg_salesforce__opportunities": pd.DataFrame(
            {"opportunity_id": ["o1", "o2", "o3"], "account_id": ["A1", "A2", "A1"],
             "opportunity_type": "Data Platform", "created_at": [T1, D("2026-06-20"), D("2026-06-01")],
             "is_closed": [True, True, False], "is_won": [True, False, False]}),
        "account_aliases": pd.DataFrame({"alias_account_id": ["Z9"], "account_id": ["A1"]}),
        "person_account_links": pd.DataFrame(
            {"person_id": ["p1", "p2", "p5", "p4", "p3"], "account_id": ["A1", "A1", "A1", "A1", "A2"],
             "is_primary": [True, True, True, False, True]}),
        "int_person_activities": pd.DataFrame(activities, columns=["person_id", "activity_id", "kind", "activity_at"]),
        "stg_salesforce__contacts": pd.DataFrame(
            {"contact_id": ["c1", "c5"], "created_at": [D("2026-01-01"), D("2026-07-01")]}),
        "person_registry": pd.DataFrame(
            {"source_key": ["c1@prod.Salesforce", "c5@prod.Salesforce"], "person_id": ["p1", "p5"]}),
        "buying_groups": pd.DataFrame({"buying_group_id": ["g1", "g2"], "account_id": ["A1", "A2"],
                                       "solution_interest": "data_platform"}),
        "buying_group_members": pd.DataFrame(
            {"buying_group_id": ["g1", "g1", "g1", "g2"], "person_id": ["p1", "p2", "p5", "p3"],
             "role": ["Decision Maker", "Champion", "Influencer", "Decision Maker"]}),
        "buying_group_roles": pd.DataFrame(
            {"buying_group_id": ["g1"] * 4 + ["g2"] * 4, "role": ["Decision Maker", "Champion", "Influencer", "Other"] * 2}),
        "buying_group_snapshots": pd.DataFrame(
            {"account_id": ["A1", "A1"], "solution_interest": "data_platform",
             "snapshot_date": [D("2026-06-09"), D("2026-06-10")], "completeness_score": [0.5, 0.9],
             "score": [12.0, 30.0]}),
        "unified_accounts": pd.DataFrame({"account_id": ["A1", "A2"], "employees": [999.0, None],
                                          "annual_revenue": [None, None]}),
        "sales_feedback": pd.DataFrame(
            {"feedback_id": ["f1", "f2", "f3"], "account_id": ["A2", "A2", "A1"],
             "solution_interest": "data_platform", "decision": ["accepted", "maybe", "rejected"],
             "decided_at": [D("2026-06-25"), D("2026-06-26"), D("2026-06-12")],
             "problem": ["", "field decision: expected accepted or rejected", ""]}),
    }  # fmt: skip


def _build(warehouse, tmp_path, after: int = 0, extra: tuple = ()) -> pd.DataFrame:
    with warehouse.transaction() as session:
        for name, frame in _tables(after, extra).items():
            session.replace_table(name, frame)
    day_sums(warehouse, tmp_path)
    materialized([qualification_training_set], warehouse, tmp_path, "2026-11-25T00:00:00")
    with warehouse.session() as session:
        return session.fetch_df("select * from qualification_training_set order by example_id")


def test_features_as_of_creation_worked_by_hand(warehouse, tmp_path):
    rows = _build(warehouse, tmp_path).set_index("example_id")
    assert list(rows.index) == ["f1", "f3", "o1", "o2"]
    assert list(rows["label_source"]) == ["sales_feedback", "sales_feedback", "opportunity", "opportunity"]
    o1, o2 = rows.loc["o1"], rows.loc["o2"]
    assert (o1["activities_90d"], o1["active_persons_90d"], o1["velocity_14d"]) == (2, 2, 2)
    assert (o1["engaged_share_90d"], o1["activities_per_person_90d"]) == (1.0, 1.0)
    assert round(float(o1["rule_score"]), 4) == 4.3671
    assert (o1["known_persons"], o1["roles_filled"], float(o1["completeness"])) == (2, 2, 0.5)
    assert (float(o1["snapshot_completeness"]), float(o1["snapshot_score"])) == (0.5, 12.0)
    assert round(float(o1["log_employees"]), 4) == 6.9078 and pd.isna(o1["log_annual_revenue"])
    assert (o1["n_email_click"], o1["n_page_view"], o1["n_form_fill"]) == (1, 1, 0)
    assert bool(o1["label"]) and not bool(o2["label"])
    assert (o2["activities_90d"], o2["velocity_14d"], o2["known_persons"], o2["roles_filled"]) == (1, 1, 1, 1)
    assert round(float(o2["rule_score"]), 4) == round(0.5 ** (1 / 30), 4) == 0.9772
    assert pd.isna(o2["snapshot_completeness"]) and math.isclose(float(o2["completeness"]), 0.25)
    f1, f3 = rows.loc["f1"], rows.loc["f3"]
    assert bool(f1["label"]) and not bool(f3["label"]) and f1["as_of"] == D("2026-06-25")
    assert (f1["activities_90d"], f1["velocity_14d"], f1["known_persons"]) == (1, 1, 1)
    assert round(float(f1["rule_score"]), 4) == round(0.5 ** (6 / 30), 4) == 0.8706
    # f3 at 2026-06-12: p1's click (2026-06-01) and form fill (2026-03-01), p2's page view and its
    # later copy (2026-06-10 12:00 -1 s and +1 s): 3 in 90 days, 3 persons known (p1, p2; p5 later).
    assert (f3["activities_90d"], f3["active_persons_90d"], f3["known_persons"]) == (3, 2, 2)


def test_sales_feedback_can_be_left_out(warehouse, tmp_path):
    (tmp_path / "qualification.yaml").write_text("use_sales_feedback: false\n")
    rows = _build(warehouse, tmp_path)
    assert list(rows["example_id"]) == ["o1", "o2"]


def test_nothing_after_creation_leaks_in(warehouse, tmp_path):
    """50 more activities in the 50 hours after T1 leave every feature of o1 (and o2) as it was;
    f3, decided 36 hours after T1, sees the 35 of them before its time."""
    before = _build(warehouse, tmp_path).set_index("example_id")
    after = _build(warehouse, tmp_path, after=50).set_index("example_id")
    pd.testing.assert_frame_equal(before.loc[["o1", "o2"]], after.loc[["o1", "o2"]])
    assert after.loc["f3", "activities_90d"] == before.loc["f3", "activities_90d"] + 35


def test_window_decay_lookback_and_sub_second_ages(warehouse, tmp_path):
    """A plain 10-day window and a 100-day lookback (scoring.yaml), and ages to the microsecond.
    o1: the click 9.5 days before (3 points, inside the window), p2's page view 1 s before (1), the
    form fill 101.5 days before (past the lookback: 0): rule score 4.0.
    o2 (T2 = 2026-06-20): p3's email open a day before (1 point), and two more opens 0.3 s short of
    14 and of 90 days before T2 (outside the 10-day window: 0 points); both are in the last
    fortnight / the 90 days: activities 3, velocity 2. Scored at T2 + 0.4 s (readiness scores take
    the run's time, to the microsecond), the two are 0.1 s past 14 and 90 days: activities 2,
    velocity 1 - 1 = 0 (ages cut to whole seconds would give 3 and 2)."""
    (tmp_path / "scoring.yaml").write_text(
        "explainable:\n  decay: {half_life_days: null, window_days: 10}\n  lookback_days: 100\n"
    )
    T2, short = D("2026-06-20"), pd.Timedelta(milliseconds=300)
    extra = (
        ("p3", "x1", "email_open", T2 - pd.Timedelta(days=14) + short),
        ("p3", "x2", "email_open", T2 - pd.Timedelta(days=90) + short),
    )
    rows = _build(warehouse, tmp_path, extra=extra).set_index("example_id")
    o1, o2 = rows.loc["o1"], rows.loc["o2"]
    assert round(float(o1["rule_score"]), 4) == 4.0
    assert (o1["activities_90d"], o1["velocity_14d"]) == (2, 2)
    assert round(float(o2["rule_score"]), 4) == 1.0
    assert (o2["activities_90d"], o2["velocity_14d"], o2["n_email_open"]) == (3, 2, 3)

    group = pd.DataFrame(
        {
            "account_id": ["A2"],
            "solution_interest": ["data_platform"],
            "as_of": [T2 + pd.Timedelta(milliseconds=400)],
        }
    )
    with warehouse.transaction() as session:
        now = features_as_of(session, group).loc[0]
    assert (now["activities_90d"], now["velocity_14d"], now["rule_score"]) == (2, 0, 1.0)
