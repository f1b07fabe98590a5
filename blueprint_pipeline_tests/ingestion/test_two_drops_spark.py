"""The hand-worked drops of test_two_drops.py on Spark (issue 27): the ledger's unique keys, a
byte copy not loaded again, deletes, merges, partial files and the incremental paths, with the
answers worked there.

Each of the four builds runs what the drops' answers are read from, the sources and staging (and
the seeds staging reads): Spark's fixed cost per statement made the four whole builds 21 minutes
of CI under the suite's load. The whole graph on Spark is test_spark_faults.py's, against DuckDB.
"""

from __future__ import annotations

import pytest

from blueprint_pipeline_tests.ingestion.test_two_drops import test_two_drops as _the_drops

pytestmark = pytest.mark.spark

STAGING_AND_UPSTREAM = "+group:staging"


def test_two_drops_on_spark(spark_warehouse, tmp_path, monkeypatch):
    _the_drops(spark_warehouse, tmp_path, monkeypatch, select=STAGING_AND_UPSTREAM)
