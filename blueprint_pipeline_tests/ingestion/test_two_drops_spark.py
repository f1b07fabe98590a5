"""The hand-worked drops of test_two_drops.py on Spark (issue 27): the ledger's unique keys, a
byte copy not loaded again, deletes, merges, partial files and the incremental paths, with the
answers worked there."""

from __future__ import annotations

import pytest

from blueprint_pipeline_tests.ingestion.test_two_drops import test_two_drops as _the_drops

pytestmark = pytest.mark.spark


def test_two_drops_on_spark(spark_warehouse, tmp_path, monkeypatch):
    _the_drops(spark_warehouse, tmp_path, monkeypatch)
