"""The whole pipeline on a real Spark standalone cluster (issue 27): a master and two workers on
127.0.0.1 build the tiny sample, their executors doing the work, and the build gives the tables,
messages, activation files and alerts of the uninterrupted DuckDB build.

The tables are compared by `blueprint compare` across engines (numbers to 1e-9, each engine's own
64-bit hash columns left out). Builds killed with SIGKILL on Spark are test_spark_faults.py (a
file of its own, so that the test workers share the two).
"""

from __future__ import annotations

import pytest

from blueprint_pipeline.runtime.compare import DEFAULT_IGNORE, compare
from blueprint_pipeline.warehouse import SparkWarehouse
from blueprint_pipeline_tests.builds import build_env
from blueprint_pipeline_tests.conftest import require_spark
from blueprint_pipeline_tests.reliability.conftest import build
from blueprint_pipeline_tests.snapshots import files, mailbox
from blueprint_pipeline_tests.spark_cluster import standalone_cluster, tasks_run

pytestmark = pytest.mark.spark


def test_the_tiny_sample_through_a_standalone_cluster_gives_duckdbs_build(
    landing, uninterrupted_outputs, uninterrupted_copy, tmp_path
):
    require_spark()
    duck = uninterrupted_copy(tmp_path / "duckdb")
    on_duckdb = uninterrupted_outputs(duck)
    with standalone_cluster(tmp_path / "cluster") as master:
        spark = SparkWarehouse(master=master, path=str(tmp_path / "spark-warehouse"))
        summary = build(landing, build_env(tmp_path, spark) | {"SPARK_LOCAL_IP": "127.0.0.1"})
        assert "build OK" in summary and master in summary
        found = compare(duck.path, spark.url, DEFAULT_IGNORE)
    assert found.same, found.report()
    assert len(found.same_tables) > 140
    assert mailbox(tmp_path / "mailbox") == on_duckdb["mails"] and on_duckdb["mails"]
    assert files(tmp_path / "activation") == on_duckdb["activation"] and on_duckdb["activation"]
    finished = tasks_run(tmp_path / "cluster")
    assert len(finished) == 2 and all(finished.values()), f"tasks finished per worker: {finished}"
