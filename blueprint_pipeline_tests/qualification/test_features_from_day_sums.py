"""The readiness features read the day sums (person_activity_days) and weigh only the days a
cut-off falls in activity by activity: they must equal the features' definitions applied to every
activity one by one, whatever T (to the microsecond, at midnight, on an activity's own time, a
cut-off exactly on an activity), with a half-life and with a plain window, on both warehouses.

The reference below is the definition in docs/qualification.md written plainly in pandas:
activities before T of the account's primary persons; 90-day counts (age <= 90 days), active
persons, velocity (age <= 14 minus 14 < age <= 28), the rule score (age <= lookback: points x
decay), counts per kind.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from blueprint_pipeline.qualification import features
from blueprint_pipeline.qualification.features import KINDS, features_as_of
from blueprint_pipeline.resources import load_config
from blueprint_pipeline_tests.builds import day_sums

END = pd.Timestamp("2026-06-10")
ACCOUNTS = ["A1", "A2", "A3"]
FIRST_KNOWN = END - pd.Timedelta(days=19, minutes=7)  # p11's first activity (23:53)


def _data(seed: int) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    links = pd.DataFrame(
        {
            "person_id": [f"p{i}" for i in range(9)] + ["p0"],
            "account_id": [ACCOUNTS[i % 3] for i in range(9)] + ["A2"],
            "is_primary": [True] * 9 + [False],  # p0's second link is not primary: left out
        }
    )
    n = 600
    seconds = rng.integers(0, 400 * 86400, n)
    micros = rng.integers(0, 1_000_000, n) * (rng.random(n) < 0.3)  # some to the microsecond
    at = END - pd.to_timedelta(seconds, unit="s") + pd.to_timedelta(micros, unit="us")
    kinds = rng.choice([*KINDS, "webinar_watch"], n)  # one kind without points
    activities = pd.DataFrame(
        {
            "person_id": rng.choice([f"p{i}" for i in range(10)], n),  # p9 has no link
            "activity_id": [f"a{i}" for i in range(n)],
            "kind": kinds,
            "activity_at": at.astype("datetime64[us]"),
        }
    )
    # Over the daily cap (the rule score ignores it): 8 form fills on an ordinary day, 8 page
    # views on the day 14 days before END (a cut day when T = END). And p10, p11 (A1) active only
    # in the last 20 days: not yet known at the earlier times.
    burst = [("p1", f"f{i}", "form_fill", END - pd.Timedelta(days=40, hours=i)) for i in range(8)]
    burst += [
        ("p2", f"v{i}", "page_view", END - pd.Timedelta(days=14) + pd.Timedelta(hours=i)) for i in range(8)
    ]
    late = [
        (f"p1{i % 2}", f"l{i}", "email_open", END - pd.Timedelta(days=i, minutes=7)) for i in range(1, 20)
    ]
    late += [
        ("p11", "l20", "email_open", FIRST_KNOWN + pd.Timedelta(minutes=5))
    ]  # p11's first day: 23:53, 23:58
    extra = pd.DataFrame(burst + late, columns=activities.columns).astype({"activity_at": "datetime64[us]"})
    activities = pd.concat([activities, extra], ignore_index=True)
    links = pd.concat(
        [links, pd.DataFrame({"person_id": ["p10", "p11"], "account_id": "A1", "is_primary": True})],
        ignore_index=True,
    )
    # T at midnight, mid-day to the microsecond, on an activity's own time (it does not count),
    # and 14 and 90 days after one (exactly on the cut-off: it counts).
    one = activities["activity_at"].iloc[0]
    times = [END, END - pd.Timedelta(days=3, hours=5, microseconds=7), one, one + pd.Timedelta(days=14),
             one + pd.Timedelta(days=90), END - pd.Timedelta(days=200),
             # Before p11's first activity on its first day, and between its first two.
             FIRST_KNOWN - pd.Timedelta(minutes=3), FIRST_KNOWN + pd.Timedelta(minutes=2)]  # fmt: skip
    examples = pd.DataFrame(
        [(a, "data_platform", t) for a in ACCOUNTS for t in times],
        columns=["account_id", "solution_interest", "as_of"],
    ).astype({"as_of": "datetime64[us]"})
    return links, activities, examples


def _reference(config, links, activities, examples) -> pd.DataFrame:
    explainable = config.scoring.explainable
    rows = []
    for e in examples.itertuples():
        persons = links[(links["account_id"] == e.account_id) & links["is_primary"]]["person_id"]
        a = activities[activities["person_id"].isin(persons) & (activities["activity_at"] < e.as_of)]
        age = (e.as_of - a["activity_at"]).dt.total_seconds() / 86400.0
        points = a["kind"].map(explainable.points).fillna(0.0)
        if explainable.decay.half_life_days:
            decay = 0.5 ** (age / explainable.decay.half_life_days)
        else:
            decay = (age <= explainable.decay.window_days).astype(float)
        window = age <= 90
        rows.append(
            {
                "activities_90d": window.sum(),
                "active_persons_90d": a.loc[window, "person_id"].nunique(),
                "velocity_14d": (age <= 14).sum() - ((age > 14) & (age <= 28)).sum(),
                "rule_score": round(float((points * decay)[age <= explainable.lookback_days].sum()), 4),
                **{f"n_{k}": (window & (a["kind"] == k)).sum() for k in KINDS},
                # Known: every person with an activity before T (no source records here).
                "known_persons": a["person_id"].nunique(),
            }
        )
    return pd.DataFrame(rows, index=examples.index).astype("float64")


@pytest.mark.parametrize("decay", ["half_life", "window"])
@pytest.mark.parametrize("seed", [1, 2])
def test_features_from_day_sums_equal_activity_by_activity(warehouse, tmp_path, monkeypatch, decay, seed):
    """Seed 2 gives the cut days to the query as a table (a training set's many times T), seed 1 as
    values."""
    if seed == 2:
        monkeypatch.setattr(features, "CUT_DAYS_INLINE", 0)
    if decay == "window":
        (tmp_path / "scoring.yaml").write_text(
            "explainable:\n  decay: {half_life_days: null, window_days: 10}\n  lookback_days: 100\n"
        )
    config = load_config(tmp_path).config
    links, activities, examples = _data(seed)
    with warehouse.transaction() as session:
        session.replace_table("person_account_links", links)
        session.replace_table("int_person_activities", activities)
        session.replace_table(
            "unified_accounts",
            pd.DataFrame({"account_id": ACCOUNTS, "employees": [10.0] * 3, "annual_revenue": [1e6] * 3}),
        )
    day_sums(warehouse, tmp_path)
    # Every example at its own time, then all at one time (the readiness scores' case: read without
    # a join), to the microsecond and at midnight.
    for these in (examples, examples.assign(as_of=examples["as_of"].iloc[1]), examples.assign(as_of=END)):
        with warehouse.transaction() as session:
            got = features_as_of(session, these)
        want = _reference(config, links, activities, these)
        assert want["activities_90d"].sum() > 50 and want["rule_score"].gt(0).mean() > 0.5  # not empty
        pd.testing.assert_frame_equal(got[want.columns], want, check_exact=False, atol=1e-9, rtol=0)
