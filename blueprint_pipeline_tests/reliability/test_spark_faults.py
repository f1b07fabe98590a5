"""Builds on Spark killed with SIGKILL at the worst moments, then run to the end (issue 27): the
tables of the uninterrupted DuckDB build (compared across engines by `blueprint compare`), each
message once, the same activation files. Local mode: the standalone cluster is
test_spark_build.py's.

A kill in ingestion (a file's rows written, not committed) and in delivery (a message handed
over, not marked sent). A SQL model killed before its commit is test_spark.py's killed writer
and test_runner.py's rollback on Spark.
"""

from __future__ import annotations

import pytest

from blueprint_pipeline.runtime.compare import DEFAULT_IGNORE, compare
from blueprint_pipeline_tests.builds import build_env
from blueprint_pipeline_tests.conftest import require_spark
from blueprint_pipeline_tests.reliability.conftest import build
from blueprint_pipeline_tests.reliability.test_faults import _killed_at, _same_activation_files
from blueprint_pipeline_tests.snapshots import mailbox
from blueprint_pipeline_tests.tiny_sample import spark_warehouse_in

pytestmark = pytest.mark.spark

SPARK_CHAIN = ("ingest", "deliver")
OUTBOXES = ("journey_outbox", "sales_alert_outbox")


def test_kills_on_spark_leave_nothing_half_done(landing, uninterrupted_outputs, uninterrupted_copy, tmp_path):
    require_spark()
    duck = uninterrupted_copy(tmp_path / "duckdb")
    on_duckdb = uninterrupted_outputs(duck)
    spark = spark_warehouse_in(tmp_path)
    env = build_env(tmp_path, spark)
    for point in SPARK_CHAIN:
        _killed_at(point, landing, env)
    assert "build OK" in build(landing, env)
    # The message in hand when the run died was handed over again with its Message-ID (the
    # mailbox file is replaced): one more attempt, recorded (as in test_faults.py).
    found = compare(duck.path, spark.url, [*DEFAULT_IGNORE, *(f"{t}.attempts" for t in OUTBOXES)])
    assert found.same, f"after kills at {SPARK_CHAIN}: {found.report()}"
    attempts = sum(spark.scalar(f"select coalesce(sum(attempts), 0) from {t}") for t in OUTBOXES)
    mails = on_duckdb["mails"]
    assert attempts == len(mails) + 1
    assert mailbox(tmp_path / "mailbox") == mails and mails, "each message once: none lost, none doubled"
    _same_activation_files(tmp_path / "activation", on_duckdb["activation"], ", ".join(SPARK_CHAIN))
