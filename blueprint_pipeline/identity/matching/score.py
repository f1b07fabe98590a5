"""Scores record pairs with a Splink model and sorts them by the thresholds and the decisions.

Pairs the deterministic edges already join (one component) are not scored again. Each scored
pair keeps its match weight, its match probability and the waterfall: the prior's weight and each
comparison's level and weight (term-frequency adjustment included), what Splink's waterfall chart
draws. Outcome: `match` at or above the merge threshold, `review` from the review floor, dropped
below it; a decided pair is `same` or `different` whatever its score (decisions win).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from blueprint_pipeline.identity.matching.model import (
    COMPARISON_COLUMNS,
    Records,
    quiet,
    splink_duckdb,
    workspace,
)
from blueprint_pipeline.identity.tables import typed
from blueprint_pipeline.warehouse.base import sql_text

# Splink's scored pairs as they come, before the deterministic components and the decisions,
# with their warehouse types.
RAW_TYPES = {
    "source_key": "varchar",
    "other_key": "varchar",
    "match_weight": "double",
    "match_probability": "double",
    "contributions": "varchar",
}
RAW_COLUMNS = list(RAW_TYPES)
PAIR_COLUMNS = [
    "source_key",
    "other_key",
    "match_weight",
    "match_probability",
    "outcome",
    "contributions",
    "model_version",
    "decided_by",
    "cause",  # what the pair owes its outcome to: records, model <version> or decision
]
PAIR_TYPES = {"match_weight": "float64", "match_probability": "float64"}
SHOWN = ("first_name", "last_name", "email", "phone", "company", "city", "country", "title")
REVIEW_COLUMNS = [
    "source_key",
    "other_key",
    "match_weight",
    "match_probability",
    "contributions",
    "model_version",
    *[f"{f}_{side}" for f in SHOWN for side in ("l", "r")],
]


def level_labels(model: dict) -> dict[str, dict[int, str]]:
    """Per comparison, gamma value -> the level's label (Splink numbers non-null levels from the
    weakest, 0, upwards; the null level is -1)."""
    out = {}
    for comparison in model["comparisons"]:
        levels = comparison["comparison_levels"]
        plain = [lv for lv in levels if not lv.get("is_null_level")]
        labels = {
            len(plain) - 1 - i: lv.get("label_for_charts", lv["sql_condition"]) for i, lv in enumerate(plain)
        }
        labels[-1] = "missing on a side"
        out[comparison["output_column_name"]] = labels
    return out


def _contributions_sql(columns: set[str], labels: dict[str, dict[int, str]], prior: float) -> str:
    """Per pair, Splink's waterfall as JSON text, built by the engine that holds the pairs (a
    million pairs at 1M persons: no row goes through Python): the prior, then each comparison's
    level and weight (term-frequency adjustment included), rounded to 3 decimals half to even as
    Python's round, in the text json.dumps writes (a level the model has no label for: null)."""
    head = {"comparison": "prior", "level": "two random records", "match_weight": round(prior, 3)}
    parts = [sql_text(json.dumps(head))]
    for name in COMPARISON_COLUMNS:
        weight = f"mw_{name}" + (
            f" + coalesce(mw_tf_adj_{name}, 0)" if f"mw_tf_adj_{name}" in columns else ""
        )
        level = " ".join(
            f"when {gamma} then {sql_text(json.dumps(label))}" for gamma, label in labels[name].items()
        )
        rounded = f"cast(round_even(cast({weight} as double), 3) as varchar)"
        parts.append(
            f"""'{{"comparison": {json.dumps(name)}, "level": ' """
            f"""|| (case gamma_{name} {level} else 'null' end) || ', "match_weight": ' || {rounded} || '}}'"""
        )
    return "'[' || " + " || ', ' || ".join(parts) + " || ']'"


@dataclass(frozen=True)
class Scored:
    rows: int  # of int_identity_match_pairs (PAIR_COLUMNS): matches, review-band and decided pairs
    review: pd.DataFrame  # REVIEW_COLUMNS: the review band, undecided, strongest first
    stats: dict[str, int]


def predict(records: Records, model: dict, floor: float) -> pd.DataFrame:
    """Splink's scored pairs at or above `floor`, smaller key on the left."""
    if len(records) < 2:
        return pd.DataFrame()
    with quiet(), workspace(records) as work:
        frame = work.linker(model).inference.predict(threshold_match_probability=floor).as_pandas_dataframe()
    swap = frame["unique_id_l"] > frame["unique_id_r"]
    for column in [c[:-2] for c in frame.columns if c.endswith("_l")]:
        left, right = frame[f"{column}_l"].copy(), frame[f"{column}_r"].copy()
        frame[f"{column}_l"] = left.where(~swap, right)
        frame[f"{column}_r"] = right.where(~swap, left)
    return frame


def _rounded(column: str, digits: int) -> str:
    """numpy's round(x, digits) in DuckDB's SQL (scale, round half to even, unscale): the same
    double, ties included (DuckDB's round_even(x, digits) differs from it on ties)."""
    scale = f"{10**digits}.0"
    return f"round_even({column} * {scale}, 0) / {scale}"


_NO_PAIRS = "select " + ", ".join(f"cast(null as {t}) as {c}" for c, t in RAW_TYPES.items()) + " where false"


def scored_pairs(
    records: Records,
    model: dict,
    floor: float,
    into: Path,
    term_frequencies: dict[str, pd.DataFrame] | None = None,
) -> int:
    """Writes Splink's pairs of `records` at or above `floor` (RAW_COLUMNS, each comparison's
    contribution in the waterfall text, in key order) to the Parquet file `into`, and returns
    how many; `term_frequencies`: lookups of more records than these (neighbourhood.py). The
    pairs go from Splink's DuckDB to the file and from the file to the warehouse (pairs.keep):
    at 1M persons ~1M pairs with their waterfall text, which as a pandas frame held ~1.6 GB at
    the matching step's peak (docs/benchmarks.md), are never held by Python all at once."""
    if len(records) < 2:
        with splink_duckdb() as connection:
            return _written(connection, _NO_PAIRS, into)
    p = model["probability_two_random_records_match"]
    prior = math.log2(p / (1 - p))
    with quiet(), workspace(records) as work:
        found = work.linker(model, term_frequencies=term_frequencies).inference.predict(
            threshold_match_probability=floor
        )
        with work.pairs(found) as (connection, table):
            columns = {c[0] for c in connection.execute(f"select * from {table} limit 0").description}
            query = f"""
                select least(unique_id_l, unique_id_r) as source_key,
                    greatest(unique_id_l, unique_id_r) as other_key,
                    {_rounded("match_weight", 4)} as match_weight,
                    {_rounded("match_probability", 6)} as match_probability,
                    {_contributions_sql(columns, level_labels(model), prior)} as contributions
                from {table}
                order by source_key, other_key"""
            return _written(connection, query, into)


def _written(connection, query: str, into: Path) -> int:
    """`query`'s rows written to the Parquet file `into`: how many."""
    connection.execute(f"copy ({query}) to {sql_text(str(into))} (format parquet)")
    return int(connection.execute(f"select count(*) from read_parquet({sql_text(str(into))})").fetchone()[0])


def review_sql(pairs: str, records: str) -> str:
    """The review band of table `pairs` (int_identity_match_pairs: undecided pairs between the
    floor and the merge threshold) with both records' values from table `records` beside the
    weights: REVIEW_COLUMNS."""
    sides = ", ".join(f"{side}.{f} as {f}_{side}" for f in SHOWN for side in ("l", "r"))
    return (
        "select p.source_key, p.other_key, p.match_weight, p.match_probability, p.contributions, "
        f"p.model_version, {sides} from {pairs} as p "
        f"left join {records} as l on l.unique_id = p.source_key "
        f"left join {records} as r on r.unique_id = p.other_key where p.outcome = 'review'"
    )


def review_of(band: pd.DataFrame) -> pd.DataFrame:
    """review_sql()'s rows, strongest first."""
    out = band.sort_values(["match_probability", "source_key", "other_key"], ascending=[False, True, True])
    return typed(out[REVIEW_COLUMNS].reset_index(drop=True), PAIR_TYPES)
