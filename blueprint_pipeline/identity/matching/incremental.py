"""Incremental person matching (docs/identity.md#incremental-matching): a build scores only the
pairs that touch a new or changed record, keeps the previous build's scored pairs of the others,
and re-scores everything when the model version, the review floor or the settings change, or on a
full refresh. The model is kept until the records drift from those it was trained on.

What a build leaves for the next one (three tables, rewritten by each build):
- `person_match_scored_records`: one row per record scored, with the fingerprint of its cleaned
  comparison columns and the fingerprint it had when the model in use was trained (null for a
  record the model never saw, or a frozen model);
- `person_match_scored_pairs`: every pair Splink scored at or above the review floor, before the
  deterministic components and the decisions are applied (those can change without a record
  changing: a CRM merge, a new decision);
- `person_match_scoring`: one row saying how this build scored (model, floor, mode and why).
Pure pandas and Splink; the Dagster asset reads and writes the tables.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

import pandas as pd

from blueprint_pipeline.config.identity import PersonMatchingPolicy
from blueprint_pipeline.identity.matching.blocking import BLOCK_COLUMNS
from blueprint_pipeline.identity.matching.model import settings
from blueprint_pipeline.identity.matching.score import RAW_COLUMNS, empty_raw
from blueprint_pipeline.identity.tables import hashed_rows, isin, lookup, text_array

SCORED_RECORDS = "person_match_scored_records"
SCORED_PAIRS = "person_match_scored_pairs"
SCORING = "person_match_scoring"
RECORD_STATE_COLUMNS = ["source_key", "fingerprint", "trained_fingerprint"]
TOUCHED = "touched"  # the column marking new and changed records in an incremental scoring


def fingerprints(records: pd.DataFrame) -> pd.Series:
    """unique_id -> 16 hex digits that change when anything the model compares of the record
    changes: its cleaned values (cleaned_hash), a shared mailbox or a personal domain left out
    (email, work_domain), or a blocking key (which other records move: a key crossing the cap).
    A record whose fingerprint changed is scored again."""
    parts = [text_array(records[c]) for c in ("cleaned_hash", "email", "work_domain", *BLOCK_COLUMNS)]
    return pd.Series(hashed_rows(parts), index=records["unique_id"].to_numpy(), dtype=object)


def training_key(policy: PersonMatchingPolicy) -> str:
    """What a trained model depends on besides the data: the code's comparisons and blocking
    rules, the seed and u's sample size. A model trained under another key is not reused."""
    shape = json.dumps(settings().get_settings("duckdb").as_dict(), sort_keys=True, default=str)
    text = f"{shape}|{policy.seed}|{policy.max_pairs_for_u}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Previous:
    """What the last build left (empty frames and None on a first build)."""

    records: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=RECORD_STATE_COLUMNS))
    pairs: pd.DataFrame = field(default_factory=empty_raw)
    scoring: dict | None = None  # the row of person_match_scoring
    model: dict | None = None  # the model it scored with, from person_match_models
    model_records: int = 0  # how many records that model was trained on


def drift(prints: pd.Series, previous: Previous) -> float:
    """Share of the records the model was trained on that are new, changed or gone since."""
    trained = lookup(_keys(prints), previous.records.set_index("source_key")["trained_fingerprint"])
    moved = int((trained.isna() | (trained.to_numpy() != prints.to_numpy())).sum())
    gone = max(previous.model_records - int(trained.notna().sum()), 0)
    return (moved + gone) / max(previous.model_records, 1)


def _keys(prints: pd.Series) -> pd.Series:
    return pd.Series(prints.index, index=prints.index, dtype=object)


def reusable(previous: Previous, policy: PersonMatchingPolicy, prints: pd.Series, full_refresh: bool) -> str:
    """Why the last trained model cannot be reused ('' when it can): the retraining policy
    (docs/identity.md)."""
    scoring = previous.scoring
    if full_refresh:
        return "full refresh"
    if scoring is None or previous.model is None or scoring["origin"] == "model_file":
        return "no trained model yet"
    if scoring["trained_with"] != training_key(policy):
        return "settings, seed or sample size changed"
    moved = drift(prints, previous)
    if moved > policy.retrain_share:
        share = f"retrain_share {policy.retrain_share:.0%}"
        return f"{moved:.1%} of the records new, changed or gone since training ({share})"
    return ""


@dataclass(frozen=True)
class Plan:
    mode: str  # full, incremental or off
    reason: str
    touched: set[str]  # incremental: the new and changed records
    kept: pd.DataFrame  # incremental: the previous pairs between unchanged records (RAW_COLUMNS)
    records_new: int
    records_changed: int
    records_gone: int


def plan(
    prints: pd.Series,
    previous: Previous,
    model_version: str,
    policy: PersonMatchingPolicy,
    full_refresh: bool,
) -> Plan:
    """Full or incremental scoring, and what an incremental one keeps and re-scores."""
    before = previous.records.set_index("source_key")["fingerprint"]
    known = lookup(_keys(prints), before)
    new = set(prints.index[known.isna().to_numpy()])
    changed = set(prints.index[(known.notna() & (known.to_numpy() != prints.to_numpy())).to_numpy()])
    gone = set(before.index[~isin(pd.Series(before.index, dtype=object), prints.index).to_numpy()])
    counts = dict(records_new=len(new), records_changed=len(changed), records_gone=len(gone))
    scoring = previous.scoring
    reason = (
        "matching switched off"
        if not policy.enabled
        else "full refresh"
        if full_refresh
        else "first scoring"
        if scoring is None or scoring["mode"] == "off"
        else f"model {scoring['model_version']} -> {model_version}"
        if scoring["model_version"] != model_version
        else f"review floor {scoring['review_floor']} -> {policy.review_floor}"
        if float(scoring["review_floor"]) != policy.review_floor
        else ""
    )
    if reason:
        mode = "off" if not policy.enabled else "full"
        return Plan(mode, reason, set(), empty_raw(), **counts)
    touched = new | changed
    out = touched | gone
    pairs = previous.pairs
    keep = ~(isin(pairs["source_key"], out) | isin(pairs["other_key"], out))
    kept = pairs[keep.to_numpy()].reset_index(drop=True)
    why = f"{len(new):,} new, {len(changed):,} changed, {len(gone):,} gone records"
    return Plan("incremental", why, touched, kept, **counts)


def touching(model: dict, records: pd.DataFrame, touched: set[str]) -> tuple[dict, pd.DataFrame]:
    """The model with each blocking rule restricted to pairs with a touched record, and the
    records marked. Each rule becomes two, one per side, so that DuckDB filters the touched side
    before the join (10k new records against 1M are joined, not 1M against 1M); the pairs, their
    comparisons and the term frequencies (computed over every record) are the full scoring's."""
    rules = []
    for rule in model["blocking_rules_to_generate_predictions"]:
        sql = rule["blocking_rule"] if isinstance(rule, dict) else rule
        rules += [f"({sql}) and l.{TOUCHED}", f"({sql}) and r.{TOUCHED}"]
    restricted = {**model, "blocking_rules_to_generate_predictions": rules}
    marked = records.assign(**{TOUCHED: isin(records["unique_id"], touched).to_numpy()})
    return restricted, marked


def merged_pairs(kept: pd.DataFrame, fresh: pd.DataFrame) -> pd.DataFrame:
    """The kept and the newly scored pairs, in key order (RAW_COLUMNS)."""
    frames = [f for f in (kept, fresh) if len(f)]
    if not frames:
        return empty_raw()
    out = pd.concat(frames, ignore_index=True)[RAW_COLUMNS]
    return out.sort_values(["source_key", "other_key"], ignore_index=True)


def record_state(prints: pd.Series, previous: Previous, trained_now: bool, frozen: bool) -> pd.DataFrame:
    """person_match_scored_records for this build: the fingerprints, and the ones the model in use
    was trained on (this build's when it trained; carried over when it reused the model)."""
    if trained_now:
        trained = prints.to_numpy()
    elif frozen:
        trained = [None] * len(prints)
    else:
        carried = lookup(_keys(prints), previous.records.set_index("source_key")["trained_fingerprint"])
        trained = carried.astype(object).where(carried.notna(), None).to_numpy()
    return pd.DataFrame(
        {
            "source_key": prints.index.astype(str),
            "fingerprint": prints.to_numpy(),
            "trained_fingerprint": trained,
        },
        dtype=object,
    )
