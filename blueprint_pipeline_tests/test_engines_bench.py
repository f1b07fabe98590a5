"""`blueprint bench --warehouse URL` (runtime/engines_bench.py), in its parts: the process tree's
memory seen from outside, Spark's executor peaks read from a real event log, the warehouse URL and
options it takes. The whole side-by-side run at small and medium is docs/scaling.md's measurement
(a Spark build of even the tiny sample is minutes of the suite: test_spark_faults.py has it)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

from blueprint_pipeline.runtime.cli import EXIT_USAGE, main
from blueprint_pipeline.runtime.engines_bench import EVENT_LOG_SETTINGS, bench_url, executor_peaks
from blueprint_pipeline.runtime.memory import ProcessTreeSampler
from blueprint_pipeline_tests.conftest import require_spark

MB = 1024**2

_HOLD = (
    "import time; block = bytearray({mb} * 2**20); block[::4096] = b'x' * len(block[::4096]); time.sleep(1.5)"
)


def test_the_tree_sampler_sees_a_child_and_its_own_children_from_outside():
    # A process that holds 150 MB and starts a child holding 250 MB: the process's own peak is
    # its 150, the tree's both at once; no JVM among them.
    script = (
        "import subprocess, sys; "
        f"child = subprocess.Popen([sys.executable, '-c', {_HOLD.format(mb=250)!r}]); "
        + _HOLD.format(mb=150)
        + "; child.wait()"
    )
    process = subprocess.Popen([sys.executable, "-c", script])
    with ProcessTreeSampler(process.pid, interval=0.05) as tree:
        process.wait()
    assert 150 * MB <= tree.peaks["process"] < 240 * MB
    assert tree.peaks["tree"] >= 400 * MB
    assert tree.peaks["jvm"] == 0


def test_executor_peaks_are_read_from_the_stage_metrics_spark_logs(tmp_path):
    log = tmp_path / "local-1"
    events = [
        {"Event": "SparkListenerApplicationStart", "App Name": "x"},
        {"Event": "SparkListenerStageExecutorMetrics", "Executor ID": "driver", "Stage ID": 0,
         "Executor Metrics": {"JVMHeapMemory": 300 * MB, "ProcessTreeJVMRSSMemory": 0}},
        {"Event": "SparkListenerStageExecutorMetrics", "Executor ID": "1", "Stage ID": 1,
         "Executor Metrics": {"JVMHeapMemory": 500 * MB, "ProcessTreeJVMRSSMemory": 900 * MB}},
        {"Event": "SparkListenerStageExecutorMetrics", "Executor ID": "2", "Stage ID": 1,
         "Executor Metrics": {"JVMHeapMemory": 200 * MB, "ProcessTreeJVMRSSMemory": 700 * MB}},
    ]  # fmt: skip
    # The last line cut short, as a process killed mid-write leaves it.
    log.write_text("\n".join(json.dumps(e) for e in events) + '\n{"Event": "SparkListenerStageExecutorMe')
    assert executor_peaks(tmp_path) == (500.0, 900.0, ["1", "2", "driver"])
    assert executor_peaks(tmp_path / "empty") == (None, None, [])


def test_a_real_spark_application_logs_its_executor_peaks(tmp_path):
    """The settings the bench hands to its Spark build, through pyspark's launcher, give an event
    log with the local-mode executor's peaks (Spark's own account, in the driver's JVM)."""
    require_spark()
    events = tmp_path / "events"
    events.mkdir()
    settings = [*EVENT_LOG_SETTINGS, f"spark.eventLog.dir=file://{events}"]
    job = textwrap.dedent(
        """
        from pyspark.sql import SparkSession
        spark = SparkSession.builder.master("local[2]").config("spark.ui.enabled", "false").getOrCreate()
        spark.range(200000).selectExpr("id % 97 as k").groupBy("k").count().collect()
        spark.stop()
        """
    )
    env = {"PYSPARK_SUBMIT_ARGS": " ".join(f"--conf {s}" for s in settings) + " pyspark-shell",
           "SPARK_LOCAL_IP": "127.0.0.1"}  # fmt: skip
    subprocess.run([sys.executable, "-c", job], env={**os.environ, **env}, check=True, timeout=300)
    heap, _, executors = executor_peaks(events)
    assert executors == ["driver"]
    assert heap is not None and 10 < heap < 8192


def test_the_spark_warehouse_goes_to_the_workdir_unless_the_url_names_one(tmp_path):
    assert bench_url("spark+local://2", tmp_path, "small").path == str(tmp_path / "spark-small")
    named = bench_url(f"spark+local://2?warehouse={tmp_path / 'mine'}", tmp_path, "small")
    assert named.path == str(tmp_path / "mine") and named.master == "local[2]"
    for refused in ("duckdb:///x.duckdb", "sc://127.0.0.1:15002"):
        with pytest.raises(ValueError, match="spark\\+local://N or spark://host:port"):
            bench_url(refused, tmp_path, "small")


def test_the_engines_bench_takes_no_other_bench_options(tmp_path, capsys):
    code = main(["bench", "--warehouse", "spark+local://2", "--workdir", str(tmp_path / "bench"),
                 "--fresh", "10", "--journeys"])  # fmt: skip
    assert code == EXIT_USAGE
    assert (
        "--warehouse times two whole builds side by side: not with --fresh, --journeys"
        in capsys.readouterr().err
    )
    assert not (tmp_path / "bench").exists(), "refused before anything was generated"
    code = main(
        ["bench", "--warehouse", "postgresql+psycopg2://u@h/db", "--workdir", str(tmp_path / "bench")]
    )
    assert code == EXIT_USAGE and "builds beside DuckDB on Spark" in capsys.readouterr().err
    assert not (tmp_path / "bench").exists()
