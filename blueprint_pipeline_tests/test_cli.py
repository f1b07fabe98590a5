"""The `blueprint` command: one-line errors with exit 2, exit 1 for a failed build, 0 for a good one."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import pytest

from blueprint_pipeline.definitions import build_definitions
from blueprint_pipeline.runtime import build as build_module
from blueprint_pipeline.runtime.cli import main
from blueprint_pipeline_tests.builds import build_env
from blueprint_pipeline_tests.conftest import FIXTURES
from blueprint_pipeline_tests.tiny_sample import AS_OF, CONFIG


@pytest.fixture(autouse=True)
def isolated_env(tmp_path, monkeypatch):
    """Each test gets its own Dagster storage and no inherited BLUEPRINT_* choices."""
    for name in list(os.environ):
        if (
            name.startswith("BLUEPRINT_")
            and name != "BLUEPRINT_TEST_PG_URL"
            and name != "BLUEPRINT_REQUIRE_POSTGRES"
        ):
            monkeypatch.delenv(name)
    monkeypatch.setenv("BLUEPRINT_DAGSTER_STORAGE", str(tmp_path / "dagster"))


def run_cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "blueprint_pipeline.runtime.cli", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **(env or {})},
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--warehouse", "mysql://x/y"], "unknown warehouse URL 'mysql://x/y'"),
        (["--warehouse", "postgresql://u@h/db"], "write postgresql+psycopg2://"),
        (["--warehouse", "postgresql+psycopg2://postgres@127.0.0.1:1/db"], "cannot reach PostgreSQL at"),
        (["--as-of", "yesterday"], "as-of time 'yesterday': expected ISO-8601"),
        (["--as-of", ""], "as-of time '': expected ISO-8601"),
        (["--select", "key:nope"], "matches no asset"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(tmp_path, args, message):
    (tmp_path / "landing").mkdir()
    done = run_cli(
        "run", "--landing", str(tmp_path / "landing"), "--warehouse", f"duckdb:///{tmp_path}/w.duckdb", *args
    )
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], done.stderr


def test_bad_config_stops_before_any_run(tmp_path):
    (tmp_path / "landing").mkdir()
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "sources.yaml").write_text("file_names: nope\n")
    done = run_cli(
        "run",
        "--landing",
        str(tmp_path / "landing"),
        "--config",
        str(tmp_path / "config"),
        "--warehouse",
        f"duckdb:///{tmp_path}/w.duckdb",
    )
    assert done.returncode == 2
    assert done.stderr.strip() == (
        f"error: {tmp_path}/config/sources.yaml: key 'file_names': Input should be a valid dictionary"
    )
    assert not (tmp_path / "w.duckdb").exists()


def test_missing_landing_dir(tmp_path):
    done = run_cli("run", "--landing", str(tmp_path / "nope"))
    assert done.returncode == 2 and "does not exist" in done.stderr


def test_validate_config(tmp_path):
    done = run_cli("validate-config", str(tmp_path))
    assert done.returncode == 0 and "config OK (version" in done.stdout


def test_validate_config_reads_the_link_decisions(tmp_path):
    decisions = tmp_path / "account_link_decisions.csv"
    decisions.write_text("person_id,account_id,decision,decided_by\np_1,001000000000AC1AAA,approve,me\n")
    done = run_cli("validate-config", str(tmp_path))
    assert done.returncode == 0 and "account link decisions: " in done.stdout and "(1 pairs)" in done.stdout
    decisions.write_text("person_id,account_id,decision,decided_by\np_1,,approve,me\n")
    done = run_cli("validate-config", str(tmp_path))
    assert done.returncode == 2
    assert done.stderr.strip().endswith("account_link_decisions.csv row 2: field account_id is empty")


def test_blocking_check_fails_the_build_with_exit_1(tmp_path, monkeypatch, capsys):
    # The shop fixture: customers.csv holds "bob" twice (odd casing), breaking the primary key.
    monkeypatch.setattr(
        build_module,
        "build_definitions",
        lambda: build_definitions(FIXTURES / "sql_project", with_layer_packages=False),
    )
    landing = FIXTURES / "shop_landing"
    code = main(
        [
            "run",
            "--landing",
            str(landing),
            "--warehouse",
            f"duckdb:///{tmp_path}/w.duckdb",
            "--as-of",
            "2026-11-25T00:00:00Z",
        ]
    )
    out = capsys.readouterr().out
    assert code == 1
    assert "build FAILED" in out
    assert "stg_shop__customers.unique__customer_id (blocking): 2 failing rows" in out
    assert "blocking asset check" in out  # the step failure, in one line


def test_generated_sample_builds_end_to_end_and_reruns_idempotently(tmp_path, landing, uninterrupted_outputs,
                                                                     uninterrupted_copy):  # fmt: skip
    """`make demo`'s path: generate, build on DuckDB with the example config, summary (the
    session's build of the tiny sample, tiny_sample.py); a second run on a copy of that build
    ingests nothing twice."""
    warehouse = uninterrupted_copy(tmp_path)
    first = uninterrupted_outputs(warehouse)  # the first run's summary and progress lines
    assert "build OK" in first["summary"] and "rows per layer:" in first["summary"]
    assert (
        "quarantined" not in first["summary"] and "skipped" not in first["summary"]
    )  # generated files meet the contracts
    assert "] staging_sql_models: started" in first["progress"]
    runs_before = _runs_recorded(tmp_path / "dagster")
    second = run_cli("run", "--landing", str(landing), "--config", CONFIG, "--as-of", AS_OF,
                     env=build_env(tmp_path, warehouse))  # fmt: skip
    assert second.returncode == 0, second.stdout[-2000:] + second.stderr[-3000:]

    def layer_rows(stdout: str) -> dict[str, str]:
        lines = stdout.split("rows per layer:")[1].splitlines()[1:]
        rows = []
        for line in lines:
            if not line.startswith("    "):
                break
            rows.append(line.split())
        return dict(rows)

    assert "  highlights:\n    unified accounts: " in first["summary"]
    assert "    persons with an account: " in first["summary"] and "    buying groups: " in first["summary"]

    assert layer_rows(first["summary"]) == layer_rows(second.stdout)
    assert _runs_recorded(tmp_path / "dagster") > runs_before  # runs recorded on the instance


def _runs_recorded(storage: Path) -> int:
    with closing(sqlite3.connect(storage / "history" / "runs.db")) as runs:
        return runs.execute("select count(*) from runs").fetchone()[0]


@pytest.mark.postgres
def test_end_to_end_on_postgres(tmp_path, postgres_warehouse):
    landing = tmp_path / "landing"
    shutil.copytree(FIXTURES / "shop_landing", landing)
    (landing / "shop" / "customers.csv").write_text(
        "id,name,segment\nalice,Alice A.,smb\nbob,Bob B.,enterprise\n"
    )
    env = {"BLUEPRINT_WAREHOUSE_SCHEMA": postgres_warehouse.schema_name}
    code = subprocess.run(
        [
            sys.executable,
            "-c",
            (
                "import sys; from blueprint_pipeline.runtime import build; from blueprint_pipeline.definitions import build_definitions;"
                f"build.build_definitions = lambda: build_definitions(__import__('pathlib').Path({str(FIXTURES / 'sql_project')!r}), with_layer_packages=False);"
                "from blueprint_pipeline.runtime.cli import main;"
                f"sys.exit(main(['run', '--landing', {str(landing)!r}, '--warehouse', {postgres_warehouse.url!r}]))"
            ),
        ],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=300,
    )
    assert code.returncode == 0, code.stdout + code.stderr[-3000:]
    assert postgres_warehouse.fetchall("select customer_id, order_count from customer_totals order by 1") == [
        ("alice", 2),
        ("bob", 1),
    ]


def test_demo_target_exists():
    makefile = (Path(__file__).parent.parent / "Makefile").read_text()
    assert "blueprint generate" in makefile and "blueprint run" in makefile


def test_generate_into_a_file_is_one_line(tmp_path):
    (tmp_path / "file").write_text("x")
    done = run_cli("generate", "--scale", "tiny", "--out", str(tmp_path / "file" / "landing"))
    assert (
        done.returncode == 2
        and done.stderr.startswith("error: cannot write to")
        and len(done.stderr.strip().splitlines()) == 1
    )


def test_a_reader_that_stops_early_gets_no_traceback():
    """`blueprint validate-config ... | head -1`: the reader goes away before the command has
    written; it stops quietly (exit 141, as a shell reports SIGPIPE), no BrokenPipeError traceback."""
    command = [sys.executable, "-m", "blueprint_pipeline.runtime.cli", "validate-config", "examples/config"]
    root = Path(__file__).parents[1]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=root) as run:
        run.stdout.close()  # the reader is gone before the first line is written
        stderr = run.stderr.read().decode()
        assert run.wait(timeout=60) == 141, stderr
    assert "Traceback" not in stderr and "BrokenPipeError" not in stderr
