"""The records person matching compares, built by SQL where the kept cleaning lives
(docs/identity.md#incremental-matching): `person_match_records`, one row per live record, is the
cleaning of `person_match_cleaned_records` with a shared mailbox's address left out, the work
domain (the email's domain unless personal), the blocking keys (blocking.py says why each) and
the record's fingerprint. The warehouse builds it on every build; a 1% build then reads only the
records Splink needs (neighbourhood.py), not 1.76M rows into pandas.

The same SELECT builds the frame of `prepare()` in an in-memory DuckDB, so the keys have one
definition. It is plain SQL both warehouses run alike: `||` is null when a part is, holders are
counted by GROUP BY; the fingerprint is a 64-bit hash of the values (cleaned.hashed_sql: the md5
of their text took 2.5 s of the 5.6 s SELECT at 1M).
"""

from __future__ import annotations

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from blueprint_pipeline.identity.matching.blocking import BLOCK_COLUMNS, MIN_LETTERS
from blueprint_pipeline.identity.matching.cleaned import CLEANED, CLEANED_HASH, hashed_sql
from blueprint_pipeline.identity.matching.incremental import TOUCHED
from blueprint_pipeline.identity.matching.neighbourhood import near_sql, tf_columns, tf_sql
from blueprint_pipeline.identity.matching.prepare import CLEANED_COLUMNS, COLUMNS, LIST_SEPARATOR
from blueprint_pipeline.identity.tables import text_array
from blueprint_pipeline.warehouse import Session

RECORDS = "person_match_records"
# Every column of RECORDS: COMPARED (first_name_forms as text), cleaned_hash, fingerprint.
TEXT_FORMS = "first_name_forms"
_TOUCHED = "person_match__touched"  # a temporary table: the touched records' keys
_BUILT = "person_match__built"  # a temporary table: this build's new records and moved fingerprints


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
_CLEANED = (
    "first_name, last_name, first_name_canonical, first_name_forms, full_name, email, email_user, "
    "email_letters, email_domain, phone, mobile, company, city, country, title, title_job, cleaned_hash"
)
COMPARED = COLUMNS  # prepare()'s frame: what Splink compares and blocks on


def select_sql(cleaned: str, shared: str, personal: str, cap: int) -> str:
    """The SELECT of RECORDS (COMPARED, cleaned_hash, fingerprint) from the tables `cleaned`
    (person_match_cleaned_records' shape, live records only), `shared` (column email) and
    `personal` (column domain); `cap`: max_block_records."""
    cap = int(cap)
    guarded = f"""
        select c.source_key as unique_id, c.first_name, c.last_name, c.first_name_canonical,
            c.first_name_forms, c.full_name,
            case when s.email is null then c.email end as email,
            case when s.email is null then c.email_user end as email_user,
            case when s.email is null then c.email_letters end as email_letters,
            case when p.domain is null then c.email_domain end as work_domain,
            c.phone, c.mobile, c.company, c.city, c.country, c.title, c.title_job, c.cleaned_hash
        from {cleaned} as c
        left join (select distinct email from {shared}) as s on s.email = c.email
        left join (select distinct domain from {personal}) as p on p.domain = c.email_domain"""
    coarse = ", ".join(f"{c} as {k}__coarse, {f} as {k}__fine" for k, (c, f) in _REFINED.items())
    raw = ", ".join(f"{sql} as {k}__raw" for k, sql in _CAPPED.items())
    stage = ", ".join(
        f"case when x_{k}.v is null then g.{k}__coarse else g.{k}__fine end as {k}__raw" for k in _REFINED
    )
    stage_joins = " ".join(
        f"left join {_common(f'{k}__coarse', 'g', cap)} as x_{k} on x_{k}.v = g.{k}__coarse" for k in _REFINED
    )
    capped = [*_CAPPED, *_REFINED]
    final = ", ".join(f"case when y_{k}.v is null then r.{k}__raw end as {k}" for k in capped)
    final_joins = " ".join(
        f"left join {_common(f'{k}__raw', 'staged', cap)} as y_{k} on y_{k}.v = r.{k}__raw" for k in capped
    )
    keyed = f"""
        select r.*, {final}
        from staged as r {final_joins}"""
    printed = ["cleaned_hash", "email", "work_domain", *BLOCK_COLUMNS]
    return f"""
        with guarded as ({guarded}),
        g as (select guarded.*, {coarse}, {raw} from guarded),
        staged as (select g.*, {stage} from g {stage_joins}),
        keyed as ({keyed}),
        named as (
            select keyed.*,
                case when full_name_key is not null then last_name || ' ' || first_name end
                    as reversed_name_key
            from keyed
        )
        select {", ".join(COMPARED)}, cleaned_hash, {hashed_sql(printed)} as fingerprint
        from named"""


def build(session: Session, cap: int) -> int:
    """Brings RECORDS to what the kept cleaning (cleaned.write() first: it then holds exactly
    the live records) and the guards give; returns its rows. A kept table of these columns is
    changed only where a record's fingerprint moved (it covers every column): only those rows
    are written (at 1M persons, a 1% build's SELECT materialised whole took 5.7 s, its moved
    rows alone 3 s), and the rows of records no longer live go."""
    sql = select_sql(CLEANED, "identity_shared_mailboxes", "identity_personal_domains", cap)
    if [c for c, _ in session.columns(RECORDS)] != [*COMPARED, "cleaned_hash", "fingerprint"]:
        session.execute(f"drop table if exists {RECORDS}")
        session.execute(f"create table {RECORDS} as {sql}")
    else:
        with session.dropped_after(_BUILT):
            session.execute(f"drop table if exists {_BUILT}")
            session.execute(
                # A left join on both columns: NOT EXISTS (the same rows) was 1 s slower at 1M.
                f"create temporary table {_BUILT} as select b.* from ({sql}) as b "
                f"left join {RECORDS} as r on r.unique_id = b.unique_id and r.fingerprint = b.fingerprint "
                "where r.unique_id is null"
            )
            session.execute(
                f"delete from {RECORDS} where unique_id in (select unique_id from {_BUILT}) "
                f"or not exists (select 1 from {CLEANED} as c where c.source_key = {RECORDS}.unique_id)"
            )
            session.execute(f"insert into {RECORDS} select * from {_BUILT}")
    return int(session.scalar(f"select count(*) from {RECORDS}") or 0)


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


def read_all(session: Session) -> pa.Table:
    """Every record of RECORDS, in key order (byte by byte on both engines), as Arrow: Splink's
    DuckDB scans it where it lies, no Python object per value."""
    return _forms_split(session.fetch_arrow(f'select {_READ} from {RECORDS} order by unique_id collate "C"'))


def read_near(session: Session, model: dict, touched: set[str]) -> pa.Table:
    """The records an incremental scoring hands Splink (neighbourhood.py): the touched ones and
    their possible partners, in key order, with the bool column TOUCHED, as Arrow like
    read_all() (as a pandas frame of objects, ~160k records at 1M persons cost 0.5 s more)."""
    near = near_sql(model, RECORDS, _TOUCHED)
    chosen = f"select unique_id from {RECORDS}" if near is None else near
    with session.dropped_after(_TOUCHED):
        session.temporary_table(_TOUCHED, pd.DataFrame({"unique_id": sorted(touched)}, dtype=object))
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
            select_sql(kept, "shared", "personal", cap) + " order by unique_id"
        ).to_arrow_table()
    finally:
        connection.close()
    columns = {n: found[n].to_numpy(zero_copy_only=False) for n in found.column_names}
    return as_frame(pd.DataFrame({n: pd.Series(v, dtype=object) for n, v in columns.items()}, copy=False))
