"""Which comparison level a pair of records lands in (the shipped comparisons, model.py), and how
training treats levels and comparisons the data cannot estimate. Each pair is one the dirty
benchmark or real data showed; the expected level is read off the comparison's definition:

  sross@falcon.com / cross@falcon.com, Sharon / Christopher Ross: one edit apart, but the first
      names differ -> two mailboxes at one work domain (not a typo)
  ann.lee@acme.com / ann.lee1@acme.com: one edit, only a number -> two mailboxes at one domain
  nicholas.rodriguez@apex.fr / nicholasrodriguez68@outlook.com -> same letters in the user part
  ann.lee@acme.com / annlee@acme.com (a dot typed or not) -> one edit apart
  a private and a work address spelling different things -> a private and a work address
  Falcon GmbH (falcon.com) / Falcon Holdings (falcon28.com) -> company: all other comparisons
  Kathy / Kathleen Clark -> name: nickname, same last name
  J. / John Smith -> name: initial for a first name, same last name
  Director of IT / IT Director -> title: the same function and seniority (the title parser)
"""

from __future__ import annotations

import math

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from blueprint_pipeline.identity.matching.model import regularised, settings, train
from blueprint_pipeline.identity.matching.prepare import canonical, name_forms, prepare
from blueprint_pipeline.identity.matching.score import _rounded, level_labels, predict

CASES = [
    # (left, right, comparison, expected level)
    (("Sharon", "Ross", "sross@falcon.com"), ("Christopher", "Ross", "cross@falcon.com"), "email",
     "two mailboxes at one work domain"),
    (("Ann", "Lee", "ann.lee@acme.com"), ("Ann", "Lee", "ann.lee1@acme.com"), "email",
     "two mailboxes at one work domain"),
    (("Nick", "Rodriguez", "nicholas.rodriguez@apex.fr"), ("Nicholas", "Rodriguez", "nicholasrodriguez68@outlook.com"),
     "email", "same letters in the user part"),
    (("Ann", "Lee", "ann.lee@acme.com"), ("Ann", "Lee", "annlee@acme.com"), "email", "one edit apart"),
    (("Ann", "Lee", "ann.lee@acme.com"), ("Ann", "Lee", "sunny77@gmail.com"), "email", "a private and a work address"),
    (("Kathy", "Clark", None), ("Kathleen", "Clark", None), "name", "nickname, same last name"),
    (("J", "Smith", None), ("John", "Smith", None), "name", "initial for a first name, same last name"),
]  # fmt: skip


def _model() -> dict:
    """The shipped comparisons with every level's m and u at 0.5: the levels are what is tested."""
    model = settings().get_settings("duckdb").as_dict()
    for comparison in model["comparisons"]:
        for level in comparison["comparison_levels"]:
            if not level.get("is_null_level"):
                level["m_probability"] = level["u_probability"] = 0.5
    return model


def _level(left: dict, right: dict, comparison: str) -> str:
    nodes = pd.DataFrame([{"source_key": "a", **left}, {"source_key": "b", **right}])
    records = prepare(nodes, countries={}, personal_domains={"gmail.com", "outlook.com"})
    model = _model()
    frame = predict(records, model, floor=0.0)
    assert len(frame) == 1, "the pair should be blocked together"
    return level_labels(model)[comparison][int(frame[f"gamma_{comparison}"].iloc[0])]


@pytest.mark.parametrize(("left", "right", "comparison", "expected"), CASES)
def test_pair_lands_in_the_expected_level(left, right, comparison, expected):
    def node(first, last, email):
        return {"first_name": first, "last_name": last, "email": email, "company": "Acme"}

    assert _level(node(*left), node(*right), comparison) == expected


def test_two_firms_of_one_name_are_told_apart_by_their_domains():
    left = {"first_name": "Kenneth", "last_name": "Thompson", "email": "kenneth.thompson@falcon.com",
            "company": "Falcon GmbH"}  # fmt: skip
    right = {**left, "email": "kenneth.thompson@falcon28.com", "company": "Falcon Holdings"}
    assert _level(left, right, "company") == "All other comparisons"
    assert _level(left, {**right, "email": "kenneth.thompson@falcon.com"}, "company") == "same company"


def test_nickname_forms_come_from_the_nicknames_table():
    assert "kathleen" in name_forms("kathy")
    assert name_forms("kathleen") == ["kathleen"]
    assert canonical("bill") == canonical("william")
    assert name_forms(None) is None


def test_regularised_floors_m_and_u_and_silences_unobserved_comparisons():
    model = {
        "comparisons": [
            {"output_column_name": "seen", "comparison_levels": [
                {"sql_condition": "x is null", "is_null_level": True},
                {"sql_condition": "a", "m_probability": 0.9, "u_probability": None},  # never sampled
                {"sql_condition": "b", "m_probability": 1e-9, "u_probability": 0.5},
                {"sql_condition": "c", "m_probability": 1e-9, "u_probability": 0.5, "fix_m_probability": True},
            ]},
            {"output_column_name": "unseen", "comparison_levels": [
                {"sql_condition": "a", "m_probability": 0.9, "u_probability": None},
                {"sql_condition": "ELSE", "m_probability": 0.1, "u_probability": None},
            ]},
        ]
    }  # fmt: skip
    seen, unseen = (c["comparison_levels"] for c in regularised(model, pairs_sampled=1000)["comparisons"])
    assert seen[1]["u_probability"] == pytest.approx(1 / 1000)  # "never seen in 1000 pairs"
    assert seen[2]["m_probability"] == pytest.approx(1e-3)  # M_FLOOR
    assert seen[3]["m_probability"] == pytest.approx(1e-9)  # fixed by the module: kept
    # no sampled pair had the column on both sides: weight log2(m/u) = 0 on every level
    assert all(math.log2(lv["m_probability"] / lv["u_probability"]) == 0 for lv in unseen)


def test_training_without_any_email_keeps_the_email_comparison():
    """FEBRL-like data: no addresses at all. A failed EM session used to drop the email comparison
    from the model, and scoring then failed on its missing weight column."""
    first = ["john", "mary", "peter", "anna", "li", "omar"] * 10
    last = ["smith", "jones", "lee", "wong", "park"] * 12
    nodes = pd.DataFrame(
        {"source_key": [f"k{i:02d}" for i in range(60)], "first_name": first, "last_name": last,
         "city": ["perth", "sydney", "darwin"] * 20}
    )  # fmt: skip
    records = prepare(nodes, countries={}, personal_domains=set())
    trained = train(records, seed=7, max_pairs_for_u=10_000)
    assert [c["output_column_name"] for c in trained.model["comparisons"]] == [
        "name", "email", "phone", "company", "city", "country", "title"
    ]  # fmt: skip
    assert "EM on 'l.email = r.email' skipped: no pairs" in trained.notes
    assert len(predict(records, trained.model, floor=0.0)) > 0


def test_one_job_in_other_words_is_the_same_function_and_seniority():
    ann = {"first_name": "Ann", "last_name": "Lee", "email": "ann.lee@acme.com", "company": "Acme"}
    assert _level({**ann, "title": "Director of IT"}, {**ann, "title": "IT Director"}, "title") == (
        "the same function and seniority"
    )
    assert _level({**ann, "title": "Director of IT"}, {**ann, "title": "IT Manager"}, "title") == (
        "All other comparisons"
    )


def test_records_without_firm_or_city_are_still_compared_on_their_names():
    """A list with names and private addresses only: no company, city or work-domain block can
    pair Ann Leigh and a typo'd Ann Leig; the name blocks with nothing contradicting them do."""
    left = {"first_name": "Ann", "last_name": "Leigh", "email": "ann.leigh@gmail.com"}
    right = {"first_name": "Ann", "last_name": "Leig", "email": "ann.leig@gmail.com"}
    assert _level(left, right, "email") == "one edit apart"


def test_scored_pairs_are_rounded_as_numpy_rounds():
    """score.scored_pairs rounds in Splink's DuckDB what a frame's round() gave before: the same
    doubles, exact ties included (DuckDB's own round_even(x, 4) differs from numpy on some)."""
    ties = [k / 20_000 for k in range(-2_000, 2_000)] + [k / 2_000_000 for k in range(-2_000, 2_000)]
    values = np.concatenate([np.array(ties), np.random.default_rng(3).normal(0, 12, 20_000)])
    connection = duckdb.connect()
    connection.register("v", pa.table({"x": values}))
    for digits in (4, 6):
        found = connection.execute(f"select {_rounded('x', digits)} as r from v").fetchnumpy()["r"]
        assert np.array_equal(found, pd.Series(values).round(digits).to_numpy())
