"""The whole pipeline on a real Spark standalone cluster, killed with SIGKILL at the worst moments,
then run to the end (issue 27).

A master and two workers on 127.0.0.1 run every build's Spark work in their executors. A build is
killed in ingestion (a file's rows written, not committed), another in delivery (a message handed
over, not marked sent); then a build runs to the end. The result is the uninterrupted DuckDB
build's: every table (compared across engines by `blueprint compare`: numbers to 1e-9, each
engine's own 64-bit hash columns left out), each message once, the same activation files.

One file, one chain: each Spark build of the tiny sample costs minutes of the suite (Spark's fixed
cost per statement, docs/benchmarks.md), so the uninterrupted comparison is this chain's last
build. A SQL model killed before its commit is test_spark.py's killed writer and test_runner.py's
rollback on Spark.
"""

from __future__ import annotations

import pytest

from blueprint_pipeline.runtime.compare import DEFAULT_IGNORE, compare
from blueprint_pipeline.warehouse import SparkWarehouse
from blueprint_pipeline_tests.builds import build_env
from blueprint_pipeline_tests.conftest import require_spark
from blueprint_pipeline_tests.reliability.conftest import build
from blueprint_pipeline_tests.reliability.test_faults import _killed_at, _same_activation_files
from blueprint_pipeline_tests.snapshots import mailbox
from blueprint_pipeline_tests.spark_cluster import standalone_cluster, tasks_run

pytestmark = pytest.mark.spark

SPARK_CHAIN = ("ingest", "deliver")
OUTBOXES = ("journey_outbox", "sales_alert_outbox")


def test_kills_on_a_standalone_cluster_leave_duckdbs_build(
    landing, uninterrupted_outputs, uninterrupted_copy, tmp_path
):
    require_spark()
    duck = uninterrupted_copy(tmp_path / "duckdb")
    on_duckdb = uninterrupted_outputs(duck)
    with standalone_cluster(tmp_path / "cluster") as master:
        spark = SparkWarehouse(master=master, path=str(tmp_path / "spark-warehouse"))
        env = build_env(tmp_path, spark) | {"SPARK_LOCAL_IP": "127.0.0.1"}
        for point in SPARK_CHAIN:
            _killed_at(point, landing, env)
        summary = build(landing, env)
        assert "build OK" in summary and master in summary
        # The message in hand when the run died was handed over again with its Message-ID (the
        # mailbox file is replaced): one more attempt, recorded (as in test_faults.py).
        found = compare(duck.path, spark.url, [*DEFAULT_IGNORE, *(f"{t}.attempts" for t in OUTBOXES)])
        attempts = sum(spark.scalar(f"select coalesce(sum(attempts), 0) from {t}") for t in OUTBOXES)
    assert found.same, f"after kills at {SPARK_CHAIN}: {found.report()}"
    assert len(found.same_tables) > 140
    mails = on_duckdb["mails"]
    assert attempts == len(mails) + 1
    assert mailbox(tmp_path / "mailbox") == mails and mails, "each message once: none lost, none doubled"
    _same_activation_files(tmp_path / "activation", on_duckdb["activation"], ", ".join(SPARK_CHAIN))
    finished = tasks_run(tmp_path / "cluster")
    assert len(finished) == 2 and all(finished.values()), f"tasks finished per worker: {finished}"
