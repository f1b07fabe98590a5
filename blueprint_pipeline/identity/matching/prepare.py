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
import pyarrow as pa
import pyarrow.compute as pc
from nicknames import NickNamer

from blueprint_pipeline.buying_groups.title_parser import parse_title
from blueprint_pipeline.identity.links import normalise_name
from blueprint_pipeline.identity.matching.blocking import BLOCK_COLUMNS, MAX_BLOCK_RECORDS
from blueprint_pipeline.identity.matching.phones import region_codes, to_e164_all


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
    from blueprint_pipeline.identity.matching import cleaned, phones

    modules = (sys.modules[__name__], cleaned, phones, links, title_parser)  # cleaned: the hash's SQL
    code = "".join(module_source(m) for m in modules)
    words = title_parser.WORDS_FILE.read_text(encoding="utf-8")
    packages = [importlib.metadata.version(p) for p in ("phonenumbers", "nicknames")]
    text = json.dumps([sorted(countries.items()), code, words, unicodedata.unidata_version, packages])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


# What clean_records() gives, kept between builds (cleaned.py): each record's own cleaning,
# before the shared mailboxes, the personal domains and the blocking keys (which depend on other
# records) are applied by SQL (records.py). Their hash (cleaned_hash) is SQL's too (records.py).
CLEANED_COLUMNS = [
    "first_name",
    "last_name",
    "first_name_canonical",
    "first_name_forms",
    "full_name",
    "email",  # lower-cased, before shared mailboxes are left out
    "email_user",
    "email_letters",  # the user part's letters: nicholas.rodriguez and nicholasrodriguez68 meet
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


def _texts(nodes: pa.Table | pd.DataFrame, column: str) -> pa.Array:
    """A raw field as Arrow text: null where missing, not text, or a record has no such column."""
    rows = nodes.num_rows if isinstance(nodes, pa.Table) else len(nodes)
    if column not in (nodes.column_names if isinstance(nodes, pa.Table) else nodes.columns):
        return pa.nulls(rows, pa.large_string())
    if isinstance(nodes, pa.Table):
        values = nodes[column].combine_chunks()
        if not (pa.types.is_string(values.type) or pa.types.is_large_string(values.type)):
            return pa.nulls(rows, pa.large_string())  # as for a frame: what is not text is missing
        return values.cast(pa.large_string())
    return pa.array([v if isinstance(v, str) else None for v in nodes[column].tolist()], pa.large_string())


def _keys(nodes: pa.Table | pd.DataFrame) -> pa.Array:
    if isinstance(nodes, pa.Table):
        return nodes["source_key"].combine_chunks().cast(pa.large_string())
    return pa.array([str(k) for k in nodes["source_key"]], pa.large_string())


def _distinct(values: pa.Array) -> tuple[list[str], pa.Array]:
    """The distinct texts of `values` and each row's position among them (null for null)."""
    encoded = pc.dictionary_encode(values)
    return encoded.dictionary.to_pylist(), encoded.indices


def _spread(results: list, positions: pa.Array) -> pa.Array:
    """One result per distinct text, back on every row (null stays null)."""
    return pa.array(results, pa.large_string()).take(positions)


def _per_text(values: pa.Array, *fns) -> list[pa.Array]:
    """Each fn over `values`, called once per distinct text (a firm's name is on every record of
    its people: 1.75M names, 44.6k distinct at 1M persons); a null value gives null."""
    texts, positions = _distinct(values)
    return [_spread([fn(t) for t in texts], positions) for fn in fns]


def _phones(numbers: pa.Array, regions: pa.Array) -> pa.Array:
    """E.164 of each (number, region), parsed once per distinct pair (phones.to_e164_all)."""
    (raw, at), (region, where) = _distinct(numbers), _distinct(regions)
    width = len(region) + 1  # null's position: the last
    key = (
        pc.fill_null(at, len(raw)).to_numpy().astype(np.int64) * width
        + pc.fill_null(where, len(region)).to_numpy()
    )
    pairs, inverse = np.unique(key, return_inverse=True)
    raw, region = [*map(_text, raw), None], [*region, None]
    found = to_e164_all([raw[k // width] for k in pairs], [region[k % width] for k in pairs])
    return pa.array(found, pa.large_string()).take(pa.array(inverse.reshape(-1)))


def _first_name(value: str) -> tuple[str | None, str | None, str | None]:
    """A raw first name's cleaning, canonical name and forms (as text)."""
    first = clean(_text(value))
    forms = name_forms(first)
    return first, canonical(first), LIST_SEPARATOR.join(forms) if forms else None


def _email(value: str) -> str | None:
    text = _text(value)
    return text.lower() if text and "@" in text else None


def _null_if_empty(values: pa.Array) -> pa.Array:
    return pc.if_else(pc.equal(values, ""), pa.scalar(None, values.type), values)


def clean_records(nodes: pa.Table | pd.DataFrame, countries: dict[str, str]) -> pa.Table:
    """Each record's cleaning on its own fields and the seed `country_names` (alias -> country):
    `unique_id` and CLEANED_COLUMNS (the first name's forms as text), in the order of `nodes`.
    Python cleans each distinct text once and Arrow spreads the answers over the records."""
    regions = region_codes(countries)
    texts, positions = _distinct(_texts(nodes, "first_name"))
    firsts = [_first_name(t) for t in texts]
    first, first_canonical, forms = (_spread([f[i] for f in firsts], positions) for i in range(3))
    (last,) = _per_text(_texts(nodes, "last_name"), lambda v: clean(_text(v)))
    email = _per_text(_texts(nodes, "email"), _email)[0]
    parts = pc.split_pattern(email, "@", max_splits=1)
    user, domain = pc.list_element(parts, 0), pc.list_element(parts, 1)

    def spelled(value: str) -> str | None:
        text = _text(value)
        return text.lower() if text else None

    region, country = _per_text(
        _texts(nodes, "country"),
        lambda v: regions.get(spelled(v)) if spelled(v) else None,
        lambda v: clean(countries.get(spelled(v), spelled(v))) if spelled(v) else None,
    )
    title, title_job = _per_text(_texts(nodes, "title"), lambda v: clean(_text(v)), lambda v: _job(_text(v)))
    columns = {
        "unique_id": _keys(nodes),
        "first_name": first,
        "last_name": last,
        "first_name_canonical": first_canonical,
        "first_name_forms": forms,
        "full_name": pc.binary_join_element_wise(first, last, pa.scalar(" ", pa.large_string())),
        "email": email,
        "email_user": user,
        "email_letters": _null_if_empty(pc.replace_substring_regex(user, "[^a-z]+", "")),
        "email_domain": domain,
        "phone": _phones(_texts(nodes, "phone"), region),
        "mobile": _phones(_texts(nodes, "mobile_phone"), region),
        "company": _per_text(
            _texts(nodes, "company"), lambda v: normalise_name(_text(v)) if _text(v) else None
        )[0],
        "city": _per_text(_texts(nodes, "city"), lambda v: clean(_text(v)))[0],
        "country": country,
        "title": title,
        "title_job": title_job,
    }
    return pa.table({name: values.cast(pa.large_string()) for name, values in columns.items()})


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
