"""A real Spark standalone cluster on 127.0.0.1 for the tests: a master and its workers, each a JVM
of its own started with the `spark-class` script pyspark's package ships (it has no
start-master.sh), and stopped with its process group when the block ends."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from blueprint_pipeline_tests.builds import stop_process_groups


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_for(log: Path, text: str, count: int = 1, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if log.exists() and log.read_text(errors="replace").count(text) >= count:
            return
        time.sleep(0.5)
    raise TimeoutError(
        f"{log}: no {text!r} after {seconds:.0f} s:\n{log.read_text(errors='replace')[-3000:]}"
    )


@contextmanager
def standalone_cluster(folder: Path, workers: int = 2) -> Iterator[str]:
    """Yields the master's URL (spark://127.0.0.1:port); each worker has one core and its own
    work folder, `folder`/worker-N, where each application's executor logs land."""
    import pyspark

    home = Path(pyspark.__file__).parent
    env = {
        **os.environ,
        "SPARK_HOME": str(home),
        "SPARK_LOCAL_IP": "127.0.0.1",
        "PYSPARK_PYTHON": sys.executable,
    }
    folder.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    master = f"spark://127.0.0.1:{port}"
    started = []

    def start(name: str, *args: str) -> Path:
        log = folder / f"{name}.log"
        with log.open("w") as out:
            started.append(
                subprocess.Popen(
                    [str(home / "bin" / "spark-class"), *args],
                    env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
                )
            )  # fmt: skip
        return log

    try:
        master_log = start(
            "master", "org.apache.spark.deploy.master.Master",
            "--host", "127.0.0.1", "--port", str(port), "--webui-port", str(_free_port()),
        )  # fmt: skip
        _wait_for(master_log, "I have been elected leader")
        for number in range(1, workers + 1):
            work = folder / f"worker-{number}"
            start(
                f"worker-{number}", "org.apache.spark.deploy.worker.Worker", master,
                "--host", "127.0.0.1", "--cores", "1", "--memory", "1g", "--webui-port", "0",
                "--work-dir", str(work),
            )  # fmt: skip
        _wait_for(master_log, "Registering worker", count=workers)
        yield master
    finally:
        stop_process_groups(list(reversed(started)))


def tasks_run(folder: Path) -> dict[str, int]:
    """Tasks each worker's executors finished, from their logs: by worker folder."""
    return {
        work.name: sum(log.read_text(errors="replace").count("Finished task") for log in work.rglob("stderr"))
        for work in sorted(folder.glob("worker-*"))
        if work.is_dir()
    }


@contextmanager
def connect_server(folder: Path) -> Iterator[str]:
    """Yields the URL (sc://127.0.0.1:port) of a Spark Connect server (Spark 4's
    SparkConnectServer, started as start-connect-server.sh does, on local[1]) bound to the
    loopback: it listens on every interface unless told otherwise."""
    import pyspark

    home = Path(pyspark.__file__).parent
    env = {
        **os.environ,
        "SPARK_HOME": str(home),
        "SPARK_LOCAL_IP": "127.0.0.1",
        "PYSPARK_PYTHON": sys.executable,
    }
    env.pop("PYSPARK_SUBMIT_ARGS", None)
    folder.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    log = folder / "connect-server.log"
    with log.open("w") as out:
        server = subprocess.Popen(
            [
                str(home / "bin" / "spark-submit"),
                "--class", "org.apache.spark.sql.connect.service.SparkConnectServer",
                "--master", "local[1]", "--name", "blueprint-connect-test",
                "--conf", "spark.connect.grpc.binding.address=127.0.0.1",
                "--conf", f"spark.connect.grpc.binding.port={port}",
                "--conf", "spark.ui.enabled=false",
            ],
            env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    try:
        _wait_for(log, "Spark Connect server started")
        yield f"sc://127.0.0.1:{port}"
    finally:
        stop_process_groups([server])
