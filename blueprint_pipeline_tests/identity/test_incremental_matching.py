"""Incremental person matching and the causes in person_id_history, on DuckDB
and PostgreSQL, with the hand-weighted model of fixtures/identity_matching (weights worked by hand
in test_person_matching.py) and two drops (fixtures/identity_matching_drops):

drop 1: the Salesforce records of identity_matching; Marketo 200, 300, 500, 600 and 700 (Lee,
  city Boston: 6+1+4-2+1-10 = 0, below the floor); LinkedIn urn:sp. Scored pairs at or above the
  floor: Omar 7 (match), Priya 5, Sam 3 (review band).
drop 2: Marketo 100 (Tina's copy), 400 (Bill), LinkedIn urn:ln (Linh): new; Marketo 700 now in
  Denver (changed: 5, review band); Marketo 200 sent again unchanged. An incremental build scores
  the 4 pairs touching those records (Tina 9, Bill 7, Linh 10, Lee 5) and keeps the 3 others.
"""

from __future__ import annotations

import json
import shutil
import uuid

import dagster as dg
import pytest
import sqlalchemy as sa

from blueprint_pipeline.identity.matching.model import version
from blueprint_pipeline.identity.stable_ids import new_person_id
from blueprint_pipeline.runtime.build import BuildOptions, run_build
from blueprint_pipeline.warehouse import DuckDBWarehouse, PostgresWarehouse
from blueprint_pipeline_tests.conftest import FIXTURES, PG_URL
from blueprint_pipeline_tests.identity.test_person_matching import mk, sf
from blueprint_pipeline_tests.ingestion.test_two_drops import rows

MATCHING = FIXTURES / "identity_matching"
DROPS = FIXTURES / "identity_matching_drops"
SELECT = "*person_registry"  # the identity layer and what it is built from
PAIRS = (
    "select source_key, other_key, match_weight, match_probability, outcome, contributions, "
    "model_version, decided_by, cause from int_identity_match_pairs order by source_key, other_key"
)
T1, T2, T3, T4 = (f"2026-03-0{d}T00:00:00Z" for d in (1, 2, 3, 4))


PRIYA = (sf("00Q000000000PR1AAA"), mk(600))
OMAR = (sf("00Q000000000OH1AAA"), mk(200))
LEE = (sf("00Q000000000LW1AAA"), mk(700))


@pytest.fixture
def setup(warehouse, tmp_path, monkeypatch):
    """The drop 1 landing and the identity_matching config, decisions left out (a test adds them)."""
    landing = tmp_path / "landing"
    shutil.copytree(MATCHING / "landing", landing)
    shutil.copytree(DROPS / "drop1", landing, dirs_exist_ok=True)
    config = tmp_path / "config"
    shutil.copytree(MATCHING / "config", config)
    (config / "person_match_decisions.csv").unlink()
    monkeypatch.setenv("BLUEPRINT_CONFIG_DIR", str(config))
    monkeypatch.setenv("BLUEPRINT_MODELS_DIR", str(tmp_path / "models"))
    return landing, config


def build(landing, warehouse, monkeypatch, as_of: str) -> None:
    monkeypatch.setenv("BLUEPRINT_LANDING_DIR", str(landing))
    monkeypatch.setenv(
        "BLUEPRINT_WAREHOUSE_URL",
        warehouse.url if hasattr(warehouse, "url") else f"duckdb:///{warehouse.path}",
    )
    if hasattr(warehouse, "schema_name"):
        monkeypatch.setenv("BLUEPRINT_WAREHOUSE_SCHEMA", warehouse.schema_name)
    else:
        monkeypatch.delenv("BLUEPRINT_WAREHOUSE_SCHEMA", raising=False)
    done = run_build(BuildOptions(as_of=as_of, select=SELECT), instance=dg.DagsterInstance.ephemeral())
    assert done.success, done.render()


@pytest.fixture
def reference(warehouse, tmp_path):
    """A second, empty warehouse of the same kind, for one full build on the final data."""
    if isinstance(warehouse, DuckDBWarehouse):
        yield DuckDBWarehouse(path=str(tmp_path / "reference.duckdb"))
        return
    schema = f"t_{uuid.uuid4().hex[:12]}"
    yield PostgresWarehouse(url=PG_URL, schema_name=schema)
    engine = sa.create_engine(PG_URL)
    with engine.begin() as conn:
        conn.exec_driver_sql(f'drop schema if exists "{schema}" cascade')
    engine.dispose()


def persons(warehouse) -> dict[str, str]:
    return dict(warehouse.fetchall("select source_key, person_id from person_registry"))


def scoring(warehouse) -> tuple:
    return warehouse.fetchall(
        "select mode, records_new, records_changed, records_gone, pairs_kept, pairs_scored "
        "from person_match_scoring"
    )[0]


def test_incremental_builds_give_what_one_full_build_gives(setup, warehouse, reference, monkeypatch):
    landing, _ = setup
    build(landing, warehouse, monkeypatch, T1)
    assert scoring(warehouse) == ("full", 16 - 3, 0, 0, 0, 3)  # drop 1 has 13 live records
    shutil.copytree(DROPS / "drop2", landing, dirs_exist_ok=True)
    build(landing, warehouse, monkeypatch, T2)
    # 100, 400, urn:ln new; 700 changed; 200 sent again unchanged: not scored again.
    assert scoring(warehouse) == ("incremental", 3, 1, 0, 3, 4)

    build(landing, reference, monkeypatch, T2)
    assert scoring(reference)[0] == "full"
    assert rows(warehouse, PAIRS) == rows(reference, PAIRS)
    assert persons(warehouse) == persons(reference)
    outcomes = {(a, b): o for a, b, _, _, o, *_ in rows(warehouse, PAIRS)}
    assert sorted(outcomes.values()) == ["match"] * 4 + ["review"] * 3  # no decisions here
    assert outcomes[LEE] == "review"

    # Nothing new: nothing scored, the pairs and ids as they were, and the last scoring's row kept
    # (a re-run changes no table).
    before = rows(warehouse, PAIRS)
    build(landing, warehouse, monkeypatch, T3)
    assert scoring(warehouse) == ("incremental", 3, 1, 0, 3, 4)
    assert rows(warehouse, PAIRS) == before
    assert persons(warehouse) == persons(reference)


def _history(warehouse) -> list[tuple]:
    return rows(
        warehouse,
        "select event, person_id, other_person_id, cause, happened_at from person_id_history "
        "where event <> 'created' order by happened_at",
    )


def test_merges_record_their_cause(setup, warehouse, monkeypatch):
    """Omar's Marketo lead first arrives without its phone (6+4+1-10 = 1: apart).
    T1: 13 persons created from records. T2: the decisions file says Priya's pair is `same`:
    a merge caused by a decision. T3: drop 2 gives Omar's lead its phone (7: match) with the
    same model: a merge caused by records. T4: model v2 weighs an equal city +5 instead of +3;
    Lee's pair goes from 5 to 7 (match): a merge caused by the new model version.
    In each merge both ids were created at T1: the smaller id survives."""
    landing, config = setup
    leads = landing / "marketo" / "leads.csv"
    leads.write_text(leads.read_text().replace(",+1 415 555 0199,", ",,"))
    build(landing, warehouse, monkeypatch, T1)
    assert rows(warehouse, "select event, cause, count(*) from person_id_history group by 1, 2") == [
        ("created", "records", 13)
    ]

    shutil.copy(MATCHING / "config" / "person_match_decisions.csv", config)
    build(landing, warehouse, monkeypatch, T2)
    shutil.copytree(DROPS / "drop2", landing, dirs_exist_ok=True)
    build(landing, warehouse, monkeypatch, T3)
    assert scoring(warehouse)[0] == "incremental"

    model = json.loads((config / "person_match_model.json").read_text())
    city = next(c for c in model["comparisons"] if c["output_column_name"] == "city")
    exact = next(lv for lv in city["comparison_levels"] if lv["sql_condition"] == '"city_l" = "city_r"')
    exact["u_probability"] = 0.025  # log2(0.8 / 0.025) = +5
    (config / "model_v2.json").write_text(json.dumps(model))
    (config / "identity.yaml").write_text("person_matching:\n  model_file: model_v2.json\n")
    build(landing, warehouse, monkeypatch, T4)
    assert scoring(warehouse)[0] == "full"

    def merge(pair):
        survivor, merged = sorted(new_person_id(k, set()) for k in pair)
        return merged, survivor

    v2 = version(model)
    assert _history(warehouse) == [
        ("merged", *merge(PRIYA), "decision", "2026-03-02 00:00:00"),
        ("merged", *merge(OMAR), "records", "2026-03-03 00:00:00"),
        ("merged", *merge(LEE), f"model {v2}", "2026-03-04 00:00:00"),
    ]
    ids = persons(warehouse)
    assert ids[LEE[0]] == ids[LEE[1]] == merge(LEE)[1]
