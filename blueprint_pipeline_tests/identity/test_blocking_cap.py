"""The blocking keys' cap (identity/matching/blocking.py): a name held by more than
max_block_records records is no block on its own; its records still meet through a second key.

Hand-worked on seven records, no emails or phones (so only name and company rules can pair them):

  a1, a2  Ann Lee at Acme        a3, a4  Ann Lee, no firm       a5  "Lee Ann" (swapped) at Acme
  o1      Omar Diaz, no firm     o2      Omar Diaz at Beta

"ann lee" is held by four records, "omar diaz" by two. With the cap at 4 (not passed) the full
name pairs every Ann Lee where a firm is missing or the firms agree: a1-a2 (also the company
rules), a1-a3, a1-a4, a2-a3, a2-a4, a3-a4; the swapped name meets each Ann Lee but a firmless
one only through the name: a1-a5, a2-a5, a3-a5, a4-a5; and o1-o2: 11 pairs. With the cap at 3
"ann lee" is too common: the Ann Lees meet only within Acme (a1-a2, and the swapped name within
the firm: a1-a5, a2-a5); "omar diaz" is still a key: o1-o2. 4 pairs.
"""

from __future__ import annotations

import pandas as pd
import pytest

from blueprint_pipeline.identity.matching.prepare import prepare
from blueprint_pipeline.identity.matching.score import predict
from blueprint_pipeline_tests.identity.test_match_levels import _model

PEOPLE = [
    ("a1", "Ann", "Lee", "Acme"),
    ("a2", "Ann", "Lee", "Acme"),
    ("a3", "Ann", "Lee", None),
    ("a4", "Ann", "Lee", None),
    ("a5", "Lee", "Ann", "Acme"),
    ("o1", "Omar", "Diaz", None),
    ("o2", "Omar", "Diaz", "Beta"),
]


def _pairs(cap: int) -> set[tuple[str, str]]:
    nodes = pd.DataFrame(
        [{"source_key": k, "first_name": f, "last_name": la, "company": c} for k, f, la, c in PEOPLE]
    )
    records = prepare(nodes, countries={}, personal_domains=set(), max_block_records=cap)
    frame = predict(records, _model(), floor=0.0)  # every blocked pair, whatever its score
    return set(zip(frame["unique_id_l"], frame["unique_id_r"], strict=True))


@pytest.mark.parametrize(
    ("cap", "expected"),
    [
        (4, {("a1", "a2"), ("a1", "a3"), ("a1", "a4"), ("a2", "a3"), ("a2", "a4"), ("a3", "a4"),
             ("a1", "a5"), ("a2", "a5"), ("a3", "a5"), ("a4", "a5"), ("o1", "o2")}),
        (3, {("a1", "a2"), ("a1", "a5"), ("a2", "a5"), ("o1", "o2")}),
    ],
)  # fmt: skip
def test_a_name_over_the_cap_blocks_only_with_a_second_key(cap, expected):
    assert _pairs(cap) == expected


# The firm blocks are refined, not dropped: five records, the firm and three letters of the first
# name, refined by the last name's initial where the pair is held by more than the cap.
#   r1 Ann Lee, r2 Ann Lim, r3 Anna Kay, r4 Bob Lee at Acme; r5 Ann Lee at Beta
# "acme|ann" is held by r1-r3: with the cap at 3 it is their key; at 2 it is too common and each
# gets "acme|ann|<last initial>" (r1, r2 share "acme|ann|l"); at 1 that is too common as well and
# r1, r2 get none, while the keys one record holds stay.
FIRM = [
    ("r1", "Ann", "Lee", "Acme"),
    ("r2", "Ann", "Lim", "Acme"),
    ("r3", "Anna", "Kay", "Acme"),
    ("r4", "Bob", "Lee", "Acme"),
    ("r5", "Ann", "Lee", "Beta"),
]


@pytest.mark.parametrize(
    ("cap", "expected"),
    [
        (3, ["acme|ann", "acme|ann", "acme|ann", "acme|bob", "beta|ann"]),
        (2, ["acme|ann|l", "acme|ann|l", "acme|ann|k", "acme|bob", "beta|ann"]),
        (1, [None, None, "acme|ann|k", "acme|bob", "beta|ann"]),
    ],
)
def test_a_firm_block_over_the_cap_is_refined_by_the_other_name(cap, expected):
    nodes = pd.DataFrame(
        [{"source_key": k, "first_name": f, "last_name": la, "company": c} for k, f, la, c in FIRM]
    )
    records = prepare(nodes, countries={}, personal_domains=set(), max_block_records=cap)
    assert records["company_first_key"].tolist() == expected
