"""The Spark warehouse (issue 27 a): its catalog's commits, snapshots, rollbacks and a killed writer;
and DuckDB's meanings kept where sqlglot's Spark SQL would change them, each statement answered by
Spark as DuckDB answers it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import duckdb
import pytest

from blueprint_pipeline.core.errors import WarehouseError
from blueprint_pipeline.resources import pipeline_warehouse
from blueprint_pipeline.warehouse import SparkWarehouse, spark_catalog, warehouse_from_url
from blueprint_pipeline.warehouse.spark import spark_for, with_jar
from blueprint_pipeline.warehouse.spark_catalog import Catalog, PostgresCatalog, TableEntry
from blueprint_pipeline_tests.conftest import PG_URL, postgres_schema, require_spark

SCHEMA = '{"fields": [], "type": "struct"}'


# -- the catalog alone (no Spark), its commit point a file or PostgreSQL ------------------------------


@pytest.fixture(params=["file", pytest.param("postgres", marks=pytest.mark.postgres)])
def catalog_in(request, tmp_path):
    """`catalog_in(folder)`: a catalog over that folder's parts, its document in a file there or
    in PostgreSQL (a table of the test's own schema)."""
    if request.param == "file":
        yield Catalog
        return
    with postgres_schema() as warehouse:
        warehouse.execute("select 1")  # makes the schema
        url = f"{PG_URL}?options=-csearch_path%3D{warehouse.schema_name}"
        made = []
        yield lambda folder: made.append(PostgresCatalog(folder, url)) or made[-1]
        for catalog in made:
            catalog._engine.dispose()


def _parts(catalog: Catalog, *names: str) -> None:
    for name in names:
        (catalog.parts / name).mkdir()


def test_a_commit_shows_every_change_at_once_and_old_snapshots_stay(catalog_in, tmp_path):
    catalog = catalog_in(tmp_path)
    _parts(catalog, "p1", "p2")
    before = catalog.snapshot()
    after = catalog.commit(before, {"a": TableEntry(SCHEMA, ("p1",)), "b": TableEntry(SCHEMA, ("p2",))})
    assert before.entries == {} and before.version == 0
    assert set(after.entries) == {"a", "b"} and after.version == 1
    assert catalog.snapshot() == after
    dropped = catalog.commit(after, {"a": None})
    assert set(dropped.entries) == {"b"} and set(after.entries) == {"a", "b"}
    assert (catalog.parts / "p1").is_dir()  # retired, kept for the readers of `after`


def test_a_commit_over_a_table_another_session_changed_is_refused(catalog_in, tmp_path):
    catalog = catalog_in(tmp_path)
    _parts(catalog, "p1", "p2", "p3")
    base = catalog.commit(catalog.snapshot(), {"a": TableEntry(SCHEMA, ("p1",))})
    catalog.commit(base, {"a": TableEntry(SCHEMA, ("p1", "p2"))})
    with pytest.raises(WarehouseError, match="a changed in another session"):
        catalog.commit(base, {"a": TableEntry(SCHEMA, ("p3",))})
    catalog.commit(base, {"c": TableEntry(SCHEMA)})  # another table: no conflict
    with pytest.raises(WarehouseError, match="parts gone-part are gone"):
        catalog.commit(catalog.snapshot(), {"d": TableEntry(SCHEMA, ("gone-part",))})


def test_a_part_goes_a_grace_period_after_the_commit_that_stopped_naming_it(
    catalog_in, tmp_path, monkeypatch
):
    """Counted from the commit, not from when the part was written: a table built two hours ago
    and replaced now keeps its old part for the readers that began before the replacement."""
    catalog = catalog_in(tmp_path)
    _parts(catalog, "old", "new", "stray", "fresh-stray")
    two_hours_ago, a_day_ago = time.time() - 7200, time.time() - 25 * 3600
    for part, when in (("old", two_hours_ago), ("stray", a_day_ago), ("fresh-stray", two_hours_ago)):
        os.utime(catalog.parts / part, (when, when))
    base = catalog.commit(catalog.snapshot(), {"a": TableEntry(SCHEMA, ("old",))})
    replaced = catalog.commit(base, {"a": TableEntry(SCHEMA, ("new",))})
    assert set(replaced.retired) == {"old"}
    # Kept: "old" was retired just now; "fresh-stray" (never named) is younger than a day.
    assert {p.name for p in catalog.parts.iterdir()} == {"old", "new", "fresh-stray"}
    monkeypatch.setattr(spark_catalog, "GRACE_SECONDS", -1.0)  # the hour has passed
    after = catalog.commit(replaced, {"b": TableEntry(SCHEMA)})
    assert after.retired == {} and {p.name for p in catalog.parts.iterdir()} == {"new", "fresh-stray"}


# -- the Spark session ---------------------------------------------------------------------------------


@pytest.fixture
def spark(spark_warehouse):
    with spark_warehouse.transaction() as s:
        s.execute("create table t (id integer, name varchar)")
        s.execute("insert into t values (1, 'a'), (2, 'b')")
    return spark_warehouse


@pytest.mark.spark
def test_a_failed_transaction_leaves_the_tables_and_files_as_they_were(spark):
    parts = set(spark.catalog().parts.iterdir())
    with pytest.raises(RuntimeError), spark.transaction() as s:
        s.execute("insert into t values (3, 'c')")
        s.execute("delete from t where id = 1")
        s.execute("create table u as select * from t")
        assert s.fetchall("select id from t order by id") == [(2,), (3,)]  # its own writes
        raise RuntimeError("stop")
    assert spark.fetchall("select id, name from t order by id") == [(1, "a"), (2, "b")]
    with spark.session() as s:
        assert s.list_tables() == ["t"]
    assert set(spark.catalog().parts.iterdir()) == parts  # what it wrote is gone


@pytest.mark.spark
def test_statements_write_as_duckdb_does(spark):
    with spark.transaction() as s:
        assert s.fetchall("insert into t (id) values (3)") == [(1,)]
        assert s.fetchall("update t set name = upper(name) where id <= 2") == [(2,)]
        assert s.fetchall("delete from t where name is null") == [(1,)]
        s.execute("alter table t rename to t2")
        s.execute("create or replace view v as select count(*) as n from t2")
    with spark.session() as s:
        assert s.fetchall("select * from t2 order by id") == [(1, "A"), (2, "B")]
        assert s.fetchall("select n from v") == [(2,)]
        assert s.relation_kind("v") == "VIEW" and s.relation_kind("t2") == "BASE TABLE"
        assert s.relation_kind("t") is None
        assert s.columns("t2") == [("id", "INTEGER"), ("name", "VARCHAR")]
        assert s.fetchall(
            "select table_name, table_type from information_schema.tables "
            "where table_schema = current_schema() order by table_name"
        ) == [("t2", "BASE TABLE"), ("v", "VIEW")]
        s.execute("insert into t2 values ($id, $name)", {"id": 4, "name": "it's"})
        assert s.fetchall("select name from t2 where id = $id", {"id": 4}) == [("it's",)]
        with pytest.raises(WarehouseError, match="is not a table"):
            s.execute("drop table v")


@pytest.mark.spark
def test_an_update_keeps_the_tables_types_and_counts_what_it_changed(spark):
    with spark.transaction() as s:
        s.execute('create table m ("userId" bigint, note varchar)')
        s.execute("insert into m values (4, 'a'), (6, 'a'), (8, 'b')")
        assert s.fetchall('update m set "userId" = "userId" * 1.5 where note = $n', {"n": "a"}) == [(2,)]
        assert s.fetchall("update m set note = 'c' where note = 'a'") == [(2,)]  # reads the column it sets
    assert spark.fetchall('select "userId", note from m order by 1') == [(6, "c"), (8, "b"), (9, "c")]
    with spark.session() as s:
        assert s.columns("m") == [("userId", "BIGINT"), ("note", "VARCHAR")]


@pytest.mark.spark
def test_inserts_align_columns_as_duckdb_does_or_are_refused(spark):
    with spark.transaction() as s:
        s.execute("insert into t by name select 'c' as name, 3 as id")
        s.execute("insert into t (name) values ('d')")
        assert s.fetchall("select id, name from t where id = 3 or id is null order by id nulls last") == [
            (3, "c"),
            (None, "d"),
        ]
        for bad, reason in (
            ("insert into t select 1", "2 columns but 1 values"),
            ("insert into t values (1, 'a') on conflict do nothing", "CONFLICT is not supported"),
            ("insert or ignore into t values (1, 'a')", "ALTERNATIVE is not supported"),
            ("create table k (id integer primary key)", "constraints"),
            ("update t set id = 1 from t as o", "UPDATE ... FROM"),
        ):
            with pytest.raises(WarehouseError, match=reason):
                s.execute(bad)


@pytest.mark.spark
def test_a_unique_index_is_a_key_every_write_is_checked_against(spark):
    with spark.transaction() as s:
        s.execute("create index if not exists t_name on t (name)")  # accepted, keeps nothing
        s.execute("create unique index if not exists t_id on t (id)")
        s.execute("create unique index if not exists t_id on t (id)")  # already there
        s.execute("insert into t values (null, 'x'), (null, 'y')")  # nulls share no key
    for bad in ("insert into t values (2, 'again')", "update t set id = 1 where id = 2"):
        with pytest.raises(
            WarehouseError, match=r"duplicate key \(id=[12]\) in t: 2 rows violate the unique index t_id"
        ):
            spark.execute(bad)
    with pytest.raises(WarehouseError, match="duplicate key"), spark.session() as s:
        s.insert_from_local_query("t", ["id", "name"], "select 1, 'file'")
    with pytest.raises(WarehouseError, match="duplicate key"), spark.transaction() as s:
        s.execute("create unique index n_once on t (name)")
        with pytest.raises(WarehouseError, match="duplicate key"):
            s.execute("insert into t values (7, 'a')")
        assert s.fetchall("select count(*) from t where id = 7") == [(0,)]  # the refused rows are gone
        s.execute("insert into t values (7, 'a')")
    with spark.session() as s:
        assert s.fetchall("select count(*), count(id) from t") == [(4, 2)]  # nothing was kept
        with pytest.raises(WarehouseError, match=r"columns \['nope'\] are not all columns"):
            s.execute("create unique index bad on t (nope)")
    with pytest.raises(WarehouseError, match=r"duplicate key \(id=8\)"):  # within one insert
        spark.execute("insert into t values (8, 'z'), (8, 'z')")


@pytest.mark.spark
def test_frames_come_as_duckdb_hands_them_over(spark):
    """Text as objects (None for null), and no rows as a typed empty table: the layers were
    written against DuckDB's frames (an empty Arrow string column broke a merge, found by the
    two-drops build on Spark)."""
    with spark.session() as s:
        empty = s.fetch_arrow("select id, name from t where false")
        assert empty.num_rows == 0 and empty.schema.names == ["id", "name"]
        frame = s.fetch_df("select name from t where false")
        assert frame["name"].dtype == object and frame.merge(frame, on="name").empty
        texts = s.fetch_df("select name from t union all select null order by 1 nulls last")
        assert texts["name"].tolist() == ["a", "b", None] and texts["name"].dtype == object


@pytest.mark.spark
def test_a_column_added_reads_as_null_in_the_rows_written_before(spark):
    with spark.transaction() as s:
        s.execute("alter table t add column if not exists score double")
        s.execute("alter table t add column if not exists score double")  # already there
        s.execute("insert into t values (3, 'c', 0.5)")
    assert spark.fetchall("select id, score from t order by id") == [(1, None), (2, None), (3, 0.5)]
    with spark.session() as s:
        assert s.columns("t")[-1] == ("score", "DOUBLE")
        with pytest.raises(WarehouseError, match="already has a column 'score'"):
            s.execute("alter table t add column score double")


@pytest.mark.spark
def test_a_view_keeps_duckdbs_meaning(spark):
    """A view's SQL is rewritten once (twice turned `\\1` into `$1` and then into a literal)."""
    with spark.session() as s:
        s.execute("create or replace view rv as select regexp_replace('abc', '(b)', '<\\1>') as x")
        assert s.fetchall("select x from rv") == [("a<b>c",)]


@pytest.mark.spark
def test_an_offset_datetime_parameter_is_its_utc_time(spark):
    with spark.session() as s:
        s.execute("create table ts as select timestamp '2026-01-01 10:00:00' as at_utc")
        noon_in_paris = datetime(2026, 1, 1, 12, 0, tzinfo=timezone(timedelta(hours=2)))
        assert s.fetchall("select count(*) from ts where at_utc = $at", {"at": noon_in_paris}) == [(1,)]


@pytest.mark.spark
def test_a_table_another_session_dropped_is_gone_for_a_long_session(spark):
    with spark.session() as reader:
        assert reader.row_count("t") == 2
        assert reader.fetchall("select count(*) from t") == [(2,)]
        with spark.session() as other:
            other.execute("drop table t")
        assert reader.relation_kind("t") is None
        with pytest.raises(Exception, match="(?i)t.*(not found|cannot be found)"):
            reader.fetchall("select count(*) from t")


@pytest.mark.spark
def test_a_snapshot_older_than_a_replacement_still_reads_its_rows(spark):
    with spark.transaction() as old:
        assert old.fetchall("select count(*) from t") == [(2,)]
        with spark.transaction() as new:
            new.execute("delete from t")
        assert old.fetchall("select count(*) from t") == [(2,)]  # its snapshot's parts are kept
    assert spark.fetchall("select count(*) from t") == [(0,)]


@pytest.mark.spark
def test_a_writer_killed_before_its_commit_changes_nothing(spark, tmp_path):
    """kill -9 of a process inside a transaction, after it wrote its new parts: the catalog still
    names the old ones, the next writer works, and the orphans go after the grace period."""
    script = textwrap.dedent(f"""
        import time
        from blueprint_pipeline.warehouse import SparkWarehouse
        w = SparkWarehouse(master="local[1]", path={spark.path!r})
        with w.transaction() as s:
            s.execute("insert into t values (9, 'z')")
            s.execute("delete from t where id = 1")
            print("written", flush=True)
            time.sleep(600)
    """)
    child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "written"
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait(timeout=60)
    assert spark.fetchall("select id from t order by id") == [(1,), (2,)]
    with spark.transaction() as s:
        s.execute("insert into t values (5, 'e')")
    assert spark.fetchall("select id from t order by id") == [(1,), (2,), (5,)]
    named = {p for e in spark.catalog().snapshot().entries.values() for p in e.parts}
    orphans = {p.name for p in spark.catalog().parts.iterdir()} - named
    assert len(orphans) == 2  # the killed writer's insert and delete, left for the grace period


# -- DuckDB's meanings on Spark -----------------------------------------------------------------------

ROWS = """
    create table r as select * from (values
        (1, 'x', timestamp '2026-01-01 10:00:00.25', 10.0),
        (1, null, timestamp '2026-01-02 10:00:00', 20.0),
        (2, 'a', timestamp '2026-01-01 00:00:00', 1.5),
        (2, 'B', timestamp '2026-01-03 00:00:00', null)
    ) as v(g, name, seen_at, amount)
"""

SAME_AS_DUCKDB = {
    "the first of an ordered array_agg": "select g, (array_agg(name order by seen_at desc) filter "
    "(where name is not null))[1] from r group by g order by g",
    "epoch keeps fractions of a second": "select epoch(seen_at), epoch(seen_at - timestamp '2026-01-01') from r order by seen_at",
    "an index past the end is null": "select g, (list(name))[5] from r group by g order by g",
    "a regular expression's group reference": "select regexp_replace('https://www.Acme.com/about', "
    "'^([a-z]+://)?(www[.])?([^/:?#]+).*$', '\\3')",
    "a division of decimals is a double": "select 1.0 / 3.0, 7 / 2, avg(case when g = 1 then 1.0 else 0.0 end) from r",
    "a table of numbers": "select r.g, n.i from r cross join lateral generate_series(1, r.g) as n(i) "
    "where r.name = 'x' or r.name = 'a' order by 1, 2",
    'collate "C" orders by bytes': 'select name from r where name is not null order by name collate "C"',
    "a double rounds by its exact value, half away from zero": "select round(0.15, 1), round(x, 1), "
    "round(-x, 1), round(2.675::double, 2), round(0.25::double, 1), round(1e300::double, 2), "
    "round(cast(0.15 as decimal(4, 2)), 1), round(7, 0) from (select 0.15::double as x)",
    "a date's arithmetic": "select cast(seen_at as date), date_diff('day', timestamp '2025-12-31', seen_at) from r order by seen_at",
}


@pytest.mark.spark
@pytest.mark.parametrize("sql", SAME_AS_DUCKDB.values(), ids=SAME_AS_DUCKDB.keys())
def test_spark_answers_as_duckdb(spark_warehouse, sql):
    duck = duckdb.connect()
    duck.execute(ROWS)
    with spark_warehouse.session() as s:
        s.execute(ROWS)
        got = s.fetchall(sql)
    want = duck.execute(sql).fetchall()

    def plain(rows):  # decimals as numbers: DuckDB's and Spark's decimal types differ in scale
        return [tuple(float(v) if hasattr(v, "as_tuple") else v for v in row) for row in rows]

    assert plain(got) == plain(want)


# -- the URL -----------------------------------------------------------------------------------------------


@pytest.mark.spark
@pytest.mark.postgres
def test_a_catalog_in_postgresql_commits_rolls_back_and_orders_runs(tmp_path):
    """The operational split (docs/decisions.md): tables in the folder, the catalog and the run
    lock in PostgreSQL. A second process waits for the first run's lock."""
    with postgres_schema() as schema:
        schema.execute("select 1")
        catalog = f"{PG_URL}?options=-csearch_path%3D{schema.schema_name}"
        spark = warehouse_from_url(f"spark+local://1?warehouse={tmp_path}&catalog={catalog}")
        with spark.transaction() as s:
            s.execute("create table t (id integer)")
            s.execute("insert into t values (1), (2)")
        with pytest.raises(RuntimeError), spark.transaction() as s:
            s.execute("insert into t values (3)")
            raise RuntimeError("stop")
        assert spark.fetchall("select id from t order by id") == [(1,), (2,)]
        assert not (tmp_path / "catalog.json").exists()  # the document is in PostgreSQL
        waiter = textwrap.dedent(f"""
            import time
            from blueprint_pipeline.warehouse.spark_catalog import PostgresCatalog
            with PostgresCatalog({str(tmp_path)!r}, {catalog!r}).run_lock():
                print(time.time())
        """)
        with spark.run_lock():
            other = subprocess.Popen([sys.executable, "-c", waiter], stdout=subprocess.PIPE, text=True)
            time.sleep(5)
            assert other.poll() is None  # still waiting
            released = time.time()
        out, _ = other.communicate(timeout=60)
        assert other.returncode == 0 and float(out.split()[-1]) >= released
        spark.catalog()._engine.dispose()


def test_an_absent_master_or_connect_server_is_named_at_once(tmp_path):
    for url, what in (("spark://127.0.0.1:9", "Spark master"), ("sc://127.0.0.1:9", "Spark Connect server")):
        started = time.monotonic()
        with pytest.raises(WarehouseError, match=f"no {what} answers at 127.0.0.1:9"):
            warehouse_from_url(f"{url}?warehouse={tmp_path}").check_reachable()
        assert time.monotonic() - started < 10  # not pyspark's minute of retries


def test_spark_urls(tmp_path):
    local = warehouse_from_url(f"spark+local://2?warehouse={tmp_path}")
    assert (local.master, local.path, local.dialect) == ("local[2]", str(tmp_path), "spark")
    assert warehouse_from_url("spark://10.0.0.5:7077").master == "spark://10.0.0.5:7077"
    assert warehouse_from_url("sc://127.0.0.1:15002").master == "sc://127.0.0.1:15002"
    assert Path(warehouse_from_url("spark+local://1").path).name == "spark-warehouse"
    assert pipeline_warehouse(f"spark+local://2?warehouse={tmp_path}").dialect == "spark"  # a whole build
    pg = "postgresql+psycopg2://user:pw@db.internal:5432/meta"
    split = warehouse_from_url(f"spark+local://2?warehouse={tmp_path}&catalog={pg}")
    assert split.catalog_url == pg and warehouse_from_url(split.url).catalog_url == pg
    assert (
        "pw" not in split.display_url
        and "catalog in postgresql+psycopg2://***@db.internal" in split.display_url
    )
    with pytest.raises(WarehouseError, match="catalog= takes postgresql"):
        warehouse_from_url("spark+local://2?catalog=sqlite:///x.db")
    with pytest.raises(WarehouseError, match="unknown setting 'memory_limit'"):
        warehouse_from_url("spark+local://2?memory_limit=1GB")
    for bad in ("spark+local://0", "spark+local://2?memory_limit=1GB", "spark://", "sc://h?warehouse="):
        with pytest.raises(WarehouseError, match="bad warehouse URL"):
            warehouse_from_url(bad)


def test_a_run_on_spark_takes_the_in_process_executor(tmp_path):
    """Steps at once would commit one table together (the file ledger): refused before any work."""
    from blueprint_pipeline.core.errors import BlueprintError
    from blueprint_pipeline.executors import executor_for

    spark = warehouse_from_url(f"spark+local://2?warehouse={tmp_path}")
    assert executor_for({"name": "in_process"}, spark) is not None
    for name in ("multiprocess", "celery"):
        with pytest.raises(BlueprintError, match="commits a table at a time"):
            executor_for({"name": name, "max_concurrent": "2"}, spark)


def test_a_session_for_another_master_is_not_the_running_one(tmp_path):
    """Spark holds one context per process and getOrCreate() hands back the running one whatever
    master it is asked for: a test worker whose earlier test used a standalone cluster, since
    stopped, then waited forever for executors in local mode (CI at dabdba8 and faa45c5). The
    running session is stopped first, and a master used before starts again."""
    require_spark()
    first = spark_for("local[1]")
    assert first.sparkContext.master == "local[1]"
    second = spark_for("local[2]")
    assert second.sparkContext.master == "local[2]"
    assert second.range(3).count() == 3
    again = spark_for("local[1]")
    assert again.sparkContext.master == "local[1]" and again.range(2).count() == 2
    warehouse = SparkWarehouse(master="local[2]", path=str(tmp_path / "w"))
    assert warehouse.scalar("select 41 + 1") == 42, "a warehouse on the other master works after"


def test_splinks_jar_joins_the_users_jars(spark):
    """Splink's similarity jar is added to the jars a user gave pyspark's launcher (--jars, or
    --conf spark.jars, which --jars would override), never replacing them or their other
    arguments, and reaches the running context."""
    jar = "/s/splink.jar"
    assert with_jar("", jar) == "--jars /s/splink.jar pyspark-shell"
    assert (
        with_jar("--jars /u/a.jar,/u/b.jar --driver-memory 2g pyspark-shell", jar)
        == "--jars /u/a.jar,/u/b.jar,/s/splink.jar --driver-memory 2g pyspark-shell"
    )
    assert (
        with_jar("--conf spark.jars=/u/a.jar --conf spark.x=1 pyspark-shell", jar)
        == "--jars /u/a.jar,/s/splink.jar --conf spark.x=1 pyspark-shell"
    )
    assert with_jar("--jars /s/splink.jar pyspark-shell", jar) == "--jars /s/splink.jar pyspark-shell"
    jars = spark_for("local[2]").sparkContext.getConf().get("spark.jars")
    assert "scala-udf-similarity" in jars
