"""Which persons' account links a build must work out again (docs/identity.md#incremental-links).

A person's links and review rows depend only on the person's own clues (int_person_account_evidence)
and on what is the same for everyone: the accounts, their aliases, the personal domains, the
reviewers' decisions, the policy and the linking code (links.link() treats each person apart).
`person_account_link_inputs` keeps, per person, a hash of both; a build hashes them again in the
warehouse and links only the persons whose hash is new, changed or gone. A change to what is the
same for everyone changes every hash: every person is linked again.
"""

from __future__ import annotations

import hashlib
import json

import duckdb
import pandas as pd
import pyarrow as pa

from blueprint_pipeline.config.models import AccountLinkPolicy
from blueprint_pipeline.identity import links
from blueprint_pipeline.identity.matching.prepare import module_source
from blueprint_pipeline.identity.tables import hashed_rows, text_array
from blueprint_pipeline.warehouse import Session
from blueprint_pipeline.warehouse.duckdb import DuckDBSession
from blueprint_pipeline.warehouse.stateful import TABLES, create

INPUTS = "person_account_link_inputs"
CHANGED = "person_account_links__changed"  # a temporary table: the persons to link again


def _hashed() -> str:
    """Per person, a hash of $context and the person's clues, whatever order the rows come in:
    the count and the sum of each row's 64-bit hash (an ordered string_agg of 4M clues took 8 s
    at 1M persons, this 0.6 s; PostgreSQL's is hashtextextended, postgres.py). Only compared
    within one warehouse (a DuckDB release that hashes otherwise relinks every person once)."""
    row = "hash(cast($context as varchar), source_key, method, value)"
    digest = f"cast(count(*) as varchar) || ':' || cast(sum({row}) as varchar)"
    return f"select person_id, {digest} as inputs_hash from int_person_account_evidence group by person_id"


def context_key(
    accounts: pd.DataFrame,
    aliases: pd.DataFrame,
    personal: set[str],
    policy: AccountLinkPolicy,
    decisions: pd.DataFrame,
) -> str:
    """A hash of what every person's links read besides the person's clues."""

    def frame_hash(frame: pd.DataFrame) -> str:
        ordered = frame.astype("string").sort_values(list(frame.columns), ignore_index=True)
        rows = hashed_rows([text_array(ordered[c]) for c in ordered.columns]) if len(ordered) else []
        return hashlib.sha256("".join(rows).encode()).hexdigest()

    text = json.dumps(
        [
            frame_hash(accounts),
            frame_hash(aliases),
            sorted(personal),
            policy.model_dump(mode="json"),
            frame_hash(decisions),
            module_source(links),
        ]
    )
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def changed_persons(session: Session, context: str, full: bool) -> int | None:
    """Fills the temporary table CHANGED (person_id, inputs_hash: null for a person with no clue
    any more) and returns its size, or None when every person is to be linked (`full`, or no
    inputs kept yet, or kept in another shape)."""
    kept = session.table_exists(INPUTS) and [c for c, _ in session.columns(INPUTS)] == list(
        TABLES[INPUTS].columns
    )
    if full or not kept:
        return None
    session.execute(f"drop table if exists {CHANGED}")
    session.execute(
        f"create temporary table {CHANGED} as "
        "select coalesce(n.person_id, o.person_id) as person_id, n.inputs_hash "
        f"from ({_hashed()}) as n full outer join {INPUTS} as o on o.person_id = n.person_id "
        "where n.inputs_hash is distinct from o.inputs_hash",
        {"context": context},
    )
    return int(session.scalar(f"select count(*) from {CHANGED}") or 0)


ALL_EVIDENCE = "select person_id, source_key, method, value from int_person_account_evidence"


def link_source(session: Session, sql: str) -> tuple[str | pa.Table, duckdb.DuckDBPyConnection | None]:
    """links.link()'s clues and engine: on DuckDB the query itself and the warehouse's own
    connection, so the clues are joined where they lie, in the warehouse's bounded buffer
    (docs/scaling.md, "What holds memory at large"); on PostgreSQL the query's rows and no
    engine (link() opens an embedded DuckDB)."""
    if isinstance(session, DuckDBSession):
        return sql, session.con
    return session.fetch_arrow(sql), None


CHANGED_EVIDENCE = (
    "select e.person_id, e.source_key, e.method, e.value from int_person_account_evidence as e "
    f"inner join {CHANGED} as c on c.person_id = e.person_id"
)


def replace_changed(session: Session, tables: dict[str, pd.DataFrame]) -> None:
    """The changed persons' rows of each table replaced by `tables`' rows (theirs only), and
    their kept inputs by this build's."""
    persons = f"(select person_id from {CHANGED})"
    for table, rows in tables.items():
        session.execute(f"delete from {table} where person_id in {persons}")
        if len(rows):
            session.insert_from_local_query(table, list(rows.columns), "select * from r", frames={"r": rows})
    session.execute(f"delete from {INPUTS} where person_id in {persons}")
    session.execute(
        f"insert into {INPUTS} select person_id, inputs_hash from {CHANGED} where inputs_hash is not null"
    )
    session.execute(f"drop table {CHANGED}")


def keep_all(session: Session, context: str) -> None:
    """Every person's inputs, after a build that linked every person."""
    session.execute(f"drop table if exists {INPUTS}")
    create(session, INPUTS)
    session.execute(f"insert into {INPUTS} {_hashed()}", {"context": context})
