"""The records' fingerprints kept in the warehouse (`person_match_scored_records`, incremental.py):
this build's fingerprints go up once as a temporary table, and the warehouse says which records
are new, changed or gone and how far they drifted from the model's training, then writes the
next state. At 1M persons 1.76M kept fingerprints never come down to pandas.
"""

from __future__ import annotations

import pandas as pd

from blueprint_pipeline.identity.matching.incremental import SCORED_RECORDS, Known
from blueprint_pipeline.warehouse import Session

PRINTS = "person_match__prints"  # a temporary table: this build's fingerprints
_NEXT = "person_match__next_state"


def upload(session: Session, prints: pd.Series) -> None:
    """`prints` (incremental.fingerprints()) into PRINTS, for this session's statements."""
    frame = pd.DataFrame({"source_key": prints.index.astype(str), "fingerprint": prints.to_numpy()})
    session.temporary_table(PRINTS, frame.astype(object))


def _keys(session: Session, sql: str) -> set[str]:
    return set(session.fetch_text_frame(sql)["source_key"])


def compare(session: Session, prints: pd.Series, against_kept: bool) -> Known:
    """How `prints` compare with the kept fingerprints (with none when not `against_kept`: a
    first build, or a state no scoring row vouches for)."""
    if not (against_kept and session.table_exists(SCORED_RECORDS)):
        return Known(new=set(prints.index.astype(str)))
    upload(session, prints)
    joined = f"{PRINTS} as p left join {SCORED_RECORDS} as s on s.source_key = p.source_key"
    moved, trained = session.fetchall(
        "select coalesce(sum(case when s.trained_fingerprint is null "
        "or s.trained_fingerprint <> p.fingerprint then 1 else 0 end), 0), "
        f"count(s.trained_fingerprint) from {joined}"
    )[0]
    known = Known(
        new=_keys(session, f"select p.source_key from {joined} where s.source_key is null"),
        changed=_keys(session, f"select p.source_key from {joined} where s.fingerprint <> p.fingerprint"),
        gone=_keys(
            session,
            f"select s.source_key from {SCORED_RECORDS} as s where not exists "
            f"(select 1 from {PRINTS} as p where p.source_key = s.source_key)",
        ),
        moved_since_training=int(moved),
        trained_here=int(trained),
    )
    session.execute(f"drop table {PRINTS}")
    return known


def write(session: Session, prints: pd.Series, trained_now: bool, frozen: bool, carried: bool) -> None:
    """SCORED_RECORDS for this build: the fingerprints, and the ones the model in use was
    trained on: this build's when it trained, none for a frozen model, else carried over from
    the kept state (when `carried`: a state the last scoring vouches for)."""
    upload(session, prints)
    carry = carried and not (trained_now or frozen) and session.table_exists(SCORED_RECORDS)
    trained = (
        "p.fingerprint" if trained_now else "s.trained_fingerprint" if carry else "cast(null as varchar)"
    )
    kept = f" left join {SCORED_RECORDS} as s on s.source_key = p.source_key" if carry else ""
    session.execute(f"drop table if exists {_NEXT}")
    session.execute(
        f"create temporary table {_NEXT} as select p.source_key, p.fingerprint, "
        f"{trained} as trained_fingerprint from {PRINTS} as p{kept}"
    )
    session.execute(f"drop table if exists {SCORED_RECORDS}")
    session.execute(f"create table {SCORED_RECORDS} as select * from {_NEXT}")
    for name in (_NEXT, PRINTS):
        session.execute(f"drop table {name}")
