"""The records person matching compares, one row per live source record, cleaned so that
Splink's comparisons see like with like: names lower-cased without accents or punctuation, the
full names a first name may stand for beside it (bill -> william), the email's user part (and its
letters alone) and its domain when it is a work domain, phones in E.164, company names without
legal words, titles also as their parsed function and seniority. A shared
mailbox's address (identity_shared_mailboxes) is no evidence: its email, user part and letters
are left out (as if missing), so neither a comparison nor the email blocking rule pairs its
records; its domain still counts as a work domain."""

from __future__ import annotations

import hashlib
import importlib.metadata
import inspect
import json
import re
import sys
import unicodedata
from functools import cache, lru_cache

import numpy as np
import pandas as pd
from nicknames import NickNamer

from blueprint_pipeline.buying_groups.title_parser import parse_title
from blueprint_pipeline.identity.links import normalise_name
from blueprint_pipeline.identity.matching.blocking import BLOCK_COLUMNS, MAX_BLOCK_RECORDS
from blueprint_pipeline.identity.matching.phones import region_codes, to_e164
from blueprint_pipeline.identity.tables import hashed_rows, text_array


@cache
def _namer() -> NickNamer:
    return NickNamer()


@lru_cache(maxsize=65536)  # first names and titles repeat: parse each once
def _forms(first: str) -> tuple[str, ...]:
    return tuple(sorted({first} | _namer().canonicals_of(first)))


def name_forms(first: str | None) -> list[str] | None:
    """The first name and the full names it may stand for (the `nicknames` package's hand-curated
    English table, Apache-2.0): kathy -> [kathleen, kathryn, kathy, ...]; a full name is just
    itself. Two first names are a nickname pair when their forms share one."""
    return list(_forms(first)) if first else None


def canonical(first: str | None) -> str | None:
    """One name per first name, a blocking key: the first of its forms (bill and william both
    give bill; not every pair meets: kathy gives catherine, kathleen itself)."""
    return min(name_forms(first)) if first else None


def clean(value: object) -> str | None:
    """'  José-Luis ' -> 'jose luis'; None for nothing."""
    if value is None or (isinstance(value, float) and pd.isna(value)) or value is pd.NA:
        return None
    return _clean(str(value))


@lru_cache(maxsize=262144)  # names, cities and titles repeat
def _clean(value: str) -> str | None:
    text = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode()
    text = re.sub(r"[^0-9a-z]+", " ", text.lower()).strip()
    return text or None


def _text(value: object) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def _column(frame: pd.DataFrame, column: str) -> list[str | None]:
    return [_text(v) for v in frame[column].tolist()] if column in frame else [None] * len(frame)


def _each_distinct(fn, *columns: list) -> list:
    """fn over the columns row by row, computed once per distinct row: a firm's name is on every
    record of its people (1.75M names, 44.6k distinct at 1M persons), a number on a person's."""
    rows = list(zip(*columns, strict=True))
    results = {row: fn(*row) for row in dict.fromkeys(rows)}
    return [results[row] for row in rows]


def _letters(user: str) -> str | None:
    """The user part's letters: 'nicholas.rodriguez' and 'nicholasrodriguez68' (the same person's
    work and private address) both give 'nicholasrodriguez'."""
    return re.sub(r"[^a-z]+", "", user) or None


@lru_cache(maxsize=65536)
def _job(title: str | None) -> str | None:
    """The parsed title's function and seniority ('it director' for Director of IT and Dir.
    Informatique); None when the title says no function."""
    parsed = parse_title(title) if title else None
    return f"{parsed.function} {parsed.seniority}" if parsed and parsed.function != "other" else None


LIST_SEPARATOR = "|"  # first_name_forms as text (kept, hashed): cleaned names hold only [0-9a-z ]
# The raw fields of int_identity_nodes a record's cleaning reads.
FIELDS = ("source_key", "email", "first_name", "last_name", "company", "title", "city", "country",
          "phone", "mobile_phone")  # fmt: skip


def module_source(module) -> str:
    """A module's source; its name and the project's version where no source ships."""
    try:
        return inspect.getsource(module)
    except (OSError, TypeError):
        return f"{module.__name__} {importlib.metadata.version('blueprint_pipeline')}"


def cleaning_key(countries: dict[str, str]) -> str:
    """What a record's cleaning reads besides its own fields: the country aliases, the cleaning
    modules' source, the title words, the Unicode tables that fold accents and the versions of
    the packages the cleaning calls (a change cleans every record again, cleaned.py)."""
    from blueprint_pipeline.buying_groups import title_parser
    from blueprint_pipeline.identity import links
    from blueprint_pipeline.identity.matching import phones

    code = "".join(module_source(m) for m in (sys.modules[__name__], phones, links, title_parser))
    words = title_parser.WORDS_FILE.read_text(encoding="utf-8")
    packages = [importlib.metadata.version(p) for p in ("phonenumbers", "nicknames")]
    text = json.dumps([sorted(countries.items()), code, words, unicodedata.unidata_version, packages])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


# What clean_records() gives, kept between builds (cleaned.py): each record's own cleaning,
# before the shared mailboxes, the personal domains and the blocking keys (which depend on other
# records) are applied by SQL (records.py).
CLEANED_COLUMNS = [
    "first_name",
    "last_name",
    "first_name_canonical",
    "first_name_forms",
    "full_name",
    "email",  # lower-cased, before shared mailboxes are left out
    "email_user",
    "email_letters",
    "email_domain",  # before personal domains are left out
    "phone",
    "mobile",
    "company",
    "city",
    "country",
    "title",
    "title_job",
]
# The columns Splink compares and blocks on (prepare()'s frame): the cleaning with the work
# domain in place of the email's domain, and the blocking keys.
COLUMNS = [
    "unique_id",
    *("work_domain" if c == "email_domain" else c for c in CLEANED_COLUMNS),
    *BLOCK_COLUMNS,
]


def forms_text(forms: pd.Series) -> list[str | None]:
    """The first name's forms as one text each (how they are kept and hashed)."""
    return [LIST_SEPARATOR.join(f) if f else None for f in forms]


def cleaned_hashes(cleaned: pd.DataFrame) -> np.ndarray:
    """Per record, 16 hex digits of its CLEANED_COLUMNS (the forms as their text): what the
    fingerprint of incremental matching takes from the cleaning, so that a new cleaning code or
    country alias re-scores only the records whose cleaned values moved."""
    forms = forms_text(cleaned["first_name_forms"])
    parts = [text_array(forms if c == "first_name_forms" else cleaned[c]) for c in CLEANED_COLUMNS]
    return hashed_rows(parts)


def clean_records(nodes: pd.DataFrame, countries: dict[str, str]) -> pd.DataFrame:
    """Each record's cleaning on its own fields and the seed `country_names` (alias -> country):
    `unique_id`, CLEANED_COLUMNS and cleaned_hash, in the order of `nodes`."""
    regions = region_codes(countries)
    first = [clean(v) for v in _column(nodes, "first_name")]
    last = [clean(v) for v in _column(nodes, "last_name")]
    email = [e.lower() if e and "@" in e else None for e in _column(nodes, "email")]
    spelled = [c.lower() if c else None for c in _column(nodes, "country")]
    region = [regions.get(c) if c else None for c in spelled]
    out = pd.DataFrame(
        {
            "unique_id": [str(k) for k in nodes["source_key"]],
            "first_name": first,
            "last_name": last,
            "first_name_canonical": [canonical(f) for f in first],
            "first_name_forms": [name_forms(f) for f in first],
            "full_name": [f"{f} {la}" if f and la else None for f, la in zip(first, last, strict=True)],
            "email": email,
            "email_user": [e.split("@", 1)[0] if e else None for e in email],
            "email_letters": [_letters(e.split("@", 1)[0]) if e else None for e in email],
            "email_domain": [e.split("@", 1)[1] if e else None for e in email],
            "phone": _each_distinct(to_e164, _column(nodes, "phone"), region),
            "mobile": _each_distinct(to_e164, _column(nodes, "mobile_phone"), region),
            "company": _each_distinct(lambda c: normalise_name(c) if c else None, _column(nodes, "company")),
            "city": [clean(c) for c in _column(nodes, "city")],
            "country": [clean(countries.get(c, c)) if c else None for c in spelled],
            "title": [clean(t) for t in _column(nodes, "title")],
            "title_job": [_job(t) for t in _column(nodes, "title")],
        },
        dtype=object,
    )
    return out.assign(cleaned_hash=cleaned_hashes(out))


def prepare(
    nodes: pd.DataFrame,
    countries: dict[str, str],
    personal_domains: set[str],
    shared_mailboxes: frozenset[str] = frozenset(),
    max_block_records: int = MAX_BLOCK_RECORDS,
) -> pd.DataFrame:
    """`nodes`: int_identity_nodes' live rows; `countries`: the seed country_names (alias ->
    country); `personal_domains`: identity_personal_domains; `shared_mailboxes`: the addresses of
    identity_shared_mailboxes; `max_block_records`: the blocking keys' cap (blocking.py). Returns
    COLUMNS, cleaned_hash and fingerprint, sorted by key: records.select_sql() run over them (the
    SQL the warehouse runs over the kept cleaning), so the keys and guards have one definition."""
    from blueprint_pipeline.identity.matching import records  # records reads this module's names

    cleaned = clean_records(nodes, countries)
    return records.of_cleaned(cleaned, personal_domains, shared_mailboxes, max_block_records)
