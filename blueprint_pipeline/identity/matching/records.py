"""The records person matching compares, built by SQL where the kept cleaning lives
(docs/identity.md#incremental-matching): `person_match_records`, one row per live record, is the
cleaning of `person_match_cleaned_records` with a shared mailbox's address left out, the work
domain (the email's domain unless personal), the blocking keys (blocking.py says why each) and
the record's fingerprint. Each build brings it up to date in the warehouse (build(): only the rows
that can have moved); a 1% build then reads only the records Splink needs (neighbourhood.py),
not 1.78M rows into pandas.

The same SELECT builds the frame of `prepare()` in an in-memory DuckDB, so the keys have one
definition. It is plain SQL both warehouses run alike: `||` is null when a part is, holders are
counted by GROUP BY; the fingerprint is a 64-bit hash of the values (cleaned.hashed_sql: the md5
of their text took 2.5 s of the 5.6 s SELECT at 1M).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Callable, Sequence
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from blueprint_pipeline.core.errors import WarehouseError
from blueprint_pipeline.identity.matching.blocking import BLOCK_COLUMNS, MIN_LETTERS
from blueprint_pipeline.identity.matching.cleaned import CLEANED, CLEANED_HASH, hashed_sql
from blueprint_pipeline.identity.matching.incremental import TOUCHED
from blueprint_pipeline.identity.matching.model import SparkRecords, WarehouseRecords
from blueprint_pipeline.identity.matching.neighbourhood import near_sql, tf_columns, tf_sql
from blueprint_pipeline.identity.matching.prepare import CLEANED_COLUMNS, COLUMNS, LIST_SEPARATOR
from blueprint_pipeline.identity.tables import text_array
from blueprint_pipeline.warehouse import Session
from blueprint_pipeline.warehouse.base import quote
from blueprint_pipeline.warehouse.duckdb import DuckDBSession
from blueprint_pipeline.warehouse.spark import SparkSqlSession, is_connect

RECORDS = "person_match_records"
# Every column of RECORDS: COMPARED (first_name_forms as text), cleaned_hash, fingerprint, UNCAPPED,
# definition_hash, guards_hash (_COLUMNS).
TEXT_FORMS = "first_name_forms"
_TOUCHED = "person_match__touched"  # a temporary table: the touched records' keys
_TOUCHED_ROWS = "person_match__touched_rows"  # and their rows


def _joined(*parts: str) -> str:
    return " || '|' || ".join(parts)


def _prefix(column: str, n: int) -> str:
    return f"substr({column}, 1, {n})"


def _common(column: str, source: str, cap: int) -> str:
    """The values of `column` more than `cap` records of `source` hold."""
    return (
        f"(select {column} as v from {source} where {column} is not null "
        f"group by {column} having count(*) > {cap})"
    )


# The coarse and fine parts of the three refined keys (blocking.refined): firm with a name's
# letters, refined by the other name's initial where the coarse one is too common.
_REFINED = {
    "company_canonical_key": (
        _joined("company", "first_name_canonical"),
        _joined("company", "first_name_canonical", _prefix("last_name", 1)),
    ),
    "company_last_key": (
        _joined("company", _prefix("last_name", 3)),
        _joined("company", _prefix("last_name", 3), _prefix("first_name", 1)),
    ),
    "company_first_key": (
        _joined("company", _prefix("first_name", 3)),
        _joined("company", _prefix("first_name", 3), _prefix("last_name", 1)),
    ),
}
# The capped keys' values before the cap (blocking.capped), reversed_name_key aside.
_CAPPED = {
    "letters_key": f"case when length(email_letters) >= {MIN_LETTERS} then email_letters end",
    "full_name_key": "full_name",
    "name_prefix_key": _joined("first_name_canonical", _prefix("last_name", 3)),
    "first_city_key": _joined("first_name_canonical", "city"),
    "last_initial_city_key": _joined("last_name", _prefix("first_name", 1), "city"),
}
COMPARED = COLUMNS  # prepare()'s frame: what Splink compares and blocks on


# What RECORDS keeps besides the compared columns: each blocking key's value before the cap (the
# refined keys' coarse value, and all eight capped keys' values as staged), so a build counts
# holders only for the values its changed records hold (build()); and the hashes of what built them.
UNCAPPED = [*(f"{k}__coarse" for k in _REFINED), *(f"{k}__raw" for k in (*_CAPPED, *_REFINED))]
DEFINITION_HASH, GUARDS_HASH = "definition_hash", "guards_hash"  # constant columns: what built the rows
_GUARDED = [c for c in COMPARED if c not in BLOCK_COLUMNS]  # the guarded cleaning: unique_id first
_STAGED = [*_GUARDED, "cleaned_hash", *UNCAPPED]  # the rows final_sql() caps
_REFINED_RAW = [f"{k}__raw" for k in _REFINED]


def _guarded_sql(cleaned: str, shared: str, personal: str, only: str | None = None) -> str:
    """The cleaned records with the guards applied: a shared mailbox's address left out, the
    work domain (the email's domain unless personal); of the keys in table `only` if given."""
    where = f" where c.source_key in (select unique_id from {only})" if only else ""
    return f"""
        select c.source_key as unique_id, c.first_name, c.last_name, c.first_name_canonical,
            c.first_name_forms, c.full_name,
            case when s.email is null then c.email end as email,
            case when s.email is null then c.email_user end as email_user,
            case when s.email is null then c.email_letters end as email_letters,
            case when p.domain is null then c.email_domain end as work_domain,
            c.phone, c.mobile, c.company, c.city, c.country, c.title, c.title_job, c.cleaned_hash
        from {cleaned} as c
        left join (select distinct email from {shared}) as s on s.email = c.email
        left join (select distinct domain from {personal}) as p on p.domain = c.email_domain{where}"""


def _staged_sql(guarded: str, over: Callable[[str, str], str]) -> str:
    """_STAGED of the rows of `guarded`: each key's value before the cap, a refined key's coarse
    value replaced by its fine one where `over(column, source)` (SQL of the column's values over
    the cap, as `v`) holds it."""
    parts = ", ".join(f"{c} as {k}__coarse, {f} as {k}__fine" for k, (c, f) in _REFINED.items())
    raw = ", ".join(f"{sql} as {k}__raw" for k, sql in _CAPPED.items())
    refined = ", ".join(
        f"case when x_{k}.v is null then g.{k}__coarse else g.{k}__fine end as {k}__raw" for k in _REFINED
    )
    joins = " ".join(
        f"left join {over(f'{k}__coarse', 'g')} as x_{k} on x_{k}.v = g.{k}__coarse" for k in _REFINED
    )
    return f"""
        with guarded as ({guarded}),
        g as (select guarded.*, {parts}, {raw} from guarded)
        select {", ".join(f"g.{c}" for c in _STAGED if c not in _REFINED_RAW)}, {refined}
        from g {joins}"""


def _final_sql(staged: str, over: Callable[[str, str], str], hashes: tuple[str, str]) -> str:
    """RECORDS' rows from the rows of `staged` (_STAGED): a key's value where `over` (as in
    _staged_sql) does not hold it, the reversed name, the fingerprint over every compared value."""
    capped = [*_CAPPED, *_REFINED]
    final = ", ".join(f"case when y_{k}.v is null then r.{k}__raw end as {k}" for k in capped)
    joins = " ".join(f"left join {over(f'{k}__raw', 'r')} as y_{k} on y_{k}.v = r.{k}__raw" for k in capped)
    printed = ["cleaned_hash", "email", "work_domain", *BLOCK_COLUMNS]
    return f"""
        with r as ({staged}),
        keyed as (select r.*, {final} from r {joins}),
        named as (
            select keyed.*,
                case when full_name_key is not null then last_name || ' ' || first_name end
                    as reversed_name_key
            from keyed
        )
        select {", ".join(COMPARED)}, cleaned_hash, {hashed_sql(printed)} as fingerprint,
            {", ".join(UNCAPPED)}, cast('{hashes[0]}' as varchar) as {DEFINITION_HASH},
            cast('{hashes[1]}' as varchar) as {GUARDS_HASH}
        from named"""


def select_sql(cleaned: str, shared: str, personal: str, cap: int, guards: str = "") -> str:
    """The SELECT of every row of RECORDS (COMPARED, cleaned_hash, fingerprint, UNCAPPED and the hashes)
    from the tables `cleaned` (person_match_cleaned_records' shape, live records only), `shared`
    (column email) and `personal` (column domain); `cap`: max_block_records. Holders are
    counted over all of them."""

    def over(column: str, source: str) -> str:
        return _common(column, source, cap)

    hashes = (definition_hash(cap), guards)
    return _final_sql(_staged_sql(_guarded_sql(cleaned, shared, personal), over), over, hashes)


_COLUMNS = [*COMPARED, "cleaned_hash", "fingerprint", *UNCAPPED, DEFINITION_HASH, GUARDS_HASH]
SOURCES = (CLEANED, "identity_shared_mailboxes", "identity_personal_domains")
# Temporary tables of an incremental build(): the records whose guarded row changed, then those
# whose staged values may have moved, then those whose keys may have; the staged rows of the
# second; a round's rows before and now, its value deltas and holder counts; the rows written.
_CHANGED, _RESTAGED, _REKEYED = "person_match__changed", "person_match__restaged", "person_match__rekeyed"
_STAGED_NOW, _OLD, _NOW = "person_match__staged", "person_match__old", "person_match__now"
_DELTAS, _COUNTS, _MOVED = "person_match__deltas", "person_match__counts", "person_match__moved_rows"


def guards_hash(session: Session) -> str:
    """A hash of the guards' lists (shared mailboxes, personal domains): a build whose guards
    are those of the last compares only the records whose cleaning moved."""
    lists = [
        sorted(str(v) for (v,) in session.fetchall(f"select distinct {column} from {table}"))
        for table, column in (("identity_shared_mailboxes", "email"), ("identity_personal_domains", "domain"))
    ]
    return hashlib.sha256(json.dumps(lists).encode()).hexdigest()[:16]


def definition_hash(cap: int) -> str:
    """A hash of the SQL that builds the rows with this cap, whole and brought up to date: a
    release that changes a key's definition or the cap's test, or another cap, builds the table
    whole again."""

    def over(column: str, source: str) -> str:
        return _common(column, source, cap)

    whole = _final_sql(_staged_sql(_guarded_sql("c", "s", "p"), over), over, ("d", "g"))
    text = f"{cap} {whole} {_over_now(cap)('k', 'r')}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]


# Above this share of changed records the table is built whole: at 1M persons bringing it up to
# date took 2.4 s for 10,550 changed records and 47 s for all 1.78M (a new cleaning key), the
# whole SELECT and its write ~10 s.
WHOLE_ABOVE = 0.1


def build(session: Session, cap: int, cleaned_now: Sequence[str] | None) -> int:
    """Brings RECORDS to what the kept cleaning (cleaned.write() first: it then holds exactly
    the live records), the guards and the cap give; returns its rows. `cleaned_now`: the keys
    whose kept cleaning this build wrote or dropped (cleaned.write()'s answer), None when it
    cleaned every record. Built whole then, the first time, when its columns or its definition
    (the SQL, the cap) change, or when over WHOLE_ABOVE of the records changed; else only the
    rows that can have moved are computed and written: counting every key's holders over 1.78M
    records took 1.9-3.7 s of a 1% build at 1M persons."""
    guards = guards_hash(session)
    rebuild = (
        cleaned_now is None
        or [c for c, _ in session.columns(RECORDS)] != _COLUMNS
        or session.scalar(f"select min({DEFINITION_HASH}) from {RECORDS}") not in (None, definition_hash(cap))
    )
    if not rebuild:
        same_guards = session.scalar(f"select min({GUARDS_HASH}) from {RECORDS}") in (None, guards)
        temporary = (_CHANGED, _RESTAGED, _REKEYED, _STAGED_NOW, _OLD, _NOW, _DELTAS, _COUNTS, _MOVED)
        with session.dropped_after(*temporary):
            if same_guards:
                keys = pd.DataFrame({"unique_id": sorted(set(cleaned_now))}, dtype=object)
                session.temporary_table(_CHANGED, keys)
            else:
                _changed_rows(session)
            changed, kept = (session.scalar(f"select count(*) from {t}") for t in (_CHANGED, RECORDS))
            rebuild = changed > WHOLE_ABOVE * kept
            if not rebuild:
                _rebuild_moved(session, int(cap), guards)
    if rebuild:
        session.execute(f"drop table if exists {RECORDS}")
        session.execute(f"create table {RECORDS} as {select_sql(*SOURCES, cap, guards)}")
    return int(session.scalar(f"select count(*) from {RECORDS}") or 0)


def _changed_rows(session: Session) -> None:
    """_CHANGED: the records whose guarded cleaning differs from their row (new, changed, gone, or
    a guard changed), found by comparing every record."""
    session.execute(
        f"create temporary table {_CHANGED} as select coalesce(n.unique_id, r.unique_id) as unique_id "
        f"from ({_guarded_sql(*SOURCES)}) as n full join {RECORDS} as r on r.unique_id = n.unique_id "
        "where n.unique_id is null or r.unique_id is null or r.cleaned_hash <> n.cleaned_hash "
        "or r.email is distinct from n.email or r.work_domain is distinct from n.work_domain"
    )


def _rebuild_moved(session: Session, cap: int, guards: str) -> None:
    """Rewrites the rows of RECORDS that can differ from select_sql()'s. A row moves when its
    guarded cleaning does (_CHANGED), or when a value it holds crosses the cap: a coarse value
    (its refined keys restage: _RESTAGED), then a staged one (its keys change: _REKEYED). Only
    values a changed row holds, before or after, change their holder counts: only theirs are
    counted."""
    if not session.scalar(f"select count(*) from {_CHANGED}"):
        if session.scalar(f"select min({GUARDS_HASH}) from {RECORDS}") not in (None, guards):
            session.execute(f"update {RECORDS} set {GUARDS_HASH} = '{guards}'")
        return
    coarse = [f"{k}__coarse" for k in _REFINED]
    staged = [f"{k}__raw" for k in (*_CAPPED, *_REFINED)]
    # Round 1, the coarse values: the changed rows' and the rows restaged by a crossing; then
    # round 2, the staged values: the restaged rows' and the rows rekeyed by a crossing.
    session.execute(
        f"create temporary table {_NOW} as " + _staged_sql(_guarded_sql(*SOURCES, only=_CHANGED), _never)
    )
    _round(session, coarse, _CHANGED, _RESTAGED, cap)
    session.execute(
        f"create temporary table {_STAGED_NOW} as "
        + _staged_sql(_guarded_sql(*SOURCES, only=_RESTAGED), _over_now(cap))
    )
    session.execute(f"drop table {_COUNTS}")
    session.execute(f"drop table {_NOW}")
    session.execute(f"create temporary table {_NOW} as select * from {_STAGED_NOW}")
    _round(session, staged, _RESTAGED, _REKEYED, cap)
    kept = ", ".join(f"r.{c}" for c in _STAGED)
    rows = (
        f"select * from {_STAGED_NOW} union all select {kept} from {RECORDS} as r "
        f"where r.unique_id in (select unique_id from {_REKEYED}) "
        f"and r.unique_id not in (select unique_id from {_RESTAGED})"
    )
    moved = _final_sql(rows, _over_now(cap), (definition_hash(cap), guards))
    session.execute(f"create temporary table {_MOVED} as {moved}")
    session.execute(f"delete from {RECORDS} where unique_id in (select unique_id from {_REKEYED})")
    session.execute(f"insert into {RECORDS} select * from {_MOVED}")
    session.execute(f"update {RECORDS} set {GUARDS_HASH} = '{guards}' where {GUARDS_HASH} <> '{guards}'")


def _never(column: str, source: str) -> str:
    """No value is over the cap (round 1 reads only the coarse values, not what they stage)."""
    return "(select cast(null as varchar) as v where 1 = 0)"


def _over_now(cap: int) -> Callable[[str, str], str]:
    """The values of a column over the cap by the counts of this round (_COUNTS)."""
    return lambda column, source: f"(select v from {_COUNTS} where col = '{column}' and after > {cap})"


def _round(session: Session, columns: list[str], moved: str, out: str, cap: int) -> None:
    """`out`: the rows of `moved` and of RECORDS holding a value of `columns` whose holders
    crossed the cap; _COUNTS then covers every value `out`'s rows hold, before (RECORDS) and
    now (_NOW: `moved`'s rows now; a gone row has none). Only a value whose holders changed can
    cross: one a row of `moved` holds, before or now; the others' state is read (_add_stored)."""
    _count(session, columns, moved, moved)
    crossed = f"(c.before > {cap}) <> (c.after > {cap})"
    if not session.scalar(f"select count(*) from {_COUNTS} as c where {crossed}"):
        session.execute(f"create temporary table {out} as select unique_id from {moved}")
        return
    holders = " union ".join(
        f"select r.unique_id from {RECORDS} as r join {_COUNTS} as c on c.col = '{c}' and c.v = r.{c} "
        f"where {crossed}"
        for c in columns
    )
    session.execute(f"create temporary table {out} as select unique_id from {moved} union {holders}")
    _add_stored(session, columns, moved, out, cap)


# Whether a row of RECORDS shows its value of a column over the cap: a refined key's coarse
# value is (its staged value is then the fine one, never equal), a staged value is (its key is null).
_SHOWN_OVER = {
    **{f"{k}__coarse": f"r.{k}__raw is distinct from r.{k}__coarse" for k in _REFINED},
    **{f"{k}__raw": f"r.{k} is null" for k in (*_CAPPED, *_REFINED)},
}


def _add_stored(session: Session, columns: list[str], moved: str, out: str, cap: int) -> None:
    """Adds to _COUNTS the values `out`'s rows hold that it lacks. No row of `moved` holds them,
    so their holders did not change: whether they are over the cap is what their stored rows show
    (as a count of cap + 1 or 0; counting them again took ~0.5 s at 1M)."""
    stored = " union all ".join(
        f"select '{c}' as col, r.{c} as v, max(case when {_SHOWN_OVER[c]} then {cap + 1} else 0 end) as n "
        f"from {RECORDS} as r where r.unique_id in (select unique_id from {out}) "
        f"and r.unique_id not in (select unique_id from {moved}) and r.{c} is not null "
        f"and r.{c} not in (select v from {_COUNTS} where col = '{c}' and v is not null) group by r.{c}"
        for c in columns
    )
    session.execute(f"insert into {_COUNTS} select col, v, n, n from ({stored}) as s")


def _count(session: Session, columns: list[str], moved: str, among: str) -> None:
    """_COUNTS (col, v, before, after): per column, each value held by a row of `among` in
    RECORDS or by a row of _NOW, with its holders in RECORDS and once `moved`'s rows are _NOW's."""
    session.execute(
        f"create temporary table {_OLD} as select unique_id, {', '.join(columns)} from {RECORDS} "
        f"where unique_id in (select unique_id from {among})"
    )
    changes = " union all ".join(
        f"select '{c}' as col, o.{c} as v, "
        f"case when o.unique_id in (select unique_id from {moved}) then -1 else 0 end as d "
        f"from {_OLD} as o where o.{c} is not null "
        f"union all select '{c}', n.{c}, 1 from {_NOW} as n where n.{c} is not null"
        for c in columns
    )
    session.execute(
        f"create temporary table {_DELTAS} as "
        f"select col, v, sum(d) as d from ({changes}) as c group by col, v"
    )
    held = " union all ".join(
        f"select '{c}' as col, {c} as v, count(*) as n from {RECORDS} "
        f"where {c} in (select v from {_DELTAS} where col = '{c}') group by {c}"
        for c in columns
    )
    session.execute(
        f"create temporary table {_COUNTS} as select d.col, d.v, coalesce(h.n, 0) as before, "
        f"coalesce(h.n, 0) + d.d as after from {_DELTAS} as d "
        f"left join ({held}) as h on h.col = d.col and h.v = d.v"
    )
    session.execute(f"drop table {_DELTAS}")
    session.execute(f"drop table {_OLD}")


def as_frame(rows: pd.DataFrame) -> pd.DataFrame:
    """The compared records' rows (of_cleaned()'s) as prepare()'s frame: None for missing, the
    first name's forms as lists (one list per distinct text: a first name's forms are read,
    never changed)."""
    out = rows.copy()
    # Text is already None where missing: only a column read in another type is converted.
    for column in [c for c in out.columns if not pd.api.types.is_object_dtype(out[c])]:
        out[column] = out[column].astype(object).where(out[column].notna(), None)
    texts = out[TEXT_FORMS]
    forms = {t: t.split(LIST_SEPARATOR) for t in texts.dropna().unique()}
    out[TEXT_FORMS] = [forms[t] if t is not None else None for t in texts.tolist()]
    return out


_READ = f"{', '.join(COMPARED)}, cleaned_hash, fingerprint"


def _forms_split(table: pa.Table) -> pa.Table:
    """The first name's forms as lists, split by Arrow."""
    at = table.schema.get_field_index(TEXT_FORMS)
    return table.set_column(at, TEXT_FORMS, pc.split_pattern(table[TEXT_FORMS], LIST_SEPARATOR))


def read_all(session: Session) -> pa.Table | WarehouseRecords | SparkRecords:
    """Every record of RECORDS, for Splink (in key order, byte by byte, where read out). On a
    DuckDB warehouse the query that gives them, in the warehouse's own engine: Splink copies them
    from where they lie (model.splink_duckdb()). On Spark (but Spark Connect) a DataFrame over the
    parts: Splink works in Spark (on_spark.py). On PostgreSQL and Spark Connect they are read as
    Arrow, which Splink's embedded DuckDB scans where it lies, no Python object per value."""
    if isinstance(session, DuckDBSession):
        catalog, schema = session.fetchall("select current_database(), current_schema()")[0]
        forms = f"string_split({TEXT_FORMS}, '{LIST_SEPARATOR}') as {TEXT_FORMS}"
        columns = ", ".join(forms if c == TEXT_FORMS else c for c in _READ.split(", "))
        table = f"{quote(catalog)}.{quote(schema)}.{RECORDS}"
        sql = f'select {columns} from {table} order by unique_id collate "C"'
        count = int(session.scalar(f"select count(*) from {RECORDS}") or 0)
        return WarehouseRecords(sql, count, session.con)
    spark = isinstance(session, SparkSqlSession) and not is_connect(session.spark)
    if spark and session.row_count(RECORDS) >= spark_matching_records():
        return _spark_records(session)
    return _forms_split(session.fetch_arrow(f'select {_READ} from {RECORDS} order by unique_id collate "C"'))


def spark_matching_records() -> int:
    """From how many records a Spark warehouse's matching runs in Spark (Splink's Spark backend);
    fewer are read to the driver and matched in its embedded DuckDB, as on PostgreSQL. Both give
    the same model and pairs (test_person_matching_spark.py); below ~100,000 records Spark's
    fixed cost per job is most of the work (the tiny sample: 99 s in Spark, docs/benchmarks.md)."""
    value = os.environ.get("BLUEPRINT_SPARK_MATCHING_RECORDS", "100000")
    try:
        return int(value)
    except ValueError:
        raise WarehouseError(
            f"BLUEPRINT_SPARK_MATCHING_RECORDS={value!r}: expected a whole number of records"
        ) from None


def _spark_records(session: SparkSqlSession) -> SparkRecords:
    """Every record of RECORDS as a DataFrame over the Spark warehouse's parts, for Splink's
    Spark backend (on_spark.py): nothing read to the driver but the count."""
    from pyspark.sql import functions as F

    frame = session.frame(f"select {_READ} from {RECORDS}")
    forms = F.split(F.col(TEXT_FORMS), re.escape(LIST_SEPARATOR))  # Spark splits by a pattern
    return SparkRecords(frame.withColumn(TEXT_FORMS, forms), frame.count(), Path(session.catalog.root))


def read_near(session: Session, model: dict, touched: set[str]) -> pa.Table:
    """The records an incremental scoring hands Splink (neighbourhood.py): the touched ones and
    their possible partners, in key order, with the bool column TOUCHED, as Arrow like
    read_all() (as a pandas frame of objects, ~160k records at 1M persons cost 0.5 s more)."""
    near = near_sql(model, RECORDS, _TOUCHED_ROWS)
    chosen = f"select unique_id from {RECORDS}" if near is None else near
    with session.dropped_after(_TOUCHED, _TOUCHED_ROWS):
        session.temporary_table(_TOUCHED, pd.DataFrame({"unique_id": sorted(touched)}, dtype=object))
        # Their rows once, not once per rule and side (17 scans of every record: ~1 s at 1M).
        session.execute(
            f"create temporary table {_TOUCHED_ROWS} as select r.* from {RECORDS} as r "
            f"where r.unique_id in (select unique_id from {_TOUCHED})"
        )
        rows = session.fetch_arrow(
            f"select {', '.join(f'r.{c}' for c in _READ.split(', '))}, "
            f"t.unique_id is not null as {TOUCHED} from {RECORDS} as r "
            f"left join {_TOUCHED} as t on t.unique_id = r.unique_id "
            f'where r.unique_id in ({chosen}) order by r.unique_id collate "C"'
        )
    return _forms_split(rows)


def term_frequencies(session: Session, model: dict) -> dict[str, pd.DataFrame]:
    """Per term-frequency column of `model`, Splink's lookup over every record (neighbourhood.py)."""
    return {c: session.fetch_df(tf_sql(c, RECORDS)) for c in tf_columns(model)}


def of_cleaned(
    cleaned: pa.Table, personal_domains: set[str], shared_mailboxes: frozenset[str], cap: int
) -> pd.DataFrame:
    """prepare()'s frame: the SELECT of RECORDS run in an in-memory DuckDB over clean_records()'
    table (`unique_id`, CLEANED_COLUMNS) with its cleaned_hash, and the guards, in key order."""
    tables = {
        "cleaned": cleaned,
        "shared": pa.table({"email": text_array(sorted(shared_mailboxes))}),
        "personal": pa.table({"domain": text_array(sorted(personal_domains))}),
    }
    kept = (
        f"(select unique_id as source_key, {', '.join(CLEANED_COLUMNS)}, {CLEANED_HASH} as cleaned_hash "
        "from cleaned)"
    )
    connection = duckdb.connect()
    try:
        for name, table in tables.items():
            connection.register(name, table)
        found = connection.sql(
            f"select {_READ} from ({select_sql(kept, 'shared', 'personal', cap)}) as r order by unique_id"
        ).to_arrow_table()
    finally:
        connection.close()
    columns = {n: found[n].to_numpy(zero_copy_only=False) for n in found.column_names}
    return as_frame(pd.DataFrame({n: pd.Series(v, dtype=object) for n, v in columns.items()}, copy=False))
