"""Blocking keys that stay small when names repeat (docs/identity.md#probabilistic-person-matching).

A blocking rule on a name alone pairs every record of that name with every other: n records of
one name are n(n-1)/2 pairs, so a common name (or a generator's short name lists: ~160 records
per full name at 1M persons) makes the work grow with the square of the records. Each name-keyed
rule therefore blocks on a derived key that is the name where at most `max_block_records` live
records hold it, and null (no block) where more do. Records of an over-common name still meet
through the rules with a second key: the same company, work domain, city (each capped here too
when it joins a name) or phone. A name shared by that many records is weak evidence anyway: the
name's term-frequency adjustment already discounts it.

The keys are columns of the prepared records (so Splink's rules stay plain equalities, and a key
that crosses the cap changes the records' fingerprints: incremental matching re-scores them).
"""

from __future__ import annotations

import pandas as pd

from blueprint_pipeline.config.identity import PersonMatchingPolicy

MAX_BLOCK_RECORDS = PersonMatchingPolicy.model_fields["max_block_records"].default  # the config's default
MIN_LETTERS = 6  # shorter user-part letters (j1@, info@) would pair strangers
BLOCK_COLUMNS = [
    "letters_key",  # the email user part's letters, six or more
    "full_name_key",
    "reversed_name_key",  # "last first": meets full_name_key of a record with the names swapped
    "name_prefix_key",  # nickname-resolved first name and three letters of the last name
    "first_city_key",  # nickname-resolved first name and city
    "last_initial_city_key",  # last name, first initial and city
]


def _joined(first: pd.Series, *others: pd.Series) -> pd.Series:
    """The parts joined by '|', null when any part is."""
    return first.str.cat(list(others), sep="|")


def capped(key: pd.Series, cap: int) -> pd.Series:
    """`key` where at most `cap` records hold its value, else null."""
    counts = key.map(key.value_counts())
    return key.where((counts <= cap).to_numpy(), None).astype(object)


def block_keys(records: pd.DataFrame, cap: int) -> pd.DataFrame:
    """BLOCK_COLUMNS for prepare()'s records (first_name, last_name, first_name_canonical,
    full_name, email_letters, city), over every live record."""
    first, last, city = records["first_name"], records["last_name"], records["city"]
    canonical = records["first_name_canonical"]
    letters = records["email_letters"]
    letters = letters.where(letters.str.len().fillna(0).to_numpy() >= MIN_LETTERS, None)
    full = capped(records["full_name"], cap)
    reversed_name = last.str.cat(first, sep=" ").where(full.notna().to_numpy(), None)
    return pd.DataFrame(
        {
            "letters_key": capped(letters, cap),
            "full_name_key": full,
            "reversed_name_key": reversed_name.astype(object),
            "name_prefix_key": capped(_joined(canonical, last.str[:3]), cap),
            "first_city_key": capped(_joined(canonical, city), cap),
            "last_initial_city_key": capped(_joined(last, first.str[:1], city), cap),
        },
        index=records.index,
        dtype=object,
    )
