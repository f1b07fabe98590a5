"""The dirty-duplicates profile: person records as hand-kept CRM and Marketo data holds them, with
the truth written beside them, to score person matching (`blueprint bench --identity`).

Each person works at one account. 30% of persons have records in two or more systems (Salesforce
contacts, Salesforce leads, Marketo leads, LinkedIn lead-gen forms); nothing links those records
but what they hold (no Marketo sync ids, no lead conversions): the case matching has to solve. A
person's first record is clean; each further record (a *copy*) draws one email defect and,
independently, one name defect, with exact shares of the copies (RATES). Two people share a role
mailbox in 5% of accounts, and 2% of persons share their full name with a person at another
company. The rates were fixed before any matching was tuned against them.

The truth (`truth/persons.csv`: source key -> true person id, with the record's system and
defects) sits beside the system folders, where no source object reads it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from blueprint_pipeline.generator import vocab

TRUTH_FILE = Path("truth") / "persons.csv"
SYSTEMS = ("salesforce_contact", "salesforce_lead", "marketo_lead", "linkedin_response")
SYSTEM_WEIGHTS = np.array([0.3, 0.3, 0.3, 0.1])
# How many systems a multi-system person is in.
SYSTEM_COUNTS = {2: 0.70, 3: 0.22, 4: 0.08}
LINKEDIN = SYSTEMS.index("linkedin_response")


@dataclass(frozen=True)
class DirtyRates:
    multi_system: float = 0.30  # of persons: records in two or more systems
    # Of the copies (every record of a person after the first); email defects exclude each other,
    # name defects exclude each other, an email defect and a name defect can meet on one copy.
    email_typo: float = 0.25  # one edit in the email's local part
    no_email: float = 0.20
    personal_email: float = 0.10  # a free-mail address instead of the work one
    swapped_names: float = 0.10  # first and last name exchanged
    nickname: float = 0.10  # Bob for Robert (only names with a nickname in vocab.NICKNAMES)
    name_typo: float = 0.15  # one edit in the first or the last name
    role_mailbox_accounts: float = 0.05  # of accounts: two people at it use one info@ address
    shared_full_name: float = 0.02  # of persons: the full name of a person at another company


RATES = DirtyRates()


def exact_count(rate: float, n: int) -> int:
    return int(round(rate * n))


def one_edit(rng: np.random.Generator, text: str) -> str:
    """`text` with one letter substituted, deleted or inserted (Levenshtein distance 1)."""
    letters = "abcdefghijklmnopqrstuvwxyz"
    k = int(rng.integers(0, len(text)))
    op = int(rng.integers(0, 3)) if len(text) > 3 else 0
    if op == 1:
        return text[:k] + text[k + 1 :]
    new = letters[int(rng.integers(0, 26))]
    if op == 2:
        return text[:k] + new + text[k:]
    while new == text[k].lower():  # a substitution must change the letter
        new = letters[int(rng.integers(0, 26))]
    return text[:k] + (new.upper() if text[k].isupper() else new) + text[k + 1 :]


def keep_spoiled_addresses_own(
    email: np.ndarray, person: np.ndarray, spoiled: np.ndarray, work: pd.Series
) -> None:
    """A typo or a private address that happens to be another person's address (jsmith -> asmith,
    two John Smiths at gmail) would join two people by the generator's chance, not by anything
    the data means: such an address gets its person's number until it is its person's own. Only the role
    mailboxes are shared on purpose."""
    for _ in range(10):
        owners = pd.DataFrame({"email": np.concatenate([email, work.to_numpy()]),
                               "person": np.concatenate([person, np.arange(len(work))])})  # fmt: skip
        owners = owners[owners["email"] != ""].drop_duplicates()
        shared = owners["email"][owners["email"].duplicated()].unique()
        clash = spoiled[np.isin(email[spoiled], shared)]
        if not len(clash):
            return
        for i in clash:
            local, domain = email[i].split("@")
            email[i] = f"{local}{person[i]}@{domain}"  # the person's number: unlike anyone's


def dirty_persons(rng: np.random.Generator, n: int, accts: pd.DataFrame) -> pd.DataFrame:
    """The people: account, names, work email, and which of them share a name or a role mailbox."""
    size = rng.lognormal(0, 1.0, len(accts))
    account = rng.choice(len(accts), size=n, p=size / size.sum())
    first = np.asarray(vocab.FIRST_NAMES, dtype=object)[rng.choice(len(vocab.FIRST_NAMES), n)]
    last = np.asarray(vocab.LAST_NAMES, dtype=object)[rng.choice(len(vocab.LAST_NAMES), n)]
    # Namesakes: 2% of persons take the full name of a person at another account.
    shared = np.zeros(n, bool)
    namesakes = rng.permutation(n)[: exact_count(RATES.shared_full_name, n)]
    donors = rng.integers(0, n, len(namesakes))
    for _ in range(100):  # redraw donors at the namesake's own account (few, shrinking fast)
        same = (account[donors] == account[namesakes]) | (donors == namesakes)
        if not same.any():
            break
        donors[same] = rng.integers(0, n, int(same.sum()))
    keep = account[donors] != account[namesakes]
    namesakes, donors = namesakes[keep], donors[keep]
    first[namesakes], last[namesakes] = first[donors], last[donors]
    shared[namesakes] = True
    domain = accts["_domain"].to_numpy()[account]
    f, la = pd.Series(first).str.lower(), pd.Series(last).str.lower().str.replace("'", "")
    style = rng.choice(3, size=n, p=[0.7, 0.2, 0.1])
    local = pd.Series(np.select([style == 0, style == 1], [f + "." + la, f.str[0] + la], f + "_" + la))
    repeat = (local + "@" + domain).groupby(local + "@" + domain).cumcount()
    local = local.where(repeat == 0, local + repeat.astype(str))
    email = (local + "@" + domain).to_numpy(dtype=object)
    # Role mailboxes: in 5% of accounts (among those with two people or more), two people
    # signed up with the team's shared address.
    role = np.zeros(n, bool)
    people_at = pd.Series(np.arange(n)).groupby(account).apply(list)
    eligible = people_at[people_at.str.len() >= 2]
    chosen = rng.permutation(len(eligible))[: exact_count(RATES.role_mailbox_accounts, len(accts))]
    for i in chosen:
        pair = rng.choice(eligible.iloc[i], size=2, replace=False)
        mailbox = vocab.ROLE_MAILBOXES[int(rng.integers(len(vocab.ROLE_MAILBOXES)))]
        email[pair] = f"{mailbox}@{domain[pair[0]]}"
        role[pair] = True
    return pd.DataFrame(
        {
            "account": account,
            "first": first,
            "last": last,
            "email": email,
            "title_idx": rng.choice(len(vocab.TITLES), size=n),
            "phone": [f"+1 555 {x:07d}" for x in rng.integers(0, 10**7, n)],
            "shared_name": shared,
            "role_mailbox": role,
        }
    )


def person_records(rng: np.random.Generator, n: int) -> pd.DataFrame:
    """One row per (person, system) record; `is_copy` for every record after a person's first."""
    systems = np.ones(n, int)
    multi = rng.permutation(n)[: exact_count(RATES.multi_system, n)]
    counts = np.array(list(SYSTEM_COUNTS))
    systems[multi] = counts[rng.choice(len(counts), size=len(multi), p=list(SYSTEM_COUNTS.values()))]
    # Weighted draws without replacement, all persons at once (Gumbel top-k).
    keys = np.log(SYSTEM_WEIGHTS)[None, :] + rng.gumbel(size=(n, len(SYSTEMS)))
    order = np.argsort(-keys, axis=1)
    parts = []
    for rank in range(len(SYSTEMS)):
        who = np.flatnonzero(systems > rank)
        parts.append(pd.DataFrame({"person": who, "system": order[who, rank], "is_copy": rank > 0}))
    return pd.concat(parts, ignore_index=True).sort_values(["system", "person"], ignore_index=True)


def apply_defects(rng: np.random.Generator, records: pd.DataFrame, people: pd.DataFrame) -> pd.DataFrame:
    """The records' names and emails, copies spoiled at the exact shares of RATES."""
    person = records["person"].to_numpy()
    first = people["first"].to_numpy()[person].copy()
    last = people["last"].to_numpy()[person].copy()
    email = people["email"].to_numpy()[person].copy()
    defects = np.full(len(records), "", dtype=object)
    copies = np.flatnonzero(records["is_copy"].to_numpy())
    m = len(copies)

    def mark(rows: np.ndarray, name: str) -> None:
        defects[rows] = np.where(defects[rows] == "", name, defects[rows] + ";" + name)

    # Email: a LinkedIn form always has the address (it is its key), so no-email copies are CRM
    # and Marketo records, as many as 20% of all copies.
    system = records["system"].to_numpy()
    not_linkedin = copies[system[copies] != LINKEDIN]
    no_email = rng.permutation(not_linkedin)[: exact_count(RATES.no_email, m)]
    rest = rng.permutation(np.setdiff1d(copies, no_email))
    n_typo = exact_count(RATES.email_typo, m)
    email_typo, personal = rest[:n_typo], rest[n_typo : n_typo + exact_count(RATES.personal_email, m)]
    email[no_email] = ""
    mark(no_email, "no_email")
    for i in email_typo:
        local, domain = email[i].split("@")
        email[i] = one_edit(rng, local) + "@" + domain
    mark(email_typo, "email_typo")
    for i in personal:
        local = email[i].split("@")[0]
        if rng.random() < 0.5:  # a private address of another form: first + last + digits
            local = f"{first[i]}{last[i]}{int(rng.integers(10, 100))}".lower().replace("'", "")
        email[i] = local + "@" + vocab.PERSONAL_DOMAINS[int(rng.integers(len(vocab.PERSONAL_DOMAINS)))]
    mark(personal, "personal_email")
    keep_spoiled_addresses_own(email, person, np.concatenate([email_typo, personal]), people["email"])
    # Names: nicknames only where the first name has one.
    has_nickname = np.isin(first[copies], list(vocab.NICKNAMES))
    nickname = rng.permutation(copies[has_nickname])[: exact_count(RATES.nickname, m)]
    rest = rng.permutation(np.setdiff1d(copies, nickname))
    n_swap = exact_count(RATES.swapped_names, m)
    swapped, name_typo = rest[:n_swap], rest[n_swap : n_swap + exact_count(RATES.name_typo, m)]
    first[nickname] = [vocab.NICKNAMES[name] for name in first[nickname]]
    mark(nickname, "nickname")
    first[swapped], last[swapped] = last[swapped], first[swapped].copy()
    mark(swapped, "swapped_names")
    for i in name_typo:
        if rng.random() < 0.5:
            first[i] = one_edit(rng, first[i])
        else:
            last[i] = one_edit(rng, last[i])
    mark(name_typo, "name_typo")
    return records.assign(first=first, last=last, email=email, defects=defects)
