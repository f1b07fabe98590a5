"""Cleaned records kept between builds (docs/identity.md#incremental-matching): a build cleans only
the live records that are new or whose fields changed, and reads the others' cleaning from
`person_match_cleaned_records`, which the person-matching step rewrites for the changed ones.

Each kept row carries `input_hash`: the md5 of the record's raw fields (as int_identity_nodes holds
them) and of the cleaning key, which names everything else the cleaning reads: the seed
`country_names` and the code and package versions that clean (names, nicknames, phones, company
names, titles). A changed field, a new country alias or a new release therefore cleans the
record again; what depends on other records (shared mailboxes, personal domains, the blocking
keys) is applied after, to every record, by prepare.finish(). The hash is computed by the
warehouse (both engines' md5 of the same text), so unchanged records never leave it as raw fields.
"""

from __future__ import annotations

import pandas as pd

from blueprint_pipeline.identity.matching import prepare
from blueprint_pipeline.identity.matching.prepare import FIELDS, LIST_SEPARATOR
from blueprint_pipeline.warehouse import Session
from blueprint_pipeline.warehouse.stateful import TABLES, create

CLEANED = "person_match_cleaned_records"
KEPT = ["input_hash", *prepare.CLEANED_COLUMNS, "cleaned_hash"]  # the columns read back
_NOW = "person_match__cleaned_now"  # a temporary table: the keys cleaned in this build


def rebuilt(session: Session, full_refresh: bool) -> bool:
    """True when this build cleans every record and replaces the table: a full refresh (also
    the way out of a kept cleaning gone wrong), no table yet, or a table of another shape (an
    older release's: the table is a cache, rebuilt rather than migrated)."""
    if full_refresh or not session.table_exists(CLEANED):
        return True
    return [c for c, _ in session.columns(CLEANED)] != list(TABLES[CLEANED].columns)


def _input_hash(alias: str) -> str:
    """SQL for the md5 of $cleaning_key (prepare.cleaning_key()) and the record's FIELDS, each
    with its length before it (so no two different rows give the same text) and a missing field
    as empty text (it cleans the same), in the dialect both warehouses share."""
    parts = [
        f"cast(length(coalesce({alias}.{f}, '')) as varchar) || ':' || coalesce({alias}.{f}, '')"
        for f in FIELDS
    ]
    return "md5(" + " || '|' || ".join(["$cleaning_key", *parts]) + ")"


def _live(alias: str = "n") -> str:
    return f"int_identity_nodes as {alias} where {alias}.is_live"


def read(session: Session, key: str, rebuild: bool) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(kept, to_clean): the kept cleaning of the live records whose fields and key are
    unchanged (unique_id and KEPT, forms as lists), and the raw fields and input hash of the
    others (FIELDS, input_hash); every record is to clean when `rebuild` (rebuilt()). One pass:
    each record is hashed once and joined to its kept row, if any."""
    params = {"cleaning_key": key}
    hashed = f"select n.*, {_input_hash('n')} as input_hash from {_live()}"
    if rebuild:
        to_clean = session.fetch_text_frame(
            f"select {', '.join(FIELDS)}, input_hash from ({hashed}) as n", params
        )
        return _empty_kept(), to_clean
    raw = ", ".join(f"case when c.source_key is null then n.{f} end as raw_{f}" for f in FIELDS[1:])
    kept_columns = ", ".join(f"c.{c}" for c in KEPT[1:])
    both = session.fetch_text_frame(
        f"select n.source_key, n.input_hash, c.source_key is not null as is_kept, {raw}, {kept_columns} "
        f"from ({hashed}) as n left join {CLEANED} as c "
        "on c.source_key = n.source_key and c.input_hash = n.input_hash",
        params,
    )
    is_kept = both["is_kept"].to_numpy(dtype=bool)
    kept = both.loc[is_kept, ["source_key", *KEPT]]
    to_clean = both.loc[~is_kept, ["source_key", *(f"raw_{f}" for f in FIELDS[1:]), "input_hash"]]
    to_clean = to_clean.rename(columns=lambda c: c.removeprefix("raw_")).reset_index(drop=True)
    return _from_table(kept.rename(columns={"source_key": "unique_id"}).reset_index(drop=True)), to_clean


def _empty_kept() -> pd.DataFrame:
    return pd.DataFrame(columns=["unique_id", *KEPT], dtype=object)


def _from_table(kept: pd.DataFrame) -> pd.DataFrame:
    """The warehouse's text as prepare's frame holds it: None for missing, forms as lists (one
    list per distinct text: a first name's forms are read, never changed)."""
    # Text read back is already None where missing (Arrow and PostgreSQL alike): only a column
    # read in another type is converted (where() over 1.76M records' text took 3 s).
    out = kept.copy()
    for column in [c for c in out.columns if not pd.api.types.is_object_dtype(out[c])]:
        out[column] = out[column].astype(object).where(out[column].notna(), None)
    texts = out["first_name_forms"]
    forms = {t: t.split(LIST_SEPARATOR) for t in texts.dropna().unique()}
    out["first_name_forms"] = [forms[t] if t is not None else None for t in texts.tolist()]
    return out


def _to_table(cleaned: pd.DataFrame) -> pd.DataFrame:
    forms = prepare.forms_text(cleaned["first_name_forms"])
    out = cleaned.rename(columns={"unique_id": "source_key"}).assign(first_name_forms=forms)
    return out[["source_key", *KEPT]].astype(object)


def write(session: Session, fresh: pd.DataFrame, rebuild: bool) -> None:
    """Adds the records cleaned in this build (`fresh`: clean_records() with input_hash) and
    drops the kept rows of records gone, changed or cleaned under another key; replaces the
    whole table when `rebuild`."""
    if rebuild:
        session.execute(f"drop table if exists {CLEANED}")
    create(session, CLEANED)
    rows = _to_table(fresh)
    if not rebuild:
        # read() cleaned every live record whose kept row did not match: their old rows go, and
        # the rows of records no longer live; every other kept row matched (no hashing again).
        session.temporary_table(_NOW, rows[["source_key"]])
        session.execute(
            f"delete from {CLEANED} as c where c.source_key in (select source_key from {_NOW}) "
            f"or not exists (select 1 from {_live()} and n.source_key = c.source_key)"
        )
        session.execute(f"drop table {_NOW}")
    if len(rows):
        session.insert_from_local_query(
            CLEANED, list(rows.columns), "select * from rows", frames={"rows": rows}
        )
