"""Incremental person matching (docs/identity.md#incremental-matching): a build scores only the
pairs that touch a new or changed record, keeps the previous build's scored pairs of the others,
and re-scores everything when the model version, the review floor or the settings change, or on a
full refresh. The model is kept until the records drift from those it was trained on.

What a build leaves for the next one (three tables, rewritten by each build):
- `person_match_scored_records`: one row per record scored, with the fingerprint of its cleaned
  comparison columns and the fingerprint it had when the model in use was trained (null for a
  record the model never saw, or a frozen model); compared and written in the warehouse (state.py);
- `person_match_scored_pairs`: every pair Splink scored at or above the review floor, before the
  deterministic components and the decisions are applied (those can change without a record
  changing: a CRM merge, a new decision); kept and sorted in the warehouse (pairs.py);
- `person_match_scoring`: one row saying how this build scored (model, floor, mode and why).
Pure pandas and Splink; the Dagster asset reads and writes the tables.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

import pandas as pd

from blueprint_pipeline.config.identity import PersonMatchingPolicy
from blueprint_pipeline.identity.matching.model import settings

SCORED_RECORDS = "person_match_scored_records"
SCORED_PAIRS = "person_match_scored_pairs"
SCORING = "person_match_scoring"
RECORD_STATE_COLUMNS = ["source_key", "fingerprint", "trained_fingerprint"]
TOUCHED = "touched"  # the column marking new and changed records in an incremental scoring


def fingerprints(records: pd.DataFrame) -> pd.Series:
    """unique_id -> the record's fingerprint (records.py computes it with the record): a hash of
    what the model compares of the record: its cleaned values (cleaned_hash), a shared mailbox or
    a personal domain left out (email, work_domain), and its blocking keys (which other records
    move: a key crossing the cap). A record whose fingerprint changed is scored again."""
    return pd.Series(records["fingerprint"].to_numpy(), index=records["unique_id"].to_numpy(), dtype=object)


# How u's records are drawn (model.u_sample_sql): a release that draws them otherwise retrains.
U_SAMPLING = "md5-of-id-2026-12-07"


def training_key(policy: PersonMatchingPolicy) -> str:
    """What a trained model depends on besides the data: the code's comparisons and blocking
    rules, the seed, u's sample size and how it is drawn (U_SAMPLING). A model trained under
    another key is not reused."""
    shape = json.dumps(settings().get_settings("duckdb").as_dict(), sort_keys=True, default=str)
    text = f"{shape}|{policy.seed}|{policy.max_pairs_for_u}|{U_SAMPLING}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Known:
    """How this build's fingerprints compare with those the last build kept (state.compare)."""

    new: set[str] = field(default_factory=set)  # records with no kept fingerprint
    changed: set[str] = field(default_factory=set)  # records whose fingerprint differs
    gone: set[str] = field(default_factory=set)  # kept records no longer here
    moved_since_training: int = 0  # records here whose trained fingerprint is missing or differs
    trained_here: int = 0  # records here with a trained fingerprint


@dataclass(frozen=True)
class Previous:
    """What the last build left (an empty Known and None on a first build)."""

    known: Known = field(default_factory=Known)
    scoring: dict | None = None  # the row of person_match_scoring
    model: dict | None = None  # the model it scored with, from person_match_models
    model_records: int = 0  # how many records that model was trained on


def drift(previous: Previous) -> float:
    """Share of the records the model was trained on that are new, changed or gone since."""
    known = previous.known
    gone = max(previous.model_records - known.trained_here, 0)
    return (known.moved_since_training + gone) / max(previous.model_records, 1)


def reusable(previous: Previous, policy: PersonMatchingPolicy, full_refresh: bool) -> str:
    """Why the last trained model cannot be reused ('' when it can): the retraining policy
    (docs/identity.md)."""
    scoring = previous.scoring
    if full_refresh:
        return "full refresh"
    if scoring is None or previous.model is None or scoring["origin"] == "model_file":
        return "no trained model yet"
    if scoring["trained_with"] != training_key(policy):
        return "settings, seed or sample size changed"
    moved = drift(previous)
    if moved > policy.retrain_share:
        share = f"retrain_share {policy.retrain_share:.0%}"
        return f"{moved:.1%} of the records new, changed or gone since training ({share})"
    return ""


@dataclass(frozen=True)
class Plan:
    mode: str  # full, incremental or off
    reason: str
    touched: set[str]  # incremental: the new and changed records
    out: set[str] | None  # incremental: the records whose last pairs go (touched and gone); full: None
    records_new: int
    records_changed: int
    records_gone: int


MOST_RECORDS_TOUCHED = 0.5  # past this share of new and changed records, one full scoring is cheaper


def plan(
    previous: Previous,
    model_version: str,
    policy: PersonMatchingPolicy,
    full_refresh: bool,
    live: int,
) -> Plan:
    """Full or incremental scoring, and what an incremental one re-scores and drops; `live`:
    how many records there are now."""
    new, changed, gone = previous.known.new, previous.known.changed, previous.known.gone
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
        else f"{len(new | changed):,} of {live:,} records new or changed"
        if len(new | changed) > MOST_RECORDS_TOUCHED * live
        else ""
    )
    if reason:
        mode = "off" if not policy.enabled else "full"
        return Plan(mode, reason, set(), None, **counts)
    touched = new | changed
    why = f"{len(new):,} new, {len(changed):,} changed, {len(gone):,} gone records"
    return Plan("incremental", why, touched, touched | gone, **counts)


def restricted(model: dict) -> dict:
    """The model with each blocking rule restricted to pairs with a touched record (the bool
    column TOUCHED, records.read_near()). Each rule becomes two, one per side, so that DuckDB
    filters the touched side before the join (10k new records against 1M are joined, not 1M
    against 1M); the pairs and their comparisons are the full scoring's. Splink is given only the
    records these rules can pair, with every record's term frequencies (neighbourhood.py)."""
    rules = []
    for rule in model["blocking_rules_to_generate_predictions"]:
        sql = rule["blocking_rule"] if isinstance(rule, dict) else rule
        rules += [f"({sql}) and l.{TOUCHED}", f"({sql}) and r.{TOUCHED}"]
    return {**model, "blocking_rules_to_generate_predictions": rules}
