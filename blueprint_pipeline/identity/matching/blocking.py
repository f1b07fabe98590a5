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
    "company_canonical_key",  # firm and nickname-resolved first name (refined: + last initial)
    "company_last_key",  # firm and three letters of the last name (refined: + first initial)
    "company_first_key",  # firm and three letters of the first name (refined: + last initial)
]


def _joined(first: pd.Series, *others: pd.Series) -> pd.Series:
    """The parts joined by '|', null when any part is."""
    return first.str.cat(list(others), sep="|")


def capped(key: pd.Series, cap: int) -> pd.Series:
    """`key` where at most `cap` records hold its value, else null."""
    counts = key.map(key.value_counts())
    return key.where((counts <= cap).to_numpy(), None).astype(object)


def refined(coarse: pd.Series, fine: pd.Series, cap: int) -> pd.Series:
    """`coarse` where at most `cap` records hold its value; else `fine` (which extends it) where
    at most `cap` hold that; else null."""
    counts = coarse.map(coarse.value_counts())
    common = (counts > cap).to_numpy()
    return capped(coarse.where(~common, fine), cap)


def block_keys(records: pd.DataFrame, cap: int) -> pd.DataFrame:
    """BLOCK_COLUMNS for prepare()'s records (first_name, last_name, first_name_canonical,
    full_name, email_letters, city, company), over every live record."""
    first, last, city = records["first_name"], records["last_name"], records["city"]
    company = records["company"]
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
            "company_canonical_key": refined(
                _joined(company, canonical), _joined(company, canonical, last.str[:1]), cap
            ),
            "company_last_key": refined(
                _joined(company, last.str[:3]), _joined(company, last.str[:3], first.str[:1]), cap
            ),
            "company_first_key": refined(
                _joined(company, first.str[:3]), _joined(company, first.str[:3], last.str[:1]), cap
            ),
        },
        index=records.index,
        dtype=object,
    )
