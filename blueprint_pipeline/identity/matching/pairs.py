"""The scored pairs stay in the warehouse (docs/identity.md#incremental-matching): a build drops the
kept pairs of its new, changed and gone records and adds the pairs it scored, then sorts every
pair into its outcome by SQL: the thresholds, the deterministic components (a pair they already
join is not an edge) and the reviewers' decisions (they win). At 1M persons ~1M kept pairs, with
their waterfalls, never travel to pandas and back on a build that scored 20k.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from blueprint_pipeline.config.identity import PersonMatchingPolicy
from blueprint_pipeline.identity.matching.incremental import SCORED_PAIRS
from blueprint_pipeline.identity.matching.score import (
    RAW_COLUMNS,
    RAW_TYPES,
    Scored,
    review_of,
    review_sql,
    sql_text,
)
from blueprint_pipeline.warehouse import Session

MATCH_PAIRS = "int_identity_match_pairs"
_GONE = "person_match__out"  # temporary tables of this module
_DECIDED = "person_match__decided"


def keep(session: Session, fresh: Path, out: set[str] | None) -> int:
    """SCORED_PAIRS for this build, and how many of the last build's pairs it kept: replaced by
    the pairs of the Parquet file `fresh` (score.scored_pairs(), RAW_COLUMNS) when `out` is None
    (a full scoring); else the pairs with a record in `out` (new, changed or gone) dropped and
    `fresh`'s added. The file is read where the warehouse's rows are loaded (an embedded DuckDB on
    PostgreSQL, in batches): the pairs are never held by Python all at once."""
    kept = 0
    if out is None or not session.table_exists(SCORED_PAIRS):
        session.execute(f"drop table if exists {SCORED_PAIRS}")
        session.execute(
            f"create table {SCORED_PAIRS} ({', '.join(f'{c} {t}' for c, t in RAW_TYPES.items())})"
        )
    else:
        session.temporary_table(_GONE, pd.DataFrame({"source_key": sorted(out)}, dtype=object))
        session.execute(
            f"delete from {SCORED_PAIRS} where source_key in (select source_key from {_GONE}) "
            f"or other_key in (select source_key from {_GONE})"
        )
        session.execute(f"drop table {_GONE}")
        kept = int(session.scalar(f"select count(*) from {SCORED_PAIRS}") or 0)
    session.insert_from_local_query(
        SCORED_PAIRS,
        RAW_COLUMNS,
        f"select {', '.join(RAW_COLUMNS)} from read_parquet({sql_text(str(fresh))})",
    )
    return kept


def sort_out(
    session: Session,
    records: str,
    components: str,
    model_version: str,
    policy: PersonMatchingPolicy,
    decisions: pd.DataFrame,
    cause: str,
    apart_sql: str | None = None,
) -> Scored:
    """MATCH_PAIRS from SCORED_PAIRS (all of them: kept and new), and the review band.
    `records`: the table of the compared records (records.py); `components`: the table of
    source_key -> component_key of the deterministic graph (every node); `decisions`:
    read_person_decisions().frame; `cause`: what the model's pairs owe their outcome to this
    build (`records`, or `model <version>` when the version is new to the clustering).
    Outcome: `match` at or above the merge threshold, else `review` (the floor was applied when
    scoring); a decided pair is `same` or `different` whatever its score, and its cause is
    `decision`. `apart_sql`: SQL of the scored pairs the components leave apart, when known
    without reading every pair (components.pairs_apart_sql())."""
    # A decision counts when both its records are live (a node of the graph).
    session.temporary_table(
        _DECIDED, decisions[["source_key", "other_key", "decision", "decided_by"]].astype(object)
    )
    session.execute(
        f"delete from {_DECIDED} as d where not exists (select 1 from {components} as c "
        "where c.source_key = d.source_key) or not exists (select 1 from "
        f"{components} as c where c.source_key = d.other_key)"
    )
    decided = int(session.scalar(f"select count(*) from {_DECIDED}") or 0)
    apart = apart_sql or (
        f"select p.* from {SCORED_PAIRS} as p "
        f"left join {components} as a on a.source_key = p.source_key "
        f"left join {components} as b on b.source_key = p.other_key "
        "where a.component_key is null or b.component_key is null or a.component_key <> b.component_key"
    )
    session.execute(f"drop table if exists {MATCH_PAIRS}")
    session.execute(
        f"""
        create table {MATCH_PAIRS} as
        with scored as ({apart})
        select
            coalesce(s.source_key, d.source_key) as source_key,
            coalesce(s.other_key, d.other_key) as other_key,
            s.match_weight, s.match_probability,
            coalesce(d.decision, case when s.match_probability >= $merge then 'match' else 'review' end)
                as outcome,
            s.contributions, cast($version as varchar) as model_version, d.decided_by,
            case when d.decision is not null then 'decision' else cast($cause as varchar) end as cause
        from scored as s full outer join {_DECIDED} as d
            on d.source_key = s.source_key and d.other_key = s.other_key
        """,
        {"merge": policy.merge_threshold, "version": model_version, "cause": cause},
    )
    scored = int(session.scalar(f"select count(*) from {SCORED_PAIRS}") or 0)
    # The pairs the components left (decided or not): every other scored pair was already joined.
    left = int(session.scalar(f"select count(*) from {MATCH_PAIRS} where match_weight is not null") or 0)
    counts = dict(session.fetchall(f"select outcome, count(*) from {MATCH_PAIRS} group by outcome"))
    band = session.fetch_df(review_sql(MATCH_PAIRS, records))
    session.execute(f"drop table {_DECIDED}")
    stats = {
        "pairs_scored": scored,
        "pairs_already_one_person": scored - left,
        "pairs_matched": int(counts.get("match", 0)),
        "pairs_to_review": int(counts.get("review", 0)),
        "pairs_decided_same": int(counts.get("same", 0)),
        "pairs_decided_different": int(counts.get("different", 0)),
        "decisions_matching_no_record": len(decisions) - decided,
    }
    rows = int(session.scalar(f"select count(*) from {MATCH_PAIRS}") or 0)
    return Scored(rows, review_of(band), stats)
