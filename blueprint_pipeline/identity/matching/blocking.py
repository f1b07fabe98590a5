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
that crosses the cap changes the records' fingerprints: incremental matching re-scores them),
computed by SQL where the records live (records.py: holders counted by GROUP BY).
"""

from __future__ import annotations

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
