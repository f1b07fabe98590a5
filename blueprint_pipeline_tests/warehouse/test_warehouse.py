"""The warehouse resource: URL dispatch, one SQL text on both engines, DuckDB's single-writer lock."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from blueprint_pipeline.core.errors import WarehouseError
from blueprint_pipeline.warehouse import DuckDBWarehouse, PostgresWarehouse, warehouse_from_url
from blueprint_pipeline.warehouse.postgres import to_postgres


def test_url_dispatch(tmp_path):
    assert isinstance(warehouse_from_url(f"duckdb:///{tmp_path}/w.duckdb"), DuckDBWarehouse)
    pg = warehouse_from_url("postgresql+psycopg2://u:secret@h:5432/db", schema="s")
    assert isinstance(pg, PostgresWarehouse) and pg.schema_name == "s"
    assert "secret" not in pg.display_url
    with pytest.raises(WarehouseError, match="plain postgresql:// URL selects psycopg 3"):
        warehouse_from_url("postgresql://u:secret@h/db")
    with pytest.raises(WarehouseError, match="unknown warehouse URL"):
        warehouse_from_url("sqlite:///x.db")


def test_a_duckdb_url_bounds_the_engines_memory(tmp_path):
    """`?memory_limit=` reaches DuckDB's own setting and the URL shown keeps it (the UI's line
    opens the same warehouse); anything else in the query is refused before any work."""
    bounded = warehouse_from_url(f"duckdb:///{tmp_path}/w.duckdb?memory_limit=512MB")
    assert bounded.path == f"{tmp_path}/w.duckdb"
    assert bounded.display_url.endswith("/w.duckdb?memory_limit=512MB")
    assert bounded.scalar("select current_setting('memory_limit')") in ("488.2 MiB", "512.0 MB")
    spaced = warehouse_from_url(f"duckdb:///{tmp_path}/w.duckdb?memory_limit=2.5+GB")  # + is a space
    assert spaced.display_url.endswith("/w.duckdb?memory_limit=2.5GB")
    assert warehouse_from_url(f"duckdb:///{tmp_path}/w.duckdb?").path == f"{tmp_path}/w.duckdb"
    odd = warehouse_from_url(f"duckdb:///{tmp_path}/a?b/w.duckdb")  # a folder named `a?b`
    assert odd.path == f"{tmp_path}/a?b/w.duckdb" and odd.memory_limit == "2GB"
    default = warehouse_from_url(f"duckdb:///{tmp_path}/w.duckdb")
    assert default.display_url.endswith("/w.duckdb")
    assert default.scalar("select current_setting('memory_limit')") == "1.8 GiB"  # 2 GB
    for query, message in (
        ("memory_limit=lots", "memory_limit='lots'; expected a size such as 2.5GB"),
        ("memory_limit=1GB&memory_limit=2GB", "memory_limit='1GB,2GB'"),
        ("memory_limit=0KB", "memory_limit='0KB'"),
        ("memory_limit=1KB", "memory_limit='1KB'; expected a size such as 2.5GB, at least 128MiB"),
        ("threads=8", "unknown setting 'threads'"),
    ):
        with pytest.raises(WarehouseError, match=message):
            warehouse_from_url(f"duckdb:///{tmp_path}/w.duckdb?{query}")


def test_relative_duckdb_path_is_shown_absolute(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert warehouse_from_url("duckdb:///rel/w.duckdb").display_url == f"duckdb:///{tmp_path}/rel/w.duckdb"


def test_postgres_transpile_keeps_parameters_and_percent_literals():
    sql = to_postgres("select * from t where a like '50%' and b = $b and c = $c and d % 12 = 0")
    assert sql == "SELECT * FROM t WHERE a LIKE '50%%' AND b = %(b)s AND c = %(c)s AND MOD(d, 12) = 0"
    # A literal that looks like a placeholder stays a literal.
    assert to_postgres("select '%(as_of)s' as x") == "SELECT '%%(as_of)s' AS x"


def test_hash_of_several_values_on_both(warehouse):
    """hash(a, b, ...) (DuckDB's; on PostgreSQL hashtextextended over each value after its length):
    the same values the same hash, values that a plain join would run together apart, null apart
    from empty, and what is inside it or around it transpiled too (a '%', a modulo, a parameter)."""
    rows = warehouse.fetchall(
        "select hash('a|b', 'c'), hash('a', 'b|c'), hash('a|b', 'c'), hash(null, ''), hash('', null), "
        "hash('5%', 7 % 3, $k), mod(hash('x'), 2) in (0, 1, -1)",
        {"k": "key"},
    )[0]
    assert rows[0] == rows[2] and rows[0] != rows[1] and rows[3] != rows[4]
    assert rows[5] is not None and rows[6] is True


def test_round_to_places_works_on_doubles_in_both(warehouse):
    # PostgreSQL has round(numeric, int) only; the transpiler casts, so a double rounds everywhere.
    assert warehouse.scalar("select round(cast(0.83077 as double), 3)") == 0.831
    assert warehouse.scalar("select round(cast(2.5 as double))") == 3


def test_same_query_same_answer(warehouse):
    warehouse.execute(
        "create table t as select 'a%' as k, cast($ts as timestamp) as ts", {"ts": "2026-01-02 03:04:05"}
    )
    assert warehouse.fetchall("select k, cast(ts as varchar) from t where k like 'a%'") == [
        ("a%", "2026-01-02 03:04:05")
    ]
    # Offset-less timestamps are UTC on both engines, whatever the machine's zone.
    got = warehouse.scalar(
        "select cast(cast('2026-01-01 10:00:00' as timestamptz) at time zone 'UTC' as timestamp)"
    )
    assert str(got) == "2026-01-01 10:00:00"


def test_transaction_rolls_back_on_error(warehouse):
    warehouse.execute("create table t (x integer)")
    with pytest.raises(RuntimeError), warehouse.transaction() as session:
        session.execute("insert into t values (1)")
        raise RuntimeError("killed half-way")
    assert warehouse.scalar("select count(*) from t") == 0


HOLD = "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('held', flush=True); time.sleep(float(sys.argv[2]))"


def test_duckdb_waits_for_another_writer_then_gives_a_clear_error(tmp_path):
    path = str(tmp_path / "w.duckdb")
    holder = subprocess.Popen([sys.executable, "-c", HOLD, path, "3"], stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"
    try:
        with pytest.raises(WarehouseError, match="stayed locked by another process"):
            DuckDBWarehouse(path=path, lock_timeout_seconds=0.5).check_reachable()
        started = time.monotonic()
        DuckDBWarehouse(path=path, lock_timeout_seconds=30).check_reachable()  # waits, then works
        assert time.monotonic() - started > 0.5
    finally:
        holder.wait(timeout=30)


def test_replace_table_from_a_dataframe(warehouse):
    import pandas as pd

    frame = pd.DataFrame({"k": ["a", "b"], "n": [1, 2], "x": [0.5, None], "ok": [True, False]})
    with warehouse.transaction() as session:
        assert session.replace_table("t", frame) == 2
        assert session.replace_table("t", frame.head(1)) == 1  # replaced, not appended
    assert warehouse.fetchall("select k, n, x, ok from t") == [("a", 1, 0.5, True)]


def test_a_text_frame_holds_each_distinct_text_once(warehouse):
    warehouse.execute(
        "create table t as select * from (values (1, 'ann', 'x'), (2, null, 'x'), (3, 'ann', null), "
        "(4, 'Ann', 'y')) as v(n, name, tag)"
    )
    with warehouse.session() as session:
        frame = session.fetch_text_frame("select name, tag, n from t order by n")
    assert frame["name"].tolist() == ["ann", None, "ann", "Ann"]  # None for null, case kept
    assert frame["tag"].tolist() == ["x", "x", None, "y"]
    assert frame["n"].tolist() == [1, 2, 3, 4] and frame["name"].dtype == object
    if isinstance(warehouse, DuckDBWarehouse):  # Arrow's text: one string object per distinct text
        assert frame["name"][0] is frame["name"][2] and frame["tag"][0] is frame["tag"][1]
    with warehouse.session() as session:
        empty = session.fetch_text_frame("select name from t where n > 9")
    assert empty.columns.tolist() == ["name"] and len(empty) == 0
