"""`blueprint compare`: two hand-made warehouses, each difference worked by hand.

A and B hold:
  same       (k, v): (1, 'x'), (2, 'y')            in both, B's rows in another order: the same
  dupes      (k):    1, 1, 2  |  1, 2, 2            as multisets: one 1 only in A, one 2 only in B
  changed    (k, v, built_at): (1, 'a', t1), (2, 'b', t1)  |  (1, 'a', t2), (2, 'B', t2)
             -> with built_at ignored: 1 row only in A, 1 only in B, differing column v
  widened    (k) | (k, extra)                       a column only in B, rows the same
  gone       only in A;  new: only in B
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from blueprint_pipeline.core.errors import BlueprintError
from blueprint_pipeline.runtime.cli import main
from blueprint_pipeline.runtime.compare import compare


def _warehouse(path, statements):
    con = duckdb.connect(str(path))
    for statement in statements:
        con.execute(statement)
    con.close()


@pytest.fixture
def pair(tmp_path):
    a, b = tmp_path / "a.duckdb", tmp_path / "b.duckdb"
    _warehouse(
        a,
        [
            "create table same as select * from (values (1, 'x'), (2, 'y')) t(k, v)",
            "create table dupes as select * from (values (1), (1), (2)) t(k)",
            "create table changed as select k, v, timestamp '2026-01-01' as built_at "
            "from (values (1, 'a'), (2, 'b')) t(k, v)",
            "create table widened as select * from (values (1)) t(k)",
            "create table gone as select 1 as k",
        ],
    )
    _warehouse(
        b,
        [
            "create table same as select * from (values (2, 'y'), (1, 'x')) t(k, v)",
            "create table dupes as select * from (values (1), (2), (2)) t(k)",
            "create table changed as select k, v, timestamp '2026-02-02' as built_at "
            "from (values (1, 'a'), (2, 'B')) t(k, v)",
            "create table widened as select * from (values (1, 'e')) t(k, extra)",
            "create table new as select 1 as k",
        ],
    )
    return a, b


def test_every_kind_of_difference_is_found(pair):
    found = compare(*pair, ignore=["*.built_at"])
    assert found.same_tables == ["same"]
    assert (found.only_in_a, found.only_in_b) == (["gone"], ["new"])
    by_table = {d.table: d for d in found.differing}
    assert sorted(by_table) == ["changed", "dupes", "widened"]
    assert (by_table["dupes"].only_in_a, by_table["dupes"].only_in_b) == (1, 1)
    changed = by_table["changed"]
    assert (changed.only_in_a, changed.only_in_b, changed.differing_columns) == (1, 1, ["v"])
    widened = by_table["widened"]
    assert (widened.columns_only_in_b, widened.only_in_a, widened.only_in_b) == (["extra"], 0, 0)
    assert not found.same


def test_a_warehouse_url_compares_through_the_warehouses(pair):
    """A URL on either side (another engine): rows read through each warehouse, numbers to 1e-9,
    each difference said in words."""
    a, b = pair
    found = compare(a, f"duckdb:///{b}", ignore=["*.built_at"])
    assert found.same_tables == ["same"]
    assert (found.only_in_a, found.only_in_b) == (["gone"], ["new"])
    said = {d.table: d.described for d in found.differing}
    assert said == {
        "changed": ["changed.v: 1 rows differ, e.g. 'b' against B's 'B'"],
        "dupes": ["dupes.k: 1 rows differ, e.g. 1 against B's 2"],
        "widened": ["widened: columns ['k'] against B's ['extra', 'k']"],
    }
    with pytest.raises(BlueprintError, match="no such DuckDB file, and not a warehouse URL"):
        compare(a.parent / "nowhere.duckdb", f"duckdb:///{b}")


def test_an_unignored_build_time_is_a_difference(pair):
    changed = {d.table: d for d in compare(*pair).differing}["changed"]
    assert changed.differing_columns == ["v", "built_at"]
    assert (changed.only_in_a, changed.only_in_b) == (2, 2)


def test_the_command_exits_0_when_the_same_and_1_when_not(pair, tmp_path, capsys):
    a, _ = pair
    copy = tmp_path / "copy.duckdb"
    copy.write_bytes(a.read_bytes())
    assert main(["compare", str(a), str(copy)]) == 0
    assert capsys.readouterr().out.startswith("5 table(s) the same, row for row")
    assert main(["compare", *map(str, pair), "--ignore", "*.built_at"]) == 1
    out = capsys.readouterr().out
    assert "  changed: 1 rows only in A, 1 only in B; differing columns: v" in out
    assert "tables only in A: ['gone']; only in B: ['new']" in out


def test_a_missing_file_is_one_clear_error(tmp_path):
    with pytest.raises(BlueprintError, match="no such DuckDB file"):
        compare(tmp_path / "nope.duckdb", tmp_path / "nope2.duckdb")


def test_a_table_empty_on_one_side_names_no_differing_column(tmp_path):
    """Nothing pairs when one side has no rows: every column would "differ", which says nothing."""
    a, b = tmp_path / "a.duckdb", tmp_path / "b.duckdb"
    _warehouse(a, ["create table t (k integer, v varchar)"])
    _warehouse(b, ["create table t as select 1 as k, 'x' as v"])
    (diff,) = compare(a, b).differing
    assert (diff.only_in_a, diff.only_in_b, diff.differing_columns) == (0, 1, [])


def test_a_duckdb_file_and_a_spark_folder_are_compared_in_duckdb_over_the_parts(tmp_path, spark_warehouse):
    """DuckDB reads the Spark warehouse's Parquet parts (and a view's rows, which Spark writes):
    worked by hand, A the DuckDB file, B the Spark folder.
      close     (k, v double): (1, 0.1 + 0.2), (2, 1.0) | (2, 1.0), (1, 0.3)   same to 1e-9
      moved     (k, v double): (1, 1.0) | (1, 1.001)                          differs
      cased     (k, t): (1, 'x') | (1, 'X')                                   differs
      empty     (k, d date): no rows on either side (a Spark table with no part)     same
      hashed    (k, record_hash bigint): (1, 11) | (1, 22)     the engines' own hashes: same
      grown     (k): (1) | then ADD COLUMN extra, (2, 'e'): part 1 reads extra as null: differs
      v         a view: select k from close, on both sides                           same
      gone      only in A;  new: only in B
    """
    duck = tmp_path / "a.duckdb"
    _warehouse(duck, [
        "create table close (k int, v double)", "insert into close values (1, 0.1 + 0.2), (2, 1.0)",
        "create table moved (k int, v double)", "insert into moved values (1, 1.0)",
        "create table cased (k int, t varchar)", "insert into cased values (1, 'x')",
        "create table empty (k int, d date)",
        "create table hashed (k int, record_hash bigint)", "insert into hashed values (1, 11)",
        "create table grown (k int)", "insert into grown values (1), (2)",
        "create view v as select k from close",
        "create table gone (k int)",
    ])  # fmt: skip
    with spark_warehouse.transaction() as session:
        for statement in [
            "create table close (k int, v double)", "insert into close values (2, 1.0), (1, 0.3)",
            "create table moved (k int, v double)", "insert into moved values (1, 1.001)",
            "create table cased (k int, t varchar)", "insert into cased values (1, 'X')",
            "create table empty (k int, d date)",
            "create table hashed (k int, record_hash bigint)", "insert into hashed values (1, 22)",
            "create table grown (k int)", "insert into grown values (1)",
            "alter table grown add column extra varchar", "insert into grown values (2, 'e')",
            "create view v as select k from close",
            "create table new (k int)",
        ]:  # fmt: skip
            session.execute(statement)
    assert 0.1 + 0.2 != 0.3
    found = compare(duck, spark_warehouse.url)
    assert sorted(found.same_tables) == ["close", "empty", "hashed", "v"]
    assert (found.only_in_a, found.only_in_b) == (["gone"], ["new"])
    said = {d.table: d.described for d in found.differing}
    assert said == {
        "cased": ["cased.t: 1 rows differ, e.g. 'x' against B's 'X'"],
        "grown": ["grown: columns ['k'] against B's ['extra', 'k']"],
        "moved": ["moved.v: 1 rows differ, e.g. 1.0 against B's 1.001"],
    }
    assert sorted(p.name for p in Path(spark_warehouse.path).iterdir()) == [
        "catalog.json", "catalog.lock", "parts"
    ], "the views' scratch folder is gone"  # fmt: skip
    # The other way round, B the DuckDB file: the same tables, the sides swapped.
    back = compare(spark_warehouse.url, duck)
    assert (back.only_in_a, back.only_in_b) == (["new"], ["gone"])
    assert {d.table for d in back.differing} == {"cased", "grown", "moved"}
