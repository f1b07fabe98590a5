"""An incremental scoring hands Splink only the touched records and the records a restricted
blocking rule can pair them with (neighbourhood.py), with every record's term frequencies; the
pairs and weights are those of scoring against every record. Worked by hand on six records, Ann
Lee (apex.com, Apex, phone ...0001) touched:

- annlee77@gmail.com, Ann Lee, no firm: the same email letters `annlee` (letters rule) -> near;
- Bob Stone, phone ...0001 (phone rule) -> near;
- Amy Lee, amy.lee@apex.com: last name, first initial and work domain (and the firm's keys) -> near;
- Lee Ann, Globex, no email: his full name is her name turned round (the swapped-names rule, her
  reversed key against his full-name key: the other orientation of the rule) -> near;
- Zed Quinn at Initech: nothing shared -> not handed over, yet counted in the term frequencies
  (Ann Lee's full name is 2 of the 6 named records, not 2 of the 5 near ones).
"""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from blueprint_pipeline.identity.matching import records
from blueprint_pipeline.identity.matching.incremental import TOUCHED, restricted
from blueprint_pipeline.identity.matching.model import as_arrow
from blueprint_pipeline.identity.matching.neighbourhood import equi_joins
from blueprint_pipeline.identity.matching.prepare import LIST_SEPARATOR, prepare
from blueprint_pipeline.identity.matching.score import scored_pairs
from blueprint_pipeline_tests.identity.test_match_levels import _model

ANN = {"source_key": "t1", "first_name": "Ann", "last_name": "Lee", "email": "ann.lee@apex.com",
       "company": "Apex", "phone": "+1 415 555 0001"}  # fmt: skip
NODES = [
    ANN,
    {"source_key": "letters", "first_name": "Ann", "last_name": "Lee", "email": "annlee77@gmail.com"},
    {"source_key": "phone", "first_name": "Bob", "last_name": "Stone", "phone": "+1 415 555 0001"},
    {
        "source_key": "domain",
        "first_name": "Amy",
        "last_name": "Lee",
        "email": "amy.lee@apex.com",
        "company": "Apex",
    },  # fmt: skip
    {"source_key": "swapped", "first_name": "Lee", "last_name": "Ann", "company": "Globex"},
    {
        "source_key": "far",
        "first_name": "Zed",
        "last_name": "Quinn",
        "email": "zq@initech.org",
        "company": "Initech",
        "phone": "+1 212 555 0199",
    },  # fmt: skip
]


def _records() -> pd.DataFrame:
    return prepare(pd.DataFrame(NODES), countries={}, personal_domains={"gmail.com"})


def _kept(warehouse) -> pd.DataFrame:
    """The records as the warehouse holds them (person_match_records), and prepare()'s frame."""
    frame = _records()
    with warehouse.transaction() as session:
        session.replace_table(
            records.RECORDS,
            frame.assign(
                first_name_forms=[LIST_SEPARATOR.join(f) if f else None for f in frame["first_name_forms"]]
            ),
        )
    return frame


def _near(warehouse, touched: set[str]) -> pa.Table:
    with warehouse.session() as session:
        return records.read_near(session, _model(), touched)


def test_the_neighbourhood_is_the_touched_records_and_their_possible_partners(warehouse):
    _kept(warehouse)
    near = _near(warehouse, {"t1"})
    assert near["unique_id"].to_pylist() == ["domain", "letters", "phone", "swapped", "t1"]  # key order
    assert near[TOUCHED].to_pylist() == [False, False, False, False, True]
    assert pa.types.is_list(near["first_name_forms"].type)  # lists of text, as read_all() gives
    assert _near(warehouse, set()).num_rows == 0


def test_term_frequencies_count_every_record(warehouse):
    _kept(warehouse)
    with warehouse.session() as session:
        found = records.term_frequencies(session, _model())
    assert set(found) == {"full_name"}
    tf = dict(zip(found["full_name"]["full_name"], found["full_name"]["tf_full_name"], strict=True))
    assert tf["ann lee"] == 2 / 6 and tf["zed quinn"] == 1 / 6


def _scored(records_, model, tmp_path, name, frequencies=None) -> pd.DataFrame:
    written = scored_pairs(records_, model, 0.0, tmp_path / f"{name}.parquet", frequencies)
    found = pd.read_parquet(tmp_path / f"{name}.parquet")
    assert written == len(found)
    return found


def test_scoring_the_neighbourhood_gives_the_pairs_of_scoring_everyone(warehouse, tmp_path):
    model = _model()
    everyone = _kept(warehouse).assign(**{TOUCHED: lambda f: f["unique_id"] == "t1"})
    expected = _scored(everyone, restricted(model), tmp_path, "everyone")
    near = _near(warehouse, {"t1"})
    with warehouse.session() as session:
        frequencies = records.term_frequencies(session, model)
    handed = _scored(near, restricted(model), tmp_path, "near", frequencies)
    pd.testing.assert_frame_equal(handed, expected)
    assert {(p.source_key, p.other_key) for p in expected.itertuples()} >= {("letters", "t1")}
    # Without every record's term frequencies Splink counts the near ones only: Ann Lee's exact
    # name weighs otherwise (2 of 5 names, not 2 of 6).
    alone = _scored(near, restricted(model), tmp_path, "alone")
    assert not alone["contributions"].equals(expected["contributions"])


def test_a_rule_joined_by_or_hands_every_record_over(warehouse):
    """An OR of joins (a phone, or a mobile in one city) has no equality every pair satisfies:
    reading one branch's columns would miss the other's partners, so every record is handed over.
    Only the top-level AND's equalities count, each side's expression as written."""
    either = "l.phone = r.phone or (l.mobile = r.mobile and l.city = r.city)"
    assert equi_joins({"blocking_rules_to_generate_predictions": [either]}) is None
    both = "l.a = r.a and (l.b = r.b or l.c = r.c) and substr(r.x, 1, 1) = substr(l.y, 1, 1)"
    assert equi_joins({"blocking_rules_to_generate_predictions": [both]}) == [
        [("a", "a"), ("SUBSTRING(y, 1, 1)", "SUBSTRING(x, 1, 1)")]
    ]
    _kept(warehouse)
    model = {**_model(), "blocking_rules_to_generate_predictions": [either]}
    with warehouse.session() as session:
        near = records.read_near(session, model, {"t1"})
    assert near.num_rows == len(NODES)


def test_the_neighbourhood_holds_what_reading_every_record_gives(warehouse):
    """read_near() and read_all() give Splink the same values for the same records (text, nulls,
    the first name's forms as lists), in the same columns; read_near() adds TOUCHED."""
    _kept(warehouse)
    near = _near(warehouse, {"t1"})
    with warehouse.session() as session:
        everyone = as_arrow(records.read_all(session))
    chosen = everyone.filter(pc.is_in(everyone["unique_id"], value_set=near["unique_id"].combine_chunks()))
    assert near.column_names == [*everyone.column_names, TOUCHED]
    assert near.drop_columns([TOUCHED]).to_pylist() == chosen.to_pylist()
