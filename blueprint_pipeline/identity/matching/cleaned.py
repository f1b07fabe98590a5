"""Cleaned records kept between builds (docs/identity.md#incremental-matching): a build cleans only
the live records that are new or whose fields changed, and keeps every live record's cleaning in
`person_match_cleaned_records`, which the person-matching step rewrites for the changed ones.

Each kept row carries `input_hash`: a hash of the record's raw fields (as int_identity_nodes holds
them) and of the cleaning key, which names everything else the cleaning reads: the seed
`country_names` and the code and package versions that clean (names, nicknames, phones, company
names, titles). A changed field, a new country alias or a new release therefore cleans the
record again; what depends on other records (shared mailboxes, personal domains, the blocking
keys) is applied after, to every record, by SQL in the warehouse (records.py). The hash is computed by the
warehouse (hashed_sql), so unchanged records never leave it as raw fields.
"""

from __future__ import annotations

import pandas as pd
import pyarrow as pa

from blueprint_pipeline.identity.matching import prepare
from blueprint_pipeline.identity.matching.prepare import CLEANED_COLUMNS, FIELDS
from blueprint_pipeline.warehouse import Session
from blueprint_pipeline.warehouse.stateful import TABLES, create

CLEANED = "person_match_cleaned_records"
KEPT = ["input_hash", *prepare.CLEANED_COLUMNS, "cleaned_hash"]  # the columns kept
_NOW = "person_match__cleaned_now"  # a temporary table: the keys cleaned in this build


def hashed_sql(columns: list[str]) -> str:
    """SQL for a 64-bit hash of the columns' values, as text: DuckDB's hash(), which the
    PostgreSQL warehouse writes as hashtextextended over each value after its length ('-' for
    null), so no two rows of different values give one text. md5 over the same text cost 1-2.5 s
    per 1.78M rows at 1M persons; a hash is only compared with hashes the same engine made."""
    return f"cast(hash({', '.join(columns)}) as varchar)"


# A record's cleaned values in one text (what incremental matching's fingerprint takes from the
# cleaning: a new cleaning code or country alias re-scores only the records whose values moved).
CLEANED_HASH = hashed_sql(CLEANED_COLUMNS)


def rebuilt(session: Session, full_refresh: bool) -> bool:
    """True when this build cleans every record and replaces the table: a full refresh (also
    the way out of a kept cleaning gone wrong), no table yet, or a table of another shape (an
    older release's: the table is a cache, rebuilt rather than migrated)."""
    if full_refresh or not session.table_exists(CLEANED):
        return True
    return [c for c, _ in session.columns(CLEANED)] != list(TABLES[CLEANED].columns)


def _input_hash(alias: str) -> str:
    """SQL for the hash of $cleaning_key (prepare.cleaning_key()) and the record's FIELDS, a
    missing field as empty text (it cleans the same), in the dialect both warehouses share
    (hashed_sql)."""
    return hashed_sql(["$cleaning_key", *(f"coalesce({alias}.{f}, '')" for f in FIELDS)])


def _live(alias: str = "n") -> str:
    return f"int_identity_nodes as {alias} where {alias}.is_live"


def to_clean(session: Session, key: str, rebuild: bool) -> pa.Table:
    """The raw fields and input hash (FIELDS, input_hash) of the live records to clean: those
    with no kept row of the same input hash, or every one when `rebuild` (rebuilt()). The kept
    cleaning of the others stays in the warehouse (records.py reads it there)."""
    hashed = f"select n.*, {_input_hash('n')} as input_hash from {_live()}"
    unmatched = (
        ""
        if rebuild
        else f" where not exists (select 1 from {CLEANED} as c "
        "where c.source_key = n.source_key and c.input_hash = n.input_hash)"
    )
    return session.fetch_arrow(
        f"select {', '.join(FIELDS)}, input_hash from ({hashed}) as n{unmatched}", {"cleaning_key": key}
    )


def write(session: Session, fresh: pa.Table, rebuild: bool) -> list[str] | None:
    """Adds the records cleaned in this build (`fresh`: clean_records() with input_hash) and
    drops the kept rows of records gone, changed or cleaned under another key; replaces the
    whole table when `rebuild`. Returns the keys whose row was added or dropped (what
    records.build() compares again), None when the table was replaced."""
    if rebuild:
        session.execute(f"drop table if exists {CLEANED}")
    create(session, CLEANED)
    moved = None
    if not rebuild:
        keys = fresh["unique_id"].to_pylist()
        # to_clean() gave every live record whose kept row did not match: their old rows go, and
        # the rows of records no longer live; every other kept row matched (no hashing again).
        session.temporary_table(_NOW, pd.DataFrame({"source_key": keys}, dtype=object))
        gone = (
            f"c.source_key in (select source_key from {_NOW}) "
            f"or not exists (select 1 from {_live()} and n.source_key = c.source_key)"
        )
        # Read, then deleted (not DELETE ... RETURNING, which Spark has not).
        dropped = session.fetchall(f"select c.source_key from {CLEANED} as c where {gone}")
        session.execute(f"delete from {CLEANED} as c where {gone}")
        session.execute(f"drop table {_NOW}")
        moved = sorted({*keys, *(key for (key,) in dropped)})
    if fresh.num_rows:
        session.insert_from_local_query(
            CLEANED,
            ["source_key", *KEPT],
            f"select unique_id, input_hash, {', '.join(CLEANED_COLUMNS)}, {CLEANED_HASH} from rows",
            frames={"rows": fresh},
        )
    return moved
