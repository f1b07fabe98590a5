"""Person matching on a Spark warehouse: Splink's Spark backend trains and scores where the records
lie, and gives DuckDB's model (the same version) and DuckDB's scored pairs with their waterfall.

The records are test_person_matching's few dozen (30 people, a third twice) and a handful of hard
pairs for the translated levels: a nickname (list_has_any -> arrays_overlap), names one letter
apart and with umlauts (Jaro-Winkler from Splink's jar), an email one edit apart
(damerau_levenshtein), a numbered twin (regexp_matches -> rlike), first and last swapped, an
initial, firms one letter apart.
"""

from __future__ import annotations

import contextlib

import duckdb
import pandas as pd
import pyarrow as pa
import pytest

from blueprint_pipeline.core.errors import WarehouseError
from blueprint_pipeline.identity.matching import records as match_records
from blueprint_pipeline.identity.matching.model import SparkRecords, train, u_sample_sql
from blueprint_pipeline.identity.matching.prepare import LIST_SEPARATOR, prepare
from blueprint_pipeline.identity.matching.score import scored_pairs
from blueprint_pipeline.warehouse.spark import SparkWarehouse, spark_for
from blueprint_pipeline_tests.conftest import require_spark
from blueprint_pipeline_tests.identity.test_person_matching import _records
from blueprint_pipeline_tests.spark_cluster import standalone_cluster, tasks_run

pytestmark = pytest.mark.spark

HARD = [
    # (source_key, first, last, email, company, city, title)
    ("h01", "William", "Carter", "bill.carter@acme.com", "Acme", "Berlin", "CTO"),
    ("h02", "Bill", "Carter", "b.carter@acme.com", "Acme", "Berlin", "Chief Technology Officer"),
    ("h03", "Jürgen", "Müller", "juergen.mueller@beta.de", "Beta GmbH", "München", "Leiter IT"),
    ("h04", "Jurgen", "Muller", "juergen.muller@beta.de", "Beta", "Munchen", "IT Director"),
    ("h05", "Ann", "Lee", "ann.lee@gamma.io", "Gamma", "Paris", "Engineer"),
    ("h06", "Ann", "Lee", "ann.lee1@gamma.io", "Gamma", "Paris", "Engineer"),
    ("h07", "Sharon", "Ross", "sross@delta.com", "Delta", "Oslo", "Analyst"),
    ("h08", "Christopher", "Ross", "cross@delta.com", "Delta", "Oslo", "Analyst"),
    ("h09", "Nguyen", "Linh", "linh.nguyen@epsilon.vn", "Epsilon", "Hanoi", "Manager"),
    ("h10", "Linh", "Nguyen", "linh.nguyen@epsilon.vn", "Epsilon", "Hanoi", "Manager"),
    ("h11", "J", "Smith", None, "Zeta", "Rome", None),
    ("h12", "John", "Smith", "john.smith@zeta.it", "Zeta", "Rome", "Buyer"),
    ("h13", "Tina", "Marsh", "tina.marsh@omega.com", "Omega Corp", "Lyon", "VP Sales"),
    ("h14", "Tina", "Marsh", "tina.marhs@omega.com", "Omega Crop", "Lyon", "VP Sales"),
]


@pytest.fixture(autouse=True)
def matched_in_spark(monkeypatch):
    """These few dozen records are matched in Spark, as a warehouse's 100,000 and more are."""
    monkeypatch.setenv("BLUEPRINT_SPARK_MATCHING_RECORDS", "0")


def _hard_records() -> pd.DataFrame:
    people = [
        {
            "source_key": key,
            "first_name": first,
            "last_name": last,
            "email": email,
            "company": company,
            "title": title,
            "city": city,
            "country": "DE",
            "phone": None,
            "mobile_phone": None,
        }
        for key, first, last, email, company, city, title in HARD
    ]
    return prepare(pd.DataFrame(people), {"de": "Germany"}, {"gmail.com"})


def _all_records() -> pd.DataFrame:
    return pd.concat([_records(), _hard_records()], ignore_index=True)


def _on_spark(tmp_path, frame: pd.DataFrame, master: str = "local[2]"):
    """`frame` (prepare()'s) as a Spark warehouse's person_match_records (the first name's forms
    as text, as the table keeps them), and the records read_all() gives there."""
    require_spark()
    warehouse = SparkWarehouse(master=master, path=str(tmp_path / "spark-warehouse"))
    stored = frame.copy()
    stored["first_name_forms"] = [
        None if forms is None else LIST_SEPARATOR.join(forms) for forms in stored["first_name_forms"]
    ]
    stored["cleaned_hash"] = stored["unique_id"]
    stored["fingerprint"] = stored["unique_id"]
    with warehouse.session() as session:
        session.replace_table(match_records.RECORDS, stored.astype(object).where(stored.notna(), None))
    return warehouse


def _pairs(path) -> list[tuple]:
    return duckdb.sql(f"select * from '{path}' order by all").fetchall()


@pytest.mark.parametrize("max_pairs", [20_000, 300], ids=["every-pair", "sampled"])
def test_splink_on_spark_gives_duckdbs_model_version_and_pairs(tmp_path, max_pairs):
    """Trained and scored in Spark (nothing but counts read to the driver): the model, its
    version and the scored pairs (weights, probabilities, each comparison's level and weight)
    are DuckDB's. With 300 pairs for u, u is estimated on a sample (u_sample_sql: md5 of the
    ids, which both engines spell alike), and still both engines give one model."""
    frame = _all_records()
    assert (u_sample_sql(len(frame), max_pairs, 7) is None) == (max_pairs == 20_000)
    on_duckdb = train(frame, seed=7, max_pairs_for_u=max_pairs)
    duckdb_pairs = tmp_path / "duckdb.parquet"
    assert scored_pairs(frame, on_duckdb.model, 0.5, duckdb_pairs) > 10

    warehouse = _on_spark(tmp_path, frame)
    spark_pairs = tmp_path / "spark.parquet"
    with warehouse.session() as session:
        held = match_records.read_all(session)
        assert isinstance(held, SparkRecords) and len(held) == len(frame)
        on_spark = train(held, seed=7, max_pairs_for_u=max_pairs)
        assert on_spark.model == on_duckdb.model
        assert on_spark.version == on_duckdb.version
        scored_pairs(held, on_duckdb.model, 0.5, spark_pairs)
        # Splink's steps and the records' view are gone from the session, its scratch folders too.
        assert not [t.name for t in session.spark.catalog.listTables() if t.name.startswith("__splink")]
    assert _pairs(spark_pairs) == _pairs(duckdb_pairs)
    assert not list((tmp_path / "spark-warehouse").glob(".splink-*"))


@pytest.mark.parametrize("cluster", [False, True], ids=["local", "standalone-cluster"])
def test_the_hard_pairs_reach_the_same_levels_on_spark(tmp_path, cluster):
    """Each hard pair's comparison levels, scored with a fixed model, are DuckDB's: the
    translated functions agree at the model's thresholds (Jaro-Winkler 0.88-0.92). Through a
    standalone master and two workers too: Splink's jar reaches the executors (its functions run
    there) and they write the scored pairs where the driver reads them."""
    frame = _hard_records()
    model = train(_all_records(), seed=7, max_pairs_for_u=20_000).model
    duckdb_pairs, spark_pairs = tmp_path / "duckdb.parquet", tmp_path / "spark.parquet"
    scored_pairs(frame, model, 1e-6, duckdb_pairs)
    with contextlib.ExitStack() as stack:
        master = stack.enter_context(standalone_cluster(tmp_path / "cluster")) if cluster else "local[2]"
        with _on_spark(tmp_path, frame, master).session() as session:
            scored_pairs(match_records.read_all(session), model, 1e-6, spark_pairs)
        if cluster:
            finished = tasks_run(tmp_path / "cluster")
            assert len(finished) == 2 and sum(finished.values()) > 0, f"tasks per worker: {finished}"
            spark_for("local[2]")  # the next test's session: the cluster's is stopped before it goes
    found = _pairs(spark_pairs)
    assert found == _pairs(duckdb_pairs)
    pairs = {(a, b) for a, b, *_ in found}
    # The nickname, the umlauts, the typo'd email and firm, the swapped names are scored.
    for pair in (("h01", "h02"), ("h03", "h04"), ("h09", "h10"), ("h13", "h14")):
        assert tuple(f"{k}" for k in pair) in pairs


def test_fewer_records_than_the_setting_are_matched_on_the_driver(tmp_path, monkeypatch):
    """Below BLUEPRINT_SPARK_MATCHING_RECORDS the records are read out as Arrow, in key order,
    and matched in the driver's embedded DuckDB (Spark's cost per job would be most of the
    work); a setting that is not a number is named."""
    frame = _hard_records()
    with _on_spark(tmp_path, frame).session() as session:
        monkeypatch.setenv("BLUEPRINT_SPARK_MATCHING_RECORDS", str(len(frame) + 1))
        held = match_records.read_all(session)
        assert isinstance(held, pa.Table) and held["unique_id"].to_pylist() == sorted(frame["unique_id"])
        monkeypatch.setenv("BLUEPRINT_SPARK_MATCHING_RECORDS", str(len(frame)))
        assert isinstance(match_records.read_all(session), SparkRecords)
        monkeypatch.setenv("BLUEPRINT_SPARK_MATCHING_RECORDS", "lots")
        with pytest.raises(WarehouseError, match="BLUEPRINT_SPARK_MATCHING_RECORDS='lots'"):
            match_records.read_all(session)
