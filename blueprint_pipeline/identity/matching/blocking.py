"""Blocking keys that stay small when names repeat (docs/identity.md#probabilistic-person-matching).

A blocking rule on a name alone pairs every record of that name with every other: n records of
one name are n(n-1)/2 pairs, so a common name (or a generator's short name lists: ~160 records
per full name at 1M persons) makes the work grow with the square of the records. Each name-keyed
rule therefore blocks on a derived key that is the name where at most `max_block_records` live
records hold it, and null (no block) where more do. Records of an over-common name still meet
through the rules with a second key: the same company, work domain, city (each capped here too
when it joins a name) or phone. A name shared by that many records is weak evidence anyway: the
name's term-frequency adjustment already discounts it.

The company rules (the same firm and three letters of a name) have the same problem inside a large
firm: 13,653 records share the firm "apex" at 1M persons, and the three company rules paired 25.7M
records there. Their keys are refined rather than dropped: the firm and three letters of one name
where at most `max_block_records` records hold that, else the firm, those three letters and the
other name's initial (a typo in a name's first letter, inside a firm that large, then needs
another rule: the email's letters, the phone, the last name within the work domain).

The keys are columns of the prepared records (so Splink's rules stay plain equalities, and a key
that crosses the cap changes the records' fingerprints: incremental matching re-scores them).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from blueprint_pipeline.config.identity import PersonMatchingPolicy
from blueprint_pipeline.identity.tables import text_array

MAX_BLOCK_RECORDS = PersonMatchingPolicy.model_fields["max_block_records"].default  # the config's default
MIN_LETTERS = 6  # shorter user-part letters (j1@, info@) would pair strangers
BLOCK_COLUMNS = [
    "letters_key",  # the email user part's letters, six or more
    "full_name_key",
    "reversed_name_key",  # "last first": meets full_name_key of a record with the names swapped
    "name_prefix_key",  # nickname-resolved first name and three letters of the last name
    "first_city_key",  # nickname-resolved first name and city
    "last_initial_city_key",  # last name, first initial and city
    "company_canonical_key",  # firm and nickname-resolved first name (refined: + last initial)
    "company_last_key",  # firm and three letters of the last name (refined: + first initial)
    "company_first_key",  # firm and three letters of the first name (refined: + last initial)
]


# The keys are built with Arrow's string kernels: 1.76M records at 1M persons, where pandas'
# str.cat and a map of text to counts took 18 s; Arrow takes under 5.


def _joined(*parts: pa.Array) -> pa.Array:
    """The parts joined by '|', null when any part is."""
    return pc.binary_join_element_wise(*parts, pa.scalar("|", pa.large_string()))


def _prefix(text: pa.Array, n: int) -> pa.Array:
    return pc.utf8_slice_codeunits(text, 0, n)


def _holders(key: pa.Array) -> np.ndarray:
    """Per record, how many records hold its key (0 for none)."""
    encoded = pc.dictionary_encode(key)
    codes = encoded.indices.to_numpy(zero_copy_only=False)
    valid = np.asarray(encoded.indices.is_valid())
    codes = np.where(valid, codes, 0).astype(np.int64)
    counts = np.bincount(codes[valid], minlength=max(len(encoded.dictionary), 1))
    return np.where(valid, counts[codes], 0)


def _where(mask: np.ndarray, key: pa.Array, other) -> pa.Array:
    return pc.if_else(pa.array(mask), key, other)


def capped(key, cap: int) -> pa.Array:
    """`key` where at most `cap` records hold its value, else null."""
    key = key if isinstance(key, pa.Array) else text_array(key)
    return _where(_holders(key) <= cap, key, pa.scalar(None, pa.large_string()))


def refined(coarse, fine, cap: int) -> pa.Array:
    """`coarse` where at most `cap` records hold its value; else `fine` (which extends it) where
    at most `cap` hold that; else null."""
    coarse = coarse if isinstance(coarse, pa.Array) else text_array(coarse)
    fine = fine if isinstance(fine, pa.Array) else text_array(fine)
    return capped(_where(_holders(coarse) <= cap, coarse, fine), cap)


def block_keys(records: pd.DataFrame, cap: int) -> pd.DataFrame:
    """BLOCK_COLUMNS for prepare()'s records (first_name, last_name, first_name_canonical,
    full_name, email_letters, city, company), over every live record."""
    first, last, city, company, canonical, letters, full_name = (
        text_array(records[c])
        for c in (
            "first_name",
            "last_name",
            "city",
            "company",
            "first_name_canonical",
            "email_letters",
            "full_name",
        )
    )
    none = pa.scalar(None, pa.large_string())
    long_enough = pc.fill_null(pc.greater_equal(pc.utf8_length(letters), MIN_LETTERS), False)
    letters = pc.if_else(long_enough, letters, none)
    full = capped(full_name, cap)
    reversed_name = pc.if_else(
        pc.is_valid(full), pc.binary_join_element_wise(last, first, pa.scalar(" ", pa.large_string())), none
    )
    keys = {
        "letters_key": capped(letters, cap),
        "full_name_key": full,
        "reversed_name_key": reversed_name,
        "name_prefix_key": capped(_joined(canonical, _prefix(last, 3)), cap),
        "first_city_key": capped(_joined(canonical, city), cap),
        "last_initial_city_key": capped(_joined(last, _prefix(first, 1), city), cap),
        "company_canonical_key": refined(
            _joined(company, canonical), _joined(company, canonical, _prefix(last, 1)), cap
        ),
        "company_last_key": refined(
            _joined(company, _prefix(last, 3)), _joined(company, _prefix(last, 3), _prefix(first, 1)), cap
        ),
        "company_first_key": refined(
            _joined(company, _prefix(first, 3)), _joined(company, _prefix(first, 3), _prefix(last, 1)), cap
        ),
    }
    return pd.DataFrame(
        {name: key.to_numpy(zero_copy_only=False) for name, key in keys.items()},
        index=records.index,
        dtype=object,
    )
