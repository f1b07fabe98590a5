"""Shared mailboxes: addresses that say nothing about who wrote in, so never join people by email
(docs/identity.md#shared-mailboxes).

An address is shared when
- its local part is a role (`person_matching.role_mailboxes`: info@, sales@, ...; a `+tag` is
  ignored): reason `role_local_part`, whoever uses it; or
- two records using it have clearly different first names: reason `different_names`.

Two first names are the same person's when they are equal, one is a nickname of the other or both
of one name (the `nicknames` package's table), one starts the other (Chris, Christopher; J, John),
they are one edit apart or Jaro-Winkler >= 0.88 (a typo), also once nicknames stand for their full
names (Dot, Doroth), or one record's first name is the other's last name in any of these ways
(swapped). Last names are not compared: people change them and keep their address. A record without
a first name proves nothing.
"""

from __future__ import annotations

from itertools import combinations

import pandas as pd
from rapidfuzz.distance import OSA, JaroWinkler

from blueprint_pipeline.identity.matching.prepare import clean, name_forms
from blueprint_pipeline.identity.tables import isin

COLUMNS = ["email", "reason", "records"]
SIMILAR_FIRST_NAMES = 0.88  # Jaro-Winkler: the model's looser name level


def nickname_names(name: str) -> frozenset[str]:
    """The full names a first name may stand for, itself included (prepare.name_forms)."""
    return frozenset(name_forms(name))


def local_part(email: str) -> str:
    """'Info+EMEA@acme.com' -> 'info'."""
    return email.split("@", 1)[0].split("+", 1)[0].strip().lower()


def _close(a: str, b: str) -> bool:
    if a == b or a.startswith(b) or b.startswith(a):
        return True
    return OSA.distance(a, b) <= 1 or JaroWinkler.similarity(a, b) >= SIMILAR_FIRST_NAMES


def same_name(a: str, b: str) -> bool:
    """Two cleaned first names (or a first and a last name) that one person may have written:
    close (equal, one starting the other, a typo), or close once nicknames stand for their full
    names (Dot and a typo'd Doroth are Dorothy)."""
    if _close(a, b):
        return True
    return any(_close(x, y) for x in nickname_names(a) for y in nickname_names(b))


def same_person_names(a: tuple[str | None, str | None], b: tuple[str | None, str | None]) -> bool:
    """(first, last) of two records: False only when their first names clearly differ. A missing
    name (None, or pandas' NaN) proves nothing."""
    (first_a, last_a), (first_b, last_b) = (
        tuple(v if isinstance(v, str) else None for v in x) for x in (a, b)
    )
    if not first_a or not first_b or same_name(first_a, first_b):
        return True
    return bool((last_b and same_name(first_a, last_b)) or (last_a and same_name(first_b, last_a)))


def shared_mailboxes(nodes: pd.DataFrame, role_mailboxes: list[str]) -> pd.DataFrame:
    """`nodes`: live records with `email`, `first_name`, `last_name`. One row per shared address
    (normalised: trimmed, lower-cased): COLUMNS, sorted by address."""
    roles = set(role_mailboxes)
    email = nodes["email"].str.strip().str.lower().replace("", None)
    counts = email.value_counts()
    addresses = counts.index.to_series()
    role = sorted(addresses[addresses.map(local_part).isin(roles)])
    rows = [(a, "role_local_part", int(counts[a])) for a in role]
    # Names are cleaned and compared only at the other addresses with several records.
    several = isin(email, counts.index[counts > 1].difference(role)).to_numpy()
    people = pd.DataFrame(
        {
            "email": email[several],
            "first": nodes.loc[several, "first_name"].map(clean),
            "last": nodes.loc[several, "last_name"].map(clean),
        }
    )
    # Only an address with two different first names needs the pairwise look (most copies agree).
    firsts = people.dropna(subset=["first"]).groupby("email")["first"].nunique()
    people = people[people["email"].isin(firsts.index[firsts > 1])]
    for address, records in people.groupby("email", sort=False):
        names = set(zip(records["first"], records["last"], strict=True))
        if any(not same_person_names(a, b) for a, b in combinations(names, 2)):
            rows.append((address, "different_names", len(records)))
    frame = pd.DataFrame(rows, columns=COLUMNS).astype({"records": "int64"})
    return frame.sort_values("email", ignore_index=True)
