"""The person-matching model: Splink settings (comparisons, blocking rules), training, and the
model's version.

Comparisons, each a few levels from strongest to weakest (docs/identity.md lists them):
names (exact with term frequencies, swapped first and last, a nickname, Jaro-Winkler on both,
initial and last name, last name only), email (exact, one edit apart, same user part, same work
domain), phone (any of phone and mobile equal, in E.164), company, city, country and title.
Blocking rules decide which pairs are scored at all: each is an equality on a rare-ish key, so the
work grows with the records, not with their square.

Training is deterministic: u by random sampling with a fixed seed, m by expectation maximisation
on two training blocks (same email: trains the names and the rest; same full name: trains email
and the rest), starting from the shipped starting values below. The trained parameters are
rounded (to 6 significant digits, at least 1e-12), so that a float summed in another order by a
parallel engine gives the same model; the version is the hash of that model: the same data gives
the same version.
"""

from __future__ import annotations

import hashlib
import json
import logging
from contextlib import contextmanager
from dataclasses import dataclass

import duckdb
import pandas as pd
import splink.comparison_level_library as cll
import splink.comparison_library as cl
from splink import DuckDBAPI, Linker, SettingsCreator, block_on

COMPARISON_COLUMNS = ("name", "email", "phone", "company", "city", "country", "title")
PREDICTION_BLOCKING_RULES = [
    # A personal address beside a work one (or two personal ones): two work addresses with the
    # same user part are the same address (already an edge) or namesakes at two firms; the user
    # part is the name again, so that block is a name block (10^8 pairs at 1M persons, issue 22 e).
    "l.email_user = r.email_user and (l.work_domain is null or r.work_domain is null)",
    # A name alone is too common a key (whole surnames become one block): with a place or a domain.
    "l.last_name = r.last_name and substr(l.first_name, 1, 1) = substr(r.first_name, 1, 1) "
    "and l.city = r.city",
    "l.last_name = r.last_name and substr(l.first_name, 1, 1) = substr(r.first_name, 1, 1) "
    "and l.work_domain = r.work_domain",
    "l.first_name = r.last_name and l.last_name = r.first_name",
    "l.first_name_canonical = r.first_name_canonical and l.company = r.company",
    "l.last_name = r.last_name and l.company = r.company",
    "l.phone = r.phone",
    "l.mobile = r.mobile",
    "l.phone = r.mobile",
]
# Same full name and company, not the full name alone: a common name's block is quadratic (10^8
# pairs at 1M persons with the generator's names); the email block trains the company.
TRAINING_BLOCKS = ["l.email = r.email", "l.full_name = r.full_name and l.company = r.company"]
DIGITS = 6  # significant digits kept of m and u
MIN_PROBABILITY = 1e-12  # a level never seen among matches (or non-matches)


def _levels(name: str, levels: list) -> cl.CustomComparison:
    return cl.CustomComparison(comparison_levels=levels, output_column_name=name)


def _null(sql: str) -> cll.CustomLevel:
    return cll.CustomLevel(sql, "missing on a side").configure(is_null_level=True)


def _jw(column: str, threshold: float) -> cll.JaroWinklerLevel:
    return cll.JaroWinklerLevel(column, threshold)


def comparisons() -> list[cl.CustomComparison]:
    """The comparisons, each with starting m probabilities (EM refines them)."""

    def m(level, value: float):
        return level.configure(m_probability=value)

    return [
        _levels(
            "name",
            [
                _null(
                    "first_name_l is null or first_name_r is null "
                    "or last_name_l is null or last_name_r is null"
                ),
                m(cll.ExactMatchLevel("full_name").configure(tf_adjustment_column="full_name"), 0.8),
                m(cll.ColumnsReversedLevel("first_name", "last_name", symmetrical=True), 0.02),
                m(
                    cll.CustomLevel(
                        "first_name_canonical_l = first_name_canonical_r and last_name_l = last_name_r",
                        "nickname, same last name",
                    ),
                    0.04,
                ),
                m(cll.And(_jw("first_name", 0.92), _jw("last_name", 0.92)), 0.08),
                m(cll.And(_jw("first_name", 0.88), _jw("last_name", 0.88)), 0.02),
                m(
                    cll.CustomLevel(
                        "last_name_l = last_name_r "
                        "and substr(first_name_l, 1, 1) = substr(first_name_r, 1, 1)",
                        "initial, same last name",
                    ),
                    0.02,
                ),
                m(cll.ExactMatchLevel("last_name"), 0.01),
                m(cll.ElseLevel(), 0.01),
            ],
        ),
        _levels(
            "email",
            [
                cll.NullLevel("email"),
                m(cll.ExactMatchLevel("email"), 0.6),
                m(cll.DamerauLevenshteinLevel("email", 1).configure(label_for_charts="one edit apart"), 0.15),
                # The user part is often the name again (ann.lee@): it counts only when the
                # companies do not differ, else it would count the name twice for two namesakes.
                m(
                    cll.CustomLevel(
                        "email_user_l = email_user_r and (company_l = company_r "
                        "or company_l is null or company_r is null)",
                        "same user part, company not different",
                    ),
                    0.1,
                ),
                m(cll.ExactMatchLevel("work_domain").configure(label_for_charts="same work domain"), 0.1),
                m(cll.ElseLevel(), 0.05),
            ],
        ),
        _levels(
            "phone",
            [
                _null("(phone_l is null and mobile_l is null) or (phone_r is null and mobile_r is null)"),
                m(
                    cll.CustomLevel(
                        "phone_l = phone_r or mobile_l = mobile_r "
                        "or phone_l = mobile_r or mobile_l = phone_r",
                        "same number",
                    ),
                    0.8,
                ),
                m(cll.ElseLevel(), 0.2),
            ],
        ),
        _levels(
            "company",
            [
                cll.NullLevel("company"),
                m(cll.ExactMatchLevel("company"), 0.8),
                m(_jw("company", 0.9), 0.1),
                m(cll.ElseLevel(), 0.1),
            ],
        ),
        _levels(
            "city",
            [cll.NullLevel("city"), m(cll.ExactMatchLevel("city"), 0.9), m(cll.ElseLevel(), 0.1)],
        ),
        _levels(
            "country",
            [cll.NullLevel("country"), m(cll.ExactMatchLevel("country"), 0.95), m(cll.ElseLevel(), 0.05)],
        ),
        _levels(
            "title",
            [
                cll.NullLevel("title"),
                m(cll.ExactMatchLevel("title"), 0.6),
                m(_jw("title", 0.9), 0.1),
                m(cll.ElseLevel(), 0.3),
            ],
        ),
    ]


def settings() -> SettingsCreator:
    return SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="unique_id",
        comparisons=comparisons(),
        blocking_rules_to_generate_predictions=list(PREDICTION_BLOCKING_RULES),
        retain_intermediate_calculation_columns=True,
        retain_matching_columns=True,
        probability_two_random_records_match=0.0001,
        linker_uid="person_match",
    )


@contextmanager
def quiet():
    """Splink logs every step (and warns about defaults) at INFO and WARNING: silenced to errors."""
    logger = logging.getLogger("splink")
    level, propagate = logger.level, logger.propagate
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)
        logger.propagate = propagate


def linker(records: pd.DataFrame, model: dict | SettingsCreator) -> Linker:
    """A Linker over `records` in a new in-memory DuckDB (never the warehouse: docs/decisions.md)."""
    connection = duckdb.connect()
    api = DuckDBAPI(connection)
    table = api.register(records, table_name="person_records")
    return Linker(table, model, log_level=None)  # None: Splink adds no log handler of its own


def significant(value: float) -> float:
    """Six significant digits, never below MIN_PROBABILITY: EM can drive a level's m to 1e-20 or
    0, which rounding to decimals made 0.0, and Splink refuses a model with a zero probability."""
    return max(float(f"{float(value):.{DIGITS}g}"), MIN_PROBABILITY)


def rounded(model: dict) -> dict:
    """The model with m and u rounded and the run-specific parts out: what the version hashes."""
    out = json.loads(json.dumps(model))
    out.pop("linker_uid", None)
    # The prior stays strictly between 0 and 1: Splink takes its log-odds.
    prior = significant(out["probability_two_random_records_match"])
    out["probability_two_random_records_match"] = min(prior, 1 - 1e-9)
    for comparison in out["comparisons"]:
        for level in comparison["comparison_levels"]:
            for key in ("m_probability", "u_probability"):
                if key in level and level[key] is not None:
                    level[key] = significant(level[key])
    return out


def version(model: dict) -> str:
    return hashlib.sha256(json.dumps(rounded(model), sort_keys=True).encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Trained:
    model: dict  # the Splink model (settings and parameters), rounded
    version: str
    notes: str  # what training could and could not estimate


def train(records: pd.DataFrame, seed: int, max_pairs_for_u: int) -> Trained:
    """u by seeded random sampling, the prior from exact-email pairs, m by EM on TRAINING_BLOCKS.
    A block with too few pairs for EM keeps the starting m values (noted, not an error)."""
    notes = []
    with quiet():
        trainer = linker(records, settings())
        if len(records) >= 2:
            trainer.training.estimate_probability_two_random_records_match([block_on("email")], recall=0.7)
            trainer.training.estimate_u_using_random_sampling(max_pairs=max_pairs_for_u, seed=seed)
        for rule in TRAINING_BLOCKS:
            try:
                trainer.training.estimate_parameters_using_expectation_maximisation(rule)
            except Exception as exc:  # Splink raises plain exceptions when a block has no pairs
                notes.append(f"EM on {rule!r} skipped: {str(exc).splitlines()[0][:200]}")
        model = rounded(trainer.misc.save_model_to_json())
    return Trained(model, version(model), "; ".join(notes))
