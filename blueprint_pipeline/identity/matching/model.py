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

import functools
import hashlib
import json
import logging
import math
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import splink.comparison_level_library as cll
import splink.comparison_library as cl
from splink import DuckDBAPI, Linker, SettingsCreator

from blueprint_pipeline.core.errors import ConfigError
from blueprint_pipeline.warehouse.base import quote


@dataclass(frozen=True)
class WarehouseRecords:
    """Records a DuckDB warehouse holds (records.read_all()): `sql`, run in `engine` (a cursor of
    the warehouse), gives them in key order, `count` of them. Splink then works in that engine
    (splink_duckdb()), and copies them from where they lie: no Arrow copy held beside it. Splink's
    cursor reads what is committed: read them in a session, not inside a transaction."""

    sql: str
    count: int
    engine: duckdb.DuckDBPyConnection

    def __len__(self) -> int:
        return self.count


@dataclass(frozen=True)
class SparkRecords:
    """Records a Spark warehouse holds (records.read_all()): `frame`, a Spark DataFrame over the
    warehouse's parts, `count` of them. Splink then works in Spark (on_spark.py): the records never
    reach the driver; the scored pairs leave through a scratch folder in `folder`, the warehouse
    folder (the executors and the driver both reach it)."""

    frame: object  # pyspark.sql.DataFrame (pyspark is imported only where Spark is used)
    count: int
    folder: Path

    def __len__(self) -> int:
        return self.count


# What Splink reads: a frame (prepare(), tests), Arrow (read from a PostgreSQL warehouse, or an
# incremental scoring's neighbourhood), a DuckDB warehouse's own rows or a Spark warehouse's.
Records = pd.DataFrame | pa.Table | WarehouseRecords | SparkRecords
COMPARISON_COLUMNS = ("name", "email", "phone", "company", "city", "country", "title")
DOMAINS_MAY_AGREE = "(l.work_domain = r.work_domain or l.work_domain is null or r.work_domain is null)"
CITIES_MAY_AGREE = "(l.city = r.city or l.city is null or r.city is null)"
A_FIRM_MISSING = "(l.company is null or r.company is null)"  # two known firms: the company blocks
FIRMS_MAY_AGREE = "(l.company = r.company or l.company is null or r.company is null)"
PREDICTION_BLOCKING_RULES = [
    # The *_key columns are names (alone, or with a city) where at most max_block_records records
    # hold them, else null (blocking.py): a name that common is no block on its own, its records
    # meet through a second key (company, work domain, city, phone).
    # The user part's letters: a typo'd domain, a private address spelling the name. Two firms'
    # namesakes (ann.lee@ at each) are left out before they are compared (a filter on the join is
    # cheap, a comparison is not).
    f"l.letters_key = r.letters_key and {FIRMS_MAY_AGREE}",
    # A name alone is too common a key (whole surnames become one block): with a place, a domain
    # or a company. Within a company, three letters of a name: a typo later in either name. Two
    # firms of one name (Falcon GmbH, Falcon Holdings) are told apart by their domains first.
    "l.last_initial_city_key = r.last_initial_city_key",
    "l.first_city_key = r.first_city_key",
    "l.last_name = r.last_name and substr(l.first_name, 1, 1) = substr(r.first_name, 1, 1) "
    "and l.work_domain = r.work_domain",
    # First and last names swapped: anywhere for an uncommon name, within the firm for any.
    f"l.full_name_key = r.reversed_name_key and {FIRMS_MAY_AGREE}",
    "l.first_name = r.last_name and l.last_name = r.first_name and l.company = r.company",
    # Within a firm: a nickname, or three letters of either name (a typo later in the other);
    # in a firm too large for that, the other name's initial too (blocking.py).
    f"l.company_canonical_key = r.company_canonical_key and {DOMAINS_MAY_AGREE}",
    f"l.company_last_key = r.company_last_key and {DOMAINS_MAY_AGREE}",
    f"l.company_first_key = r.company_first_key and {DOMAINS_MAY_AGREE}",
    # Records without a firm (a trade-show list, a form): a name that no city contradicts. Pairs
    # of two known firms are the company blocks' (the same firm) or apart (two firms); the filters
    # drop them before the comparisons.
    f"l.full_name_key = r.full_name_key and {A_FIRM_MISSING} and {CITIES_MAY_AGREE}",
    f"l.name_prefix_key = r.name_prefix_key and {A_FIRM_MISSING} and {CITIES_MAY_AGREE}",
    "l.phone = r.phone",
    "l.mobile = r.mobile",
    "l.phone = r.mobile",
]
# EM's blocks, each the first of its alternatives that finds pairs: the same email trains the
# names and the rest; the same full name at the same firm trains the email and the rest (the firm
# is trained by the first). The full name alone is a block of every namesake (3.7M pairs at 200k
# persons, 111 s of EM, for no better a model): only for data without firms (FEBRL, a list).
TRAINING_BLOCKS = [
    ("l.email = r.email",),
    ("l.full_name = r.full_name and l.company = r.company", "l.full_name = r.full_name"),
]
# The prior (how likely two random records are one person) is estimated from the pairs these rules
# find, taken to be PRIOR_RECALL of all true pairs. More than the email: data without addresses
# (FEBRL, a trade-show list) still gets a prior from its names.
PRIOR_RULES = [
    "l.email = r.email",
    "l.full_name = r.full_name and l.company = r.company",
    "l.full_name = r.full_name and l.city = r.city",
]
PRIOR_RECALL = 0.7
# EM on a generator's or one firm's data can drive a level's m to ~0 (a level never seen among
# matches) and random sampling a level's u to 0 (never seen among 300k random pairs): weights of
# +-40 that let one comparison veto or decide alone. m stays above M_FLOOR; u above one in the
# pairs sampled (what "never seen" can claim).
M_FLOOR = 1e-3
DOMAINS_AGREE = "(work_domain_l = work_domain_r or work_domain_l is null or work_domain_r is null)"
COMPANIES_AGREE = f"(company_l = company_r or company_l is null or company_r is null) and {DOMAINS_AGREE}"
FIRST_NAMES_AGREE = (
    "(first_name_l is null or first_name_r is null "
    "or list_has_any(first_name_forms_l, first_name_forms_r) "
    "or jaro_winkler_similarity(first_name_l, first_name_r) >= 0.88 "
    "or first_name_l = last_name_r)"
)
# ann.lee@ and ann.lee1@: the same letters, a number apart (a firm's second Ann Lee).
NUMBERED_TWINS = (
    "(email_letters_l = email_letters_r "
    "and (regexp_matches(email_user_l, '[0-9]') or regexp_matches(email_user_r, '[0-9]')))"
)
DISTINCT_MAILBOXES_M = 0.0005
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
                        "list_has_any(first_name_forms_l, first_name_forms_r) and last_name_l = last_name_r",
                        "nickname, same last name",
                    ),
                    0.04,
                ),
                m(cll.And(_jw("first_name", 0.92), _jw("last_name", 0.92)), 0.08),
                m(cll.And(_jw("first_name", 0.88), _jw("last_name", 0.88)), 0.02),
                m(
                    cll.CustomLevel(
                        "last_name_l = last_name_r and (length(first_name_l) = 1 "
                        "or length(first_name_r) = 1) "
                        "and substr(first_name_l, 1, 1) = substr(first_name_r, 1, 1)",
                        "initial for a first name, same last name",
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
                # One edit apart: a typo, unless the first names differ (sross@ and cross@
                # are Sharon and Christopher Ross) or only a number differs (ann.lee1@ is the
                # firm's second Ann Lee).
                m(
                    cll.CustomLevel(
                        f"damerau_levenshtein(email_l, email_r) <= 1 and {FIRST_NAMES_AGREE} "
                        f"and not {NUMBERED_TWINS}",
                        "one edit apart",
                    ),
                    0.15,
                ),
                # The user part is often the name again (ann.lee@): it counts only when the
                # companies do not differ, else it would count the name twice for two namesakes.
                m(
                    cll.CustomLevel(
                        f"email_user_l = email_user_r and {COMPANIES_AGREE}",
                        "same user part, company not different",
                    ),
                    0.1,
                ),
                # A private address spelling the work one: nicholas.rodriguez@apex.fr and
                # nicholasrodriguez68@outlook.com
                m(
                    cll.CustomLevel(
                        "email_letters_l = email_letters_r "
                        "and (work_domain_l is null or work_domain_r is null) "
                        f"and {COMPANIES_AGREE} and {FIRST_NAMES_AGREE}",
                        "same letters in the user part",
                    ),
                    0.05,
                ),
                # Two different mailboxes at one firm: a firm gives a person one, so this is mostly
                # two people (namesakes, colleagues). Fixed, not trained: EM on the same-name block
                # would take a firm's namesakes for matches (their company and country agree).
                cll.ExactMatchLevel("work_domain").configure(
                    label_for_charts="two mailboxes at one work domain",
                    m_probability=DISTINCT_MAILBOXES_M,
                    fix_m_probability=True,
                ),
                # A private and a work address do not contradict each other (a person has both).
                m(
                    cll.CustomLevel(
                        "(work_domain_l is null) <> (work_domain_r is null)", "a private and a work address"
                    ),
                    0.1,
                ),
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
                # Two firms can share a name once legal words are gone (Falcon GmbH, Falcon
                # Holdings): their addresses' domains tell them apart.
                m(cll.CustomLevel(f"company_l = company_r and {DOMAINS_AGREE}", "same company"), 0.8),
                m(
                    cll.CustomLevel(
                        f"jaro_winkler_similarity(company_l, company_r) >= 0.9 and {DOMAINS_AGREE}",
                        "similar company",
                    ),
                    0.1,
                ),
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
                # The same job in other words (Director of IT, IT Director, Leiter IT).
                m(
                    cll.CustomLevel("title_job_l = title_job_r", "the same function and seniority"),
                    0.2,
                ),
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


# Splink's own DuckDB (on a PostgreSQL warehouse, and for an incremental scoring's neighbourhood of
# touched records on either) is bounded like the warehouse's and spills to a
# temporary folder beyond it: with DuckDB's default (80% of RAM) the full matching step at 1M
# peaked 0.9 GB higher, and 1 GB made it 20% slower for no lower peak (docs/benchmarks.md).
SPLINK_MEMORY_LIMIT = "2GB"
RECORDS_TABLE = "person_records"  # the records' name where Splink works


@contextmanager
def splink_duckdb(within: duckdb.DuckDBPyConnection | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
    """Where Splink works. `within` a DuckDB warehouse's connection: that database's own engine,
    on a cursor whose default catalog is a new in-memory one, detached after (after a failure
    too): Splink's tables never reach the warehouse's file, and the warehouse's one `memory_limit`
    bounds both (docs/decisions.md). The cursor keeps insertion order, as Splink's own DuckDB
    does, so Splink's tables are built as there. Else a new in-memory DuckDB bounded by
    SPLINK_MEMORY_LIMIT, spilling to a temporary folder of its own that goes with it."""
    if within is None:
        with tempfile.TemporaryDirectory(prefix="blueprint-splink-") as spill:
            config = {"memory_limit": SPLINK_MEMORY_LIMIT, "temp_directory": spill}
            connection = duckdb.connect(config={"autoinstall_known_extensions": False, **config})
            try:
                yield connection
            finally:
                connection.close()
        return
    with ExitStack() as cleanup:
        cursor = within.cursor()
        cleanup.callback(cursor.close)
        home = cursor.execute("select current_database()").fetchone()[0]
        catalog = f"splink_{uuid.uuid4().hex[:12]}"
        cursor.execute(f"attach ':memory:' as {catalog}")
        # Detached through the warehouse's own connection: it works whatever state the cursor is in.
        cleanup.callback(lambda: within.execute(f"detach database if exists {catalog}"))
        cleanup.callback(lambda: cursor.execute(f"use {quote(home)}"))
        cursor.execute(f"use {catalog}")
        cursor.execute("set session preserve_insertion_order = true")
        yield cursor


def as_arrow(records: Records) -> pa.Table | pd.DataFrame:
    """`records` as rows in memory: a DuckDB warehouse's read while its session is open."""
    if isinstance(records, WarehouseRecords):
        return records.engine.sql(records.sql).to_arrow_table()
    return records


def engine_of(records: Records) -> duckdb.DuckDBPyConnection | None:
    """The warehouse engine holding `records`, for splink_duckdb(); None for records in memory."""
    return records.engine if isinstance(records, WarehouseRecords) else None


class DuckDBWork:
    """Splink's work in DuckDB (splink_duckdb()): the records once as RECORDS_TABLE, each linker
    over it or over a table made from it (a sample)."""

    def __init__(self, connection: duckdb.DuckDBPyConnection, records: Records):
        self.connection = connection
        if isinstance(records, WarehouseRecords):
            connection.execute(f"create table {RECORDS_TABLE} as {records.sql}")
        else:
            DuckDBAPI(connection).register(records, table_name=RECORDS_TABLE)

    def linker(
        self, model: dict | SettingsCreator, term_frequencies: dict[str, pd.DataFrame] | None = None
    ) -> Linker:
        """A Linker over the records; `term_frequencies`: per column, a lookup table Splink uses
        instead of counting the records (neighbourhood.py)."""
        api = DuckDBAPI(self.connection)
        table = api.register(RECORDS_TABLE, table_name=RECORDS_TABLE)
        found = Linker(table, model, log_level=None)  # None: Splink adds no log handler of its own
        for column, lookup in (term_frequencies or {}).items():
            registered = api.register(lookup, table_name=f"person_tf_{column}")
            found.table_management.register_term_frequency_lookup(registered, column)
        return found

    def has_pairs(self, rule: str) -> bool:
        """Whether two records meet `rule` (a blocking rule on l. and r.): asked in the
        trainer's own DuckDB, within its memory bound."""
        query = (
            f"select 1 from {RECORDS_TABLE} l join {RECORDS_TABLE} r "
            f"on l.unique_id < r.unique_id and ({rule}) limit 1"
        )
        return bool(self.connection.execute(query).fetchall())

    def u_records(self, condition: str | None) -> pa.Table:
        """The records meeting `condition` (u_sample_sql(); all of them for None), read out:
        there are about as many as give max_pairs_for_u pairs (~1,400 for 1,000,000)."""
        where = f" where {condition}" if condition else ""
        return self.connection.sql(f"select * from {RECORDS_TABLE}{where}").to_arrow_table()

    def rule(self, rule: str) -> str:
        """A blocking rule of this module for Splink here (its SQL is DuckDB's)."""
        return rule

    def model_of(self, trained: Linker) -> dict:
        """The trained linker's model, in DuckDB's SQL (what the version hashes)."""
        return trained.misc.save_model_to_json()

    @contextmanager
    def pairs(self, found) -> Iterator[tuple[duckdb.DuckDBPyConnection, str]]:
        """Splink's predictions `found` as a relation of this DuckDB: (connection, its name)."""
        yield self.connection, found.physical_name


@contextmanager
def workspace(records: Records) -> Iterator[DuckDBWork]:
    """Where Splink works on `records`: Spark for a Spark warehouse's (on_spark.py), else DuckDB
    (splink_duckdb(): the warehouse's own engine for a DuckDB warehouse's records)."""
    if isinstance(records, SparkRecords):
        from blueprint_pipeline.identity.matching.on_spark import SparkWork

        with SparkWork.over(records) as work:
            yield work
        return
    with splink_duckdb(engine_of(records)) as connection:
        yield DuckDBWork(connection, records)


@functools.cache
def duckdb_saved_settings() -> dict:
    """settings() as Splink saves it on DuckDB (what a model trained elsewhere is put back on)."""
    from blueprint_pipeline.identity.matching.prepare import COLUMNS

    with quiet(), splink_duckdb() as connection:
        empty = pd.DataFrame({c: pd.Series([], dtype=object) for c in COLUMNS})
        return DuckDBWork(connection, empty).linker(settings()).misc.save_model_to_json()


def u_sample_sql(count: int, max_pairs: int, seed: int) -> str | None:
    """A condition on unique_id choosing the records u is estimated on (about as many as give
    `max_pairs` pairs), None when every pair of the `count` records fits. Splink samples so too,
    but by each engine's own hash, and stops once each level has 100 pairs after chunks chosen by
    that hash again: DuckDB and Spark trained different models. md5's hex digits are spelt alike
    by every engine, so this sample is the same everywhere, and u is then estimated on it in
    DuckDB, wherever the records are (estimate_u())."""
    if count * (count - 1) // 2 <= max_pairs:
        return None
    share = (1 + math.sqrt(1 + 8 * max_pairs)) / 2 / count
    below = format(min(int(share * 16**8), 16**8 - 1), "08x")
    return f"substr(md5(unique_id || '_{seed}'), 1, 8) < '{below}'"


def estimate_u(model: dict, sample: pa.Table, seed: int, max_pairs: int) -> dict:
    """`model` (DuckDB's SQL) with u estimated by Splink's random sampling on the records
    `sample` (u_sample_sql()'s, a few hundred), in an embedded DuckDB: the same steps on every
    warehouse, so the same u."""
    with splink_duckdb() as connection:
        sampler = DuckDBWork(connection, sample).linker(model)
        sampler.training.estimate_u_using_random_sampling(max_pairs=max_pairs, seed=seed)
        return sampler.misc.save_model_to_json()


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


def regularised(model: dict, pairs_sampled: int) -> dict:
    """On every non-null level: m at least M_FLOOR (unless this module fixed it), u at least
    1 / pairs_sampled (also where sampling saw none); a comparison sampling never saw filled on
    both sides weighs 0."""
    u_floor = 1.0 / max(pairs_sampled, 1)
    out = json.loads(json.dumps(model))
    for comparison in out["comparisons"]:
        levels = [lv for lv in comparison["comparison_levels"] if not lv.get("is_null_level")]
        # No sampled pair had values on both sides (a column the data does not fill): the
        # comparison says nothing (u = m, weight 0) rather than a floor's strong weight.
        observed = any(isinstance(lv.get("u_probability"), (int, float)) for lv in levels)
        for level in levels:
            if level.get("m_probability") is not None and not level.get("fix_m_probability"):
                level["m_probability"] = max(level["m_probability"], M_FLOOR)
            u = level.get("u_probability")
            if not observed:
                level["u_probability"] = level.get("m_probability")
            else:  # None: this level was never seen among the sampled pairs
                level["u_probability"] = max(u, u_floor) if isinstance(u, (int, float)) else u_floor
    return out


def read_model_file(path: Path | None, named: str) -> dict:
    """`identity.person_matching.model_file`, read and checked (blueprint run and validate-config
    read it before any work): a ConfigError names the file."""
    if path is None or not path.exists():
        raise ConfigError(f"identity.person_matching.model_file: {path or named} does not exist")
    try:
        model = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not a Splink model (JSON): {exc}") from exc
    if not isinstance(model, dict) or not isinstance(model.get("comparisons"), list):
        raise ConfigError(f"{path}: not a Splink model (JSON with a list of comparisons)")
    return model


def train(records: Records, seed: int, max_pairs_for_u: int) -> Trained:
    """The prior from PRIOR_RULES, u by seeded sampling (u_sample_sql(), estimate_u()), m by EM on
    TRAINING_BLOCKS, then regularised(). A block with no pairs keeps the starting m values, and
    data where no rule finds a pair the shipped prior (noted, not an error)."""
    notes = []
    pairs_sampled = min(max_pairs_for_u, len(records) * (len(records) - 1) // 2)
    with quiet(), workspace(records) as work:
        trainer = work.linker(settings())
        if len(records) >= 2:
            if any(work.has_pairs(rule) for rule in PRIOR_RULES):
                trainer.training.estimate_probability_two_random_records_match(
                    [work.rule(r) for r in PRIOR_RULES], recall=PRIOR_RECALL
                )
            else:
                notes.append("prior not estimated: no pair found by " + " / ".join(PRIOR_RULES))
            sample = work.u_records(u_sample_sql(len(records), max_pairs_for_u, seed))
            with_u = estimate_u(work.model_of(trainer), sample, seed, max_pairs_for_u)
            trainer = work.linker(with_u)
        for alternatives in TRAINING_BLOCKS:
            # Checked first: a failed EM session leaves its comparison out of the linker's model.
            rule = next((r for r in alternatives if work.has_pairs(r)), None)
            if rule is None:
                notes.append(f"EM on {alternatives[-1]!r} skipped: no pairs")
                continue
            trainer.training.estimate_parameters_using_expectation_maximisation(work.rule(rule))
        model = rounded(regularised(work.model_of(trainer), pairs_sampled))
    return Trained(model, version(model), "; ".join(notes))
