"""Person-to-account links: weigh each person's clues, link above the threshold, review the rest.

Methods, strongest first (confidences from config `identity.account_links`):
- `crm_account_id`, `lead_conversion`, `marketo_sfdc_account`: an account id a record carries;
- `email_domain`: the work email domain is an account's domain, or under it (eu.acme.com); a
  domain with the same name under another suffix (acme.co.uk ~ acme.com) is a weaker candidate;
- `company_name`: the company typed in a form or lead matches an account name, by rapidfuzz's
  token_sort_ratio on names without legal words, only for pairs with a word starting alike
  (blocking), so it scales to millions of persons.
A personal email domain never gives a candidate. Account ids go through `account_aliases`.
Company names are matched only for persons no id or domain links at the threshold.
One row per (person, account): the strongest method, every clue in the evidence. Links are the
candidates at or above the threshold, plus the approved ones; the rest (above the review floor,
for persons with no link) go to review; rejected pairs go nowhere. `is_primary` marks each
linked person's strongest link. Pure pandas and rapidfuzz; the asset does the I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path

import duckdb
import pandas as pd
from rapidfuzz import fuzz
from rapidfuzz.process import cpdist

from blueprint_pipeline.config import LoadedConfig
from blueprint_pipeline.config.files import check_choice, check_dates, read_user_csv
from blueprint_pipeline.config.models import LINK_METHODS, AccountLinkPolicy
from blueprint_pipeline.identity.tables import isin, typed

LINK_COLUMNS = [
    "person_id",
    "account_id",
    "method",
    "confidence",
    "is_primary",
    "clue",
    "evidence",
    "decided_by",
]
REVIEW_COLUMNS = ["person_id", "account_id", "method", "confidence", "clue", "evidence", "reason"]
LINK_TYPES = {"confidence": "float64", "is_primary": "bool"}
DECISION_COLUMNS = ["person_id", "account_id", "decision", "decided_by", "decided_at", "note"]
ID_METHODS = ("crm_account_id", "lead_conversion", "marketo_sfdc_account")
METHOD_RANK = {
    m: i
    for i, m in enumerate(
        ("crm_account_id", "lead_conversion", "marketo_sfdc_account", "email_domain", "company_name")
    )
}
assert set(METHOD_RANK) == set(LINK_METHODS)

LEGAL_WORDS = frozenset(
    {"the", "inc", "incorporated", "llc", "llp", "ltd", "limited", "corp", "corporation", "co", "company"}
    | {"plc", "gmbh", "ag", "sa", "sas", "sarl", "bv", "nv", "oy", "ab", "as", "spa", "srl", "pty", "kk"}
    | {"group", "holding", "holdings"}
)
SECOND_LEVEL = frozenset({"co", "com", "org", "net", "ac", "gov", "edu", "ltd", "plc", "ne", "or"})
BLOCK_PREFIX = 4
MAX_NAME_CANDIDATES = 3  # accounts kept per company name, best first
MAX_KEY_ACCOUNTS = 500  # a blocking key more accounts share than this is too common to block on


def block_keys(name: str) -> list[str]:
    """Blocking keys of a normalised name: the first BLOCK_PREFIX letters of each word, and each
    pair of them, so that names made of common words ("global data solutions") still meet on a
    rarer pair. A company and an account are compared only when they share a key that fewer than
    MAX_KEY_ACCOUNTS accounts have ("initec" meets "initech"; "beta labs" meets "beta labs inc")."""
    prefixes = sorted({word[:BLOCK_PREFIX] for word in name.split()})
    return prefixes + [f"{a}|{b}" for a, b in combinations(prefixes, 2)]


def normalise_name(name: str) -> str:
    """'The ACME Corp., Inc.' -> 'acme': lower case, punctuation out, legal words out."""
    words = re.sub(r"[^0-9a-z]+", " ", str(name).lower()).split()
    kept = [w for w in words if w not in LEGAL_WORDS]
    return " ".join(kept or words)


def domain_name(domain: str) -> str:
    """The label before the public suffix: acme.com -> acme, acme.co.uk -> acme (a short list of
    second-level suffixes, not the whole public-suffix list: good enough to *propose* a match)."""
    labels = domain.split(".")
    if len(labels) >= 3 and labels[-2] in SECOND_LEVEL and len(labels[-1]) == 2:
        return labels[-3]
    return labels[-2] if len(labels) >= 2 else labels[0]


@dataclass(frozen=True)
class Decisions:
    frame: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=DECISION_COLUMNS))
    path: str = ""


def read_decisions(path: Path | None) -> Decisions:
    """The reviewers' decisions file, or none. A bad row is an error naming the file, row and field.
    The last line for a pair wins (the file is a log a reviewer appends to)."""
    if path is None or not path.exists():
        return Decisions()
    frame = read_user_csv(
        path, DECISION_COLUMNS, required=("person_id", "account_id", "decision", "decided_by")
    )
    frame = check_choice(path, frame, "decision", ("approve", "reject"))
    check_dates(path, frame, "decided_at")
    return Decisions(
        frame.drop_duplicates(["person_id", "account_id"], keep="last")[DECISION_COLUMNS], str(path)
    )


def decisions_for(loaded: LoadedConfig) -> Decisions:
    """The decisions file the config names, read and checked (`blueprint run` and
    `validate-config` call this first, so a bad row stops them before any work)."""
    return read_decisions(loaded.user_file(loaded.config.identity.account_links.decisions_file))


@dataclass(frozen=True)
class LinkResult:
    links: pd.DataFrame  # LINK_COLUMNS
    review: pd.DataFrame  # REVIEW_COLUMNS
    stats: dict[str, int]


def _id_candidates(
    evidence: pd.DataFrame, accounts: pd.DataFrame, resolve: pd.Series, policy: AccountLinkPolicy
) -> tuple[pd.DataFrame, int]:
    found = evidence[evidence["method"].isin(ID_METHODS)]
    account = found["value"].map(resolve).fillna(found["value"])
    known = isin(account, accounts["account_id"])
    found = found[known].assign(account_id=account[known])
    text = found["source_key"] + " names account " + found["value"]
    return found.assign(
        confidence=found["method"].map(policy.method_confidence),
        evidence=text.where(
            found["value"] == found["account_id"], text + " (merged into " + found["account_id"] + ")"
        ),
    ), int((~known).sum())


def _domain_candidates(
    evidence: pd.DataFrame, accounts: pd.DataFrame, personal: set[str], policy: AccountLinkPolicy
) -> pd.DataFrame:
    found = evidence[(evidence["method"] == "email_domain") & ~evidence["value"].isin(personal)]
    # Which record's clue names a domain must not depend on the order rows arrive in.
    found = found.sort_values(["person_id", "value", "source_key"]).drop_duplicates(["person_id", "value"])
    columns = ["person_id", "source_key", "method", "value", "account_id", "confidence", "evidence"]
    if found.empty:
        return pd.DataFrame(columns=columns)
    # Per domain, the account highest in its hierarchy, then the oldest, then the smallest id.
    by_domain = (
        accounts.dropna(subset=["domain"])
        .sort_values(["domain", "hierarchy_level", "created_at", "account_id"], na_position="last")
        .drop_duplicates("domain")
        .set_index("domain")["account_id"]
    )
    # Work out each distinct email domain once (far fewer than persons): its account through the
    # domain itself or a parent domain (eu.mail.acme.com, mail.acme.com, acme.com), else the
    # account domains with the same name under another suffix (acme.co.uk ~ acme.com).
    accounts_of = by_domain.to_dict()
    same_name: dict[str, list[str]] = {}
    for domain in accounts_of:
        same_name.setdefault(domain_name(domain), []).append(domain)
    exact_rows, related_rows = [], []
    for domain in found["value"].unique():
        labels = domain.split(".")
        parents = (".".join(labels[i:]) for i in range(len(labels) - 1))
        matched = next((d for d in parents if d in accounts_of), None)
        if matched:
            how = " is the account domain" if matched == domain else f" is under {matched}"
            exact_rows.append((domain, accounts_of[matched], f" email domain {domain}{how}"))
        else:
            related_rows += [
                (domain, accounts_of[d], f" email domain {domain} ~ account domain {d}")
                for d in same_name.get(domain_name(domain), ())
            ]

    def matches(rows: list[tuple[str, str, str]], confidence: float) -> pd.DataFrame:
        table = pd.DataFrame(rows, columns=["value", "account_id", "how"], dtype="string")
        joined = found.merge(table, on="value")
        return joined.assign(confidence=confidence, evidence=joined["source_key"] + joined["how"])

    exact = matches(exact_rows, policy.method_confidence["email_domain"])
    related = matches(related_rows, policy.related_domain_confidence)
    return pd.concat([exact[columns], related[columns]], ignore_index=True)


def _name_candidates(
    evidence: pd.DataFrame, accounts: pd.DataFrame, policy: AccountLinkPolicy
) -> pd.DataFrame:
    found = evidence[evidence["method"] == "company_name"]
    found = found.assign(name=found["value"].map(normalise_name))
    found = found.sort_values(["person_id", "name", "source_key"]).drop_duplicates(["person_id", "name"])
    named = accounts.dropna(subset=["account_name"])
    named = named.assign(name=named["account_name"].map(normalise_name))[
        ["account_id", "account_name", "name"]
    ]

    def tokens(frame: pd.DataFrame) -> pd.DataFrame:
        return frame.assign(token=frame["name"].map(block_keys)).explode("token").dropna(subset=["token"])

    account_tokens = tokens(named)[["account_id", "token"]].drop_duplicates()
    common = account_tokens["token"].value_counts()
    account_tokens = account_tokens[account_tokens["token"].map(common) <= MAX_KEY_ACCOUNTS]
    companies = found[["name"]].drop_duplicates()
    pairs = (
        tokens(companies)[["name", "token"]]
        .merge(account_tokens, on="token")
        .drop_duplicates(["name", "account_id"])
        .merge(named.rename(columns={"name": "account_norm"}), on="account_id")
    )
    if pairs.empty:
        return pd.DataFrame(
            columns=[
                "person_id",
                "source_key",
                "method",
                "value",
                "account_id",
                "confidence",
                "evidence",
                "ambiguous",
            ]
        )
    # rapidfuzz returns float32: as float64, rounded, a perfect match times 0.9 is exactly 0.9.
    pairs["similarity"] = cpdist(
        pairs["name"].tolist(), pairs["account_norm"].tolist(), scorer=fuzz.token_sort_ratio, workers=-1
    ).astype("float64")
    pairs = pairs[pairs["similarity"] >= policy.min_name_similarity]
    # A name that matches several accounts equally well is ambiguous: a reviewer decides. Each
    # name keeps its MAX_NAME_CANDIDATES best accounts (a reviewer reads no longer list).
    best = pairs.groupby("name")["similarity"].transform("max")
    pairs = pairs.assign(ambiguous=(pairs["similarity"] == best).groupby(pairs["name"]).transform("sum") > 1)
    pairs = pairs.sort_values(["name", "similarity", "account_id"], ascending=[True, False, True])
    pairs = pairs.groupby("name", sort=False).head(MAX_NAME_CANDIDATES)
    matched = found.merge(pairs, on="name")
    return matched.assign(
        confidence=(policy.method_confidence["company_name"] * (matched["similarity"] / 100)).round(6),
        evidence=matched["source_key"]
        + " company '"
        + matched["value"]
        + "' ~ account '"
        + matched["account_name"]
        + "' ("
        + matched["similarity"].round().astype(int).astype(str)
        + "%)",
    )[["person_id", "source_key", "method", "value", "account_id", "confidence", "evidence", "ambiguous"]]


def link(
    evidence: pd.DataFrame,
    accounts: pd.DataFrame,
    aliases: pd.DataFrame,
    personal_domains: set[str],
    policy: AccountLinkPolicy,
    decisions: Decisions | None = None,
) -> LinkResult:
    """`evidence`: int_person_account_evidence; `accounts`: unified_accounts; `aliases`: account_aliases."""
    decisions = decisions or Decisions()
    resolve = aliases.set_index("alias_account_id")["account_id"]
    ids, unknown_accounts = _id_candidates(evidence, accounts, resolve, policy)
    domains = _domain_candidates(evidence, accounts, personal_domains, policy)
    # Deterministic and domain links first; company names only for the persons still unlinked.
    # (A link a reviewer rejected settles nothing: the person's company name is still tried.)
    settled = pd.concat([ids, domains])
    rejected = decisions.frame.loc[decisions.frame["decision"] == "reject", ["person_id", "account_id"]]
    settled = settled.merge(rejected.assign(rejected=True), on=["person_id", "account_id"], how="left")
    confident = (settled["confidence"] >= policy.threshold) & settled["rejected"].isna()
    settled = settled.loc[confident, "person_id"].unique()
    names = _name_candidates(evidence[~isin(evidence["person_id"], settled).to_numpy()], accounts, policy)
    candidates = pd.concat(
        [ids.assign(ambiguous=False), domains.assign(ambiguous=False), names], ignore_index=True
    )
    candidates["rank"] = candidates["method"].map(METHOD_RANK)
    candidates = candidates.drop_duplicates(["person_id", "account_id", "evidence"])
    # One row per (person, account): the strongest clue and every clue's evidence. DuckDB does
    # this group-by over the frame in place (pandas would call Python once per pair).
    pairs = duckdb.sql(
        """
        select person_id, account_id,
            first(method order by confidence desc, rank, evidence) as method,
            first(value order by confidence desc, rank, evidence) as clue,
            max(confidence) as confidence,
            min(rank) as rank,
            bool_and(ambiguous) as ambiguous,
            string_agg(evidence, '; ' order by confidence desc, rank, evidence) as evidence
        from candidates
        group by person_id, account_id
        order by person_id, account_id
        """
    ).df()
    pairs["ambiguous"] = pairs["ambiguous"].astype(bool)

    decided = decisions.frame.set_index(["person_id", "account_id"])
    key = pd.MultiIndex.from_frame(pairs[["person_id", "account_id"]])
    # Plain text with "" for "no decision": missing values would make the masks below unknown.
    decision = pd.Series(decided["decision"].reindex(key).fillna("").astype(str).values, index=pairs.index)
    pairs["decided_by"] = pd.Series(decided["decided_by"].reindex(key).values, index=pairs.index).where(
        decision != ""
    )
    confident = (pairs["confidence"] >= policy.threshold) & ~pairs["ambiguous"]
    is_link = (confident & (decision != "reject")) | (decision == "approve")
    links = pairs[is_link].copy()
    links["decided_by"] = links["decided_by"].where(decision[is_link] == "approve")
    links = links.sort_values(
        ["person_id", "confidence", "rank", "account_id"], ascending=[True, False, True, True]
    )
    links["is_primary"] = ~links["person_id"].duplicated()

    open_pairs = pairs[~is_link & (decision == "") & (pairs["confidence"] >= policy.review_floor)]
    open_pairs = open_pairs[~isin(open_pairs["person_id"], links["person_id"]).to_numpy()]
    review = open_pairs.assign(
        reason=open_pairs["ambiguous"].map({True: "several accounts match equally", False: "below threshold"})
    )
    matched = set(zip(pairs["person_id"], pairs["account_id"], strict=True))
    stale = sum(
        (p, a) not in matched
        for p, a in zip(decisions.frame["person_id"], decisions.frame["account_id"], strict=True)
    )
    return LinkResult(
        links=typed(links[LINK_COLUMNS].reset_index(drop=True), LINK_TYPES),
        review=typed(
            review[REVIEW_COLUMNS].sort_values(
                ["person_id", "confidence"], ascending=[True, False], ignore_index=True
            ),
            LINK_TYPES,
        ),
        stats={
            "candidates": len(pairs),
            "ids_to_unknown_accounts": unknown_accounts,
            "approved": int((decision == "approve").sum()),
            "rejected": int((decision == "reject").sum()),
            "decisions_matching_no_candidate": stale,
        },
    )
