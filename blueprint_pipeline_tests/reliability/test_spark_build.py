"""The whole pipeline on Spark (issue 27): the tiny sample built on Spark local mode gives the
tables, messages and activation files of the DuckDB build; and through a real standalone cluster
(a master and two workers on 127.0.0.1), builds killed with SIGKILL at the worst moments, then
one run to the end, leave what one uninterrupted Spark build leaves.

The comparison with DuckDB is `blueprint compare`'s across engines (numbers to 1e-9, each
engine's own 64-bit hash columns left out); the fault chain compares Spark with Spark, text for
text, as test_faults.py does on the other engines.
"""

from __future__ import annotations

import pytest

from blueprint_pipeline.runtime.compare import DEFAULT_IGNORE, compare
from blueprint_pipeline.warehouse import SparkWarehouse
from blueprint_pipeline_tests.builds import build_env
from blueprint_pipeline_tests.conftest import require_spark
from blueprint_pipeline_tests.reliability.conftest import build
from blueprint_pipeline_tests.reliability.test_faults import _killed_at, _same_activation_files
from blueprint_pipeline_tests.snapshots import differences, mailbox, snapshot
from blueprint_pipeline_tests.spark_cluster import standalone_cluster, tasks_run
from blueprint_pipeline_tests.tiny_sample import spark_warehouse_in

pytestmark = pytest.mark.spark

# A kill in ingestion (a file's rows written, not committed) and in delivery (a message handed
# over, not marked sent); then a run to the end. A SQL model's build killed before its commit is
# test_spark.py's killed writer and test_runner.py's rollback on Spark (each point here costs a
# build through the cluster).
SPARK_CHAIN = ("ingest", "deliver")


def test_the_tiny_sample_on_spark_gives_duckdbs_tables_messages_and_files(
    uninterrupted_outputs, uninterrupted_copy, shared, tmp_path
):
    require_spark()
    spark = spark_warehouse_in(shared / "uninterrupted-spark")
    on_spark = uninterrupted_outputs(spark)
    duck = uninterrupted_copy(tmp_path / "duckdb")
    on_duckdb = uninterrupted_outputs(duck)
    assert "build OK" in on_spark["summary"]
    found = compare(duck.path, spark.url, DEFAULT_IGNORE)
    assert found.same, found.report()
    assert len(found.same_tables) > 140
    assert on_spark["mails"] == on_duckdb["mails"] and on_spark["mails"]
    assert on_spark["activation"] == on_duckdb["activation"] and on_spark["activation"]
    assert on_spark["alerts"] == on_duckdb["alerts"]


def test_kills_through_a_standalone_cluster_leave_nothing_half_done(landing, uninterrupted, tmp_path):
    """Through a real master and two workers on 127.0.0.1 (work leaves the driver: each worker's
    executors finish tasks), builds killed with SIGKILL in ingestion and in delivery, then one
    run to the end, leave the tables of the uninterrupted local-mode build."""
    require_spark()
    with standalone_cluster(tmp_path / "cluster") as master:
        warehouse = SparkWarehouse(master=master, path=str(tmp_path / "spark-warehouse"))
        tables, mails, activation = uninterrupted(warehouse)  # the shared local-mode Spark build's
        env = build_env(tmp_path, warehouse) | {"SPARK_LOCAL_IP": "127.0.0.1"}
        for point in SPARK_CHAIN:
            _killed_at(point, landing, env)
        again = build(landing, env)
        assert "build OK" in again and master in again
        built = snapshot(warehouse)
    # The message in hand when the run died was handed over again with its Message-ID (the
    # mailbox file is replaced): one more attempt, recorded (as in test_faults.py).
    outboxes = {
        t: built[t][0].index("attempts") for t in ("journey_outbox", "sales_alert_outbox") if t in built
    }
    assert sum(int(row[i]) for t, i in outboxes.items() for row in built[t][1:]) == len(mails) + 1
    built, tables = (
        t | {o: [row[:i] + row[i + 1 :] for row in t[o]] for o, i in outboxes.items()}
        for t in (built, tables)
    )
    different = differences(built, tables)
    assert different == {}, (
        f"after kills at {SPARK_CHAIN}, tables differ from an uninterrupted build: {different}"
    )
    assert mailbox(tmp_path / "mailbox") == mails and mails, "each message once: none lost, none doubled"
    _same_activation_files(tmp_path / "activation", activation, ", ".join(SPARK_CHAIN))
    finished = tasks_run(tmp_path / "cluster")
    assert len(finished) == 2 and all(finished.values()), f"tasks finished per worker: {finished}"
