"""Probabilistic person matching on hand-made data, on DuckDB and
PostgreSQL: fixtures/identity_matching, scored with the hand-weighted model in its config
directory (person_match_model.json: EM on a dozen records is unstable, so the weights are fixed
and the answer is worked by hand). Weights (log2 m/u): prior -10; name exact +6, swapped +6,
nickname +5, last name only 0, else -7; email one edit +5, same user part (companies not
different) +3, same work domain +1, else -5; phone same +6; company exact +4, else -3; city exact
+3, else -2; country exact +1; title exact +3, else -1; a side missing 0. Merge at probability
0.99 (weight 6.63), review from 0.8 (weight 2).

  Tina   contact / Marketo 100: email typo (one edit) 6+5+4+3+1-10 = 9 -> match
  Omar   lead without email / Marketo 200: name, phone in two spellings, company 6+6+4+1-10 = 7 -> match
  Linh   Marketo 300 (first and last swapped) / LinkedIn: 6+3+4+3+3+1-10 = 10 -> match
  Bill   Marketo 400 / William contact: nickname 5+1+4+3+3+1-10 = 7 -> match
  John Smith at Acme / John Smith at Beta: 6-5-3-2-1+1-10 = -14 -> apart
  Priya  lead / Marketo 600: 6+1+4+3+1-10 = 5 -> review band; decided `same` -> one person
  Sam    contact / LinkedIn: 6+3+3+1-10 = 3 -> review band; decided `different` -> apart
  Lee    lead / Marketo 700: 6+1+4+3+1-10 = 5 -> review band, undecided -> person_match_review
"""

from __future__ import annotations

import json
import shutil

import duckdb
import pandas as pd
import pytest

from blueprint_pipeline.config.identity import PersonMatchingPolicy
from blueprint_pipeline.core.errors import ConfigError
from blueprint_pipeline.identity.matching.decisions import read_person_decisions
from blueprint_pipeline.identity.matching.model import (
    WarehouseRecords,
    read_model_file,
    rounded,
    splink_duckdb,
    train,
)
from blueprint_pipeline.identity.matching.prepare import prepare
from blueprint_pipeline.identity.matching.score import predict, scored_pairs
from blueprint_pipeline_tests.conftest import FIXTURES
from blueprint_pipeline_tests.ingestion.test_two_drops import build, rows

FIXTURE = FIXTURES / "identity_matching"


def sf(record_id: str) -> str:
    return f"{record_id}@prod.Salesforce"


def mk(lead_id: int) -> str:
    return f"{lead_id}@prod.Marketo"


def li(urn: str) -> str:
    return f"{urn}@prod.LinkedIn"


TINA = (sf("003000000000TM1AAA"), mk(100))
OMAR = (sf("00Q000000000OH1AAA"), mk(200))
LINH = (mk(300), li("urn:ln"))
BILL = (sf("003000000000WC1AAA"), mk(400))
PRIYA = (sf("00Q000000000PR1AAA"), mk(600))
SAM = (sf("003000000000SP1AAA"), li("urn:sp"))
LEE = (sf("00Q000000000LW1AAA"), mk(700))
JOHNS = (sf("003000000000JS1AAA"), mk(500))


@pytest.fixture
def matched(warehouse, tmp_path, monkeypatch):
    landing = tmp_path / "landing"
    shutil.copytree(FIXTURE / "landing", landing)
    config = tmp_path / "config"
    shutil.copytree(FIXTURE / "config", config)
    monkeypatch.setenv("BLUEPRINT_CONFIG_DIR", str(config))
    monkeypatch.setenv("BLUEPRINT_MODELS_DIR", str(tmp_path / "models"))
    result = build(landing, warehouse, monkeypatch, keep_config=True)
    assert result.success, result.render()
    return warehouse, landing


def person_of(warehouse) -> dict[str, str]:
    return dict(warehouse.fetchall("select source_key, person_id from person_registry"))


def test_hand_made_cases_match_as_worked_by_hand(matched):
    warehouse, _ = matched
    person = person_of(warehouse)
    for a, b in (TINA, OMAR, LINH, BILL, PRIYA):
        assert person[a] == person[b], (a, b)
    for a, b in (JOHNS, SAM, LEE):
        assert person[a] != person[b], (a, b)
    assert len(set(person.values())) == 11
    outcomes = rows(
        warehouse,
        "select source_key, other_key, outcome, round(match_weight, 3), decided_by "
        "from int_identity_match_pairs order by source_key, other_key",
    )
    assert outcomes == sorted(
        [
            (*sorted(TINA), "match", 9.0, None),
            (*sorted(OMAR), "match", 7.0, None),
            (*sorted(LINH), "match", 10.0, None),
            (*sorted(BILL), "match", 7.0, None),
            (*sorted(PRIYA), "same", 5.0, "maria@example.com"),
            (*sorted(SAM), "different", 3.0, "maria@example.com"),
            (*sorted(LEE), "review", 5.0, None),
        ]
    )


def test_review_queue_shows_the_weights_of_each_comparison(matched):
    warehouse, _ = matched
    review = rows(
        warehouse,
        "select source_key, other_key, round(match_probability, 4), contributions, first_name_l, "
        "email_l, email_r from person_match_review",
    )
    assert len(review) == 1
    source_key, other_key, probability, contributions, first_name, email_l, email_r = review[0]
    assert (source_key, other_key) == tuple(sorted(LEE))
    assert probability == round(32 / 33, 4)
    parts = {p["comparison"]: (p["level"], p["match_weight"]) for p in json.loads(contributions)}
    assert parts == {
        "prior": ("two random records", -10.0),
        "name": ("Exact match on full_name", 6.0),
        "email": ("same work domain", 1.0),
        "phone": ("missing on a side", 0.0),
        "company": ("Exact match on company", 4.0),
        "city": ("Exact match on city", 3.0),
        "country": ("Exact match on country", 1.0),
        "title": ("missing on a side", 0.0),
    }
    assert (first_name, email_l, email_r) == ("lee", "lee.wong@cyberdyne.com", "lwong@cyberdyne.com")


def test_ids_stay_the_same_in_a_second_build(matched, monkeypatch):
    warehouse, landing = matched
    first = person_of(warehouse)
    assert build(landing, warehouse, monkeypatch, keep_config=True).success
    assert person_of(warehouse) == first
    assert warehouse.fetchall("select distinct event from person_id_history") == [("created",)]
    # the frozen model is one version, recorded once
    assert warehouse.scalar("select count(*) from person_match_models") == 1


def test_matching_switched_off_keeps_only_the_deterministic_edges(warehouse, tmp_path, monkeypatch):
    landing = tmp_path / "landing"
    shutil.copytree(FIXTURE / "landing", landing)
    config = tmp_path / "config"
    shutil.copytree(FIXTURE / "config", config)
    (config / "person_match_decisions.csv").unlink()
    (config / "identity.yaml").write_text(
        "person_matching:\n  model_file: person_match_model.json\n  enabled: false\n"
    )
    monkeypatch.setenv("BLUEPRINT_CONFIG_DIR", str(config))
    monkeypatch.setenv("BLUEPRINT_MODELS_DIR", str(tmp_path / "models"))
    assert build(landing, warehouse, monkeypatch, keep_config=True).success
    assert warehouse.scalar("select count(*) from int_identity_match_pairs") == 0
    assert len(set(person_of(warehouse).values())) == 16  # every record its own person


def _records() -> pd.DataFrame:
    """A few dozen records: 30 people, a third of them twice with a variation."""
    people = []
    for i in range(30):
        first, last = f"first{i:02d}", f"last{i % 17:02d}"
        row = {
            "first_name": first,
            "last_name": last,
            "email": f"{first}.{last}@co{i % 7}.com",
            "company": f"Company {i % 7}",
            "title": "Engineer" if i % 2 else "Manager",
            "city": f"City {i % 5}",
            "country": "US",
            "phone": f"+1 415 555 {i:04d}",
            "mobile_phone": None,
        }
        people.append({**row, "source_key": f"a{i:02d}"})
        if i % 3 == 0:
            people.append({**row, "source_key": f"b{i:02d}", "email": f"{first}.{last}@gmail.com"})
    return prepare(pd.DataFrame(people), {"us": "United States"}, {"gmail.com"})


def test_training_is_deterministic_and_versioned():
    records = _records()
    first = train(records, seed=7, max_pairs_for_u=20_000)
    again = train(
        records.sample(frac=1, random_state=3).reset_index(drop=True), seed=7, max_pairs_for_u=20_000
    )
    assert first.version == again.version
    assert first.model == again.model
    other = train(records.iloc[:-3], seed=7, max_pairs_for_u=20_000)
    assert other.version != first.version


def test_thresholds_are_validated():
    with pytest.raises(ValueError, match="review_floor 0.9 is above merge_threshold 0.8"):
        PersonMatchingPolicy(merge_threshold=0.8, review_floor=0.9)
    with pytest.raises(ValueError, match=r"not an address's local part .*\+tag"):
        PersonMatchingPolicy(role_mailboxes=["info", "sales+emea"])


def test_decisions_and_the_frozen_model_are_checked_before_any_work(tmp_path):
    """A pair of one record with itself is refused naming its row; a model_file that is missing
    or not a Splink model is refused by read_model_file (validate-config and run call it first)."""
    path = tmp_path / "person_match_decisions.csv"
    path.write_text(
        "source_key,other_key,decision,decided_by\n"
        "a@prod.Marketo,b@prod.Marketo,same,maria\n"
        "c@prod.Marketo,c@prod.Marketo,different,maria\n"
    )
    with pytest.raises(
        ConfigError, match=r"person_match_decisions.csv row 3: field other_key is the source_key"
    ):
        read_person_decisions(path)
    with pytest.raises(ConfigError, match="model_file: nosuch.json does not exist"):
        read_model_file(None, "nosuch.json")
    (tmp_path / "m.json").write_text('{"comparisons": 3}')
    with pytest.raises(ConfigError, match="not a Splink model"):
        read_model_file(tmp_path / "m.json", "m.json")


def test_rounding_never_gives_splink_a_zero_probability():
    """A tiny build failed: EM drove an m to ~1e-9, rounding to 6 decimals made it 0.0 and Splink
    refused the model ("m_probability value 0.0 is below the minimum allowed value")."""
    records = _records()
    model = train(records, seed=7, max_pairs_for_u=20_000).model
    level = next(lv for lv in model["comparisons"][0]["comparison_levels"] if "m_probability" in lv)
    level["m_probability"] = 3.2e-9
    kept = rounded(model)
    assert (
        next(lv for lv in kept["comparisons"][0]["comparison_levels"] if "m_probability" in lv)[
            "m_probability"
        ]
        == 3.2e-9
    )
    assert len(predict(records, kept, 0.5)) >= 0  # Splink accepts the model


def _in_a_warehouse(tmp_path, frame: pd.DataFrame):
    """`frame` as a DuckDB database's table, and the records read from it as read_all() gives
    them on a DuckDB warehouse (the query, in key order, and the database's connection)."""
    con = duckdb.connect(str(tmp_path / "my-warehouse.duckdb"), config={"preserve_insertion_order": False})
    con.register("frame", frame)
    con.execute("create table person_match_records as select * from frame")
    con.unregister("frame")
    sql = 'select * from "my-warehouse".main.person_match_records order by unique_id collate "C"'
    return con, WarehouseRecords(sql, len(frame), con)


def test_splink_in_the_warehouse_engine_gives_the_embedded_engines_model_and_pairs(tmp_path):
    """On a DuckDB warehouse Splink works in the warehouse's own engine (one memory bound) in an
    in-memory catalog: the same model, version and scored pairs as in an embedded DuckDB, and
    nothing left in the warehouse afterwards, nor after a failure."""
    frame = _records()
    con, held = _in_a_warehouse(tmp_path, frame)
    embedded = train(frame, seed=7, max_pairs_for_u=20_000)
    in_warehouse = train(held, seed=7, max_pairs_for_u=20_000)
    assert in_warehouse.model == embedded.model and in_warehouse.version == embedded.version
    pairs = {}
    for name, records in (("embedded", frame), ("warehouse", held)):
        pairs[name] = tmp_path / f"{name}.parquet"
        assert scored_pairs(records, embedded.model, 0.5, pairs[name]) > 0
    read = duckdb.sql(f"select * from '{pairs['embedded']}'").fetchall()
    assert read == duckdb.sql(f"select * from '{pairs['warehouse']}'").fetchall()
    with pytest.raises(RuntimeError), splink_duckdb(con) as engine:
        engine.execute("create table leftover as select 1 as x")
        raise RuntimeError("a failure inside Splink's work")
    assert con.execute("select database_name from duckdb_databases() where not internal").fetchall() == [
        ("my-warehouse",)
    ]
    assert con.execute("select table_name from duckdb_tables()").fetchall() == [("person_match_records",)]
    assert con.execute("select current_setting('preserve_insertion_order')").fetchone()[0] is False
