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
linked person's strongest link. The clues' set logic runs in DuckDB (the warehouse's own when it
is DuckDB, else an embedded one) over the inputs, rapidfuzz scores the names; the asset does the
I/O.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
from rapidfuzz import fuzz
from rapidfuzz.process import cpdist

from blueprint_pipeline.config import LoadedConfig
from blueprint_pipeline.config.files import check_choice, check_dates, read_user_csv
from blueprint_pipeline.config.models import LINK_METHODS, AccountLinkPolicy
from blueprint_pipeline.identity.tables import arrow_frame, text_array, typed

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


def _domain_matches(domains: list[str], accounts: pd.DataFrame) -> pd.DataFrame:
    """Per distinct email domain (far fewer than persons), its accounts: through the domain itself
    or a parent domain (eu.mail.acme.com, mail.acme.com, acme.com), `exact`; else the account
    domains with the same name under another suffix (acme.co.uk ~ acme.com). Columns value,
    account_id, how (the evidence's words after the record's key), exact."""
    # Per domain, the account highest in its hierarchy, then the oldest, then the smallest id.
    by_domain = (
        accounts.dropna(subset=["domain"])
        .sort_values(["domain", "hierarchy_level", "created_at", "account_id"], na_position="last")
        .drop_duplicates("domain")
        .set_index("domain")["account_id"]
    )
    accounts_of = by_domain.to_dict()
    same_name: dict[str, list[str]] = {}
    for domain in accounts_of:
        same_name.setdefault(domain_name(domain), []).append(domain)
    rows = []
    for domain in domains:
        labels = domain.split(".")
        parents = (".".join(labels[i:]) for i in range(len(labels) - 1))
        matched = next((d for d in parents if d in accounts_of), None)
        if matched:
            how = " is the account domain" if matched == domain else f" is under {matched}"
            rows.append((domain, accounts_of[matched], f" email domain {domain}{how}", True))
        else:
            rows += [
                (domain, accounts_of[d], f" email domain {domain} ~ account domain {d}", False)
                for d in same_name.get(domain_name(domain), ())
            ]
    return pa.table(
        {
            "value": text_array([r[0] for r in rows]),
            "account_id": text_array([r[1] for r in rows]),
            "how": text_array([r[2] for r in rows]),
            "exact": pa.array([r[3] for r in rows], pa.bool_()),
        }
    )


def _name_matches(names: list[str], accounts: pd.DataFrame, policy: AccountLinkPolicy) -> pa.Table:
    """Per distinct normalised company name, its best accounts by rapidfuzz's token_sort_ratio
    among those sharing a blocking key (block_keys), at or above min_name_similarity: columns
    name, account_id, account_name, confidence, percent (the similarity as shown), ambiguous (the
    best similarity is several accounts')."""
    named = accounts.dropna(subset=["account_name"])
    named = named.assign(name=named["account_name"].map(normalise_name))[
        ["account_id", "account_name", "name"]
    ]

    def tokens(frame: pd.DataFrame) -> pd.DataFrame:
        return frame.assign(token=frame["name"].map(block_keys)).explode("token").dropna(subset=["token"])

    account_tokens = tokens(named)[["account_id", "token"]].drop_duplicates()
    common = account_tokens["token"].value_counts()
    account_tokens = account_tokens[account_tokens["token"].map(common) <= MAX_KEY_ACCOUNTS]
    pairs = (
        tokens(pd.DataFrame({"name": names}, dtype=object))[["name", "token"]]
        .merge(account_tokens, on="token")
        .drop_duplicates(["name", "account_id"])
        .merge(named.rename(columns={"name": "account_norm"}), on="account_id")
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
    return pa.table(
        {
            "name": text_array(pairs["name"]),
            "account_id": text_array(pairs["account_id"]),
            "account_name": text_array(pairs["account_name"]),
            "confidence": pa.array(
                (policy.method_confidence["company_name"] * (pairs["similarity"] / 100)).round(6),
                pa.float64(),
            ),
            "percent": text_array(pairs["similarity"].round().astype(int).astype(str)),
            "ambiguous": pa.array(pairs["ambiguous"].astype(bool), pa.bool_()),
        }
    )


def _text_table(frame: pd.DataFrame, columns: list[str]) -> pa.Table:
    """The frame's columns as Arrow text (an empty or missing column typed all the same)."""
    return pa.table(
        {c: text_array(frame[c]) if c in frame else pa.nulls(len(frame), pa.large_string()) for c in columns}
    )


# Each method's candidates, one row per clue (person_id, source_key, method, value, account_id,
# confidence, evidence, ambiguous), over the tables link() registers. Account ids go through
# the aliases, and only a live account counts.
# A clue's account is a live one (a missing id is one only if an account has none, as pandas'
# isin said); membership tests below use `is not distinct from` so that a missing key is a key.
_KNOWN = "select 1 from accounts as a where a.account_id is not distinct from i.account_id"
_IDS = """
    select e.person_id, e.source_key, e.method, e.value, coalesce(al.account_id, e.value) as account_id
    from evidence as e left join aliases as al on al.alias_account_id = e.value
    where e.method in (select method from id_methods)"""
_ID_CANDIDATES = f"""
    select i.person_id, i.source_key, i.method, i.value, i.account_id, c.confidence,
        i.source_key || ' names account ' || i.value
            || case when i.value = i.account_id then '' else ' (merged into ' || i.account_id || ')' end
            as evidence,
        false as ambiguous
    from ids as i join confidences as c on c.method = i.method
    where exists ({_KNOWN})"""
# Which record's clue names a domain must not depend on the order rows arrive in: the first key.
_DOMAIN_CANDIDATES = """
    select f.person_id, f.source_key, 'email_domain' as method, f.value, m.account_id,
        case when m.exact then $domain else $related end as confidence,
        f.source_key || m.how as evidence, false as ambiguous
    from (
        select person_id, value, min(source_key) as source_key from evidence
        where method = 'email_domain' and value not in (select domain from personal)
        group by person_id, value
    ) as f join domain_matches as m on m.value = f.value"""
# Company names only for persons no id or domain links at the threshold (a link a reviewer
# rejected settles nothing), per person and name the clue of the first record.
_SETTLED = """
    select distinct s.person_id
    from (select * from id_candidates union all select * from domain_candidates) as s
    where s.confidence >= $threshold and not exists (
        select 1 from decisions as d
        where d.decision = 'reject' and d.person_id = s.person_id and d.account_id = s.account_id)"""
_NAME_CANDIDATES = """
    select f.person_id, f.source_key, 'company_name' as method, f.value, m.account_id, m.confidence,
        f.source_key || ' company ''' || f.value || ''' ~ account ''' || m.account_name || ''' ('
            || m.percent || '%)' as evidence,
        m.ambiguous
    from (
        select e.person_id, n.name, min(e.source_key) as source_key,
            first(e.value order by e.source_key, e.value) as value
        from evidence as e join company_names as n on n.value = e.value
        where e.method = 'company_name' and not exists (
            select 1 from settled as s where s.person_id is not distinct from e.person_id)
        group by e.person_id, n.name
    ) as f join name_matches as m on m.name = f.name"""
# One row per (person, account): the strongest clue and every clue's evidence (a clue found
# twice counts once, its strongest method), then the reviewers' decision and whether it links.
_PAIRS = """
    with candidates as (
        select c.*, r.rank from (
            select * from id_candidates union all select * from domain_candidates
            union all select * from name_candidates
        ) as c join ranks as r on r.method = c.method
        qualify row_number() over (
            partition by c.person_id, c.account_id, c.evidence order by c.confidence desc, r.rank
        ) = 1
    ),
    grouped as (
        select person_id, account_id,
            first(method order by confidence desc, rank, evidence) as method,
            first(value order by confidence desc, rank, evidence) as clue,
            max(confidence) as confidence,
            min(rank) as rank,
            bool_and(ambiguous) as ambiguous,
            string_agg(evidence, '; ' order by confidence desc, rank, evidence) as evidence
        from candidates group by person_id, account_id
    )
    select g.*, coalesce(d.decision, '') as decision,
        case when d.decision = 'approve' then d.decided_by end as decided_by,
        (g.confidence >= $threshold and not g.ambiguous and coalesce(d.decision, '') <> 'reject')
            or coalesce(d.decision, '') = 'approve' as is_link
    from grouped as g
    left join decisions as d on d.person_id = g.person_id and d.account_id = g.account_id"""
# is_primary marks each linked person's strongest link.
_LINKS = """
    select person_id, account_id, method, confidence,
        row_number() over (partition by person_id order by confidence desc, rank, account_id) = 1
            as is_primary,
        clue, evidence, decided_by
    from pairs where is_link
    order by person_id, confidence desc, rank, account_id"""
_REVIEW = """
    select person_id, account_id, method, confidence, clue, evidence,
        case when ambiguous then 'several accounts match equally' else 'below threshold' end as reason
    from pairs
    where not is_link and decision = '' and confidence >= $floor
        and not exists (
            select 1 from pairs as l where l.is_link and l.person_id is not distinct from pairs.person_id)
    order by person_id, confidence desc, account_id"""
_STATS = """
    select (select count(*) from pairs),
        (select count(*) from pairs where decision = 'approve'),
        (select count(*) from pairs where decision = 'reject'),
        (select count(*) from decisions as d where not exists (
            select 1 from pairs as p where p.person_id = d.person_id and p.account_id = d.account_id))"""


def _distinct_values(con: duckdb.DuckDBPyConnection, method: str, where: str) -> list[str]:
    found = con.execute(
        f"select distinct value from evidence where method = $m and value is not null and {where} "
        "order by value",
        {"m": method},
    ).fetchall()
    return [v for (v,) in found]


_TEMPORARY = ("ids", "id_candidates", "domain_candidates", "settled", "name_candidates", "pairs")


def link(
    evidence: pd.DataFrame | pa.Table | str,
    accounts: pd.DataFrame,
    aliases: pd.DataFrame,
    personal_domains: set[str],
    policy: AccountLinkPolicy,
    decisions: Decisions | None = None,
    engine: duckdb.DuckDBPyConnection | None = None,
) -> LinkResult:
    """`evidence`: int_person_account_evidence's rows (person_id, source_key, method, value), or a
    query giving them in `engine`; `accounts`: unified_accounts; `aliases`: account_aliases. The
    clues' joins and groupings run in DuckDB over the inputs where they lie (4M clues at 1M
    persons): `engine` when given (the warehouse's own DuckDB, whose bounded buffer then holds
    them), else an embedded DuckDB of their own. Python works on the distinct domains and company
    names only."""
    decisions = decisions or Decisions()
    con = engine if engine is not None else duckdb.connect()
    registered: list[str] = []
    try:
        tables = {
            "accounts": _text_table(accounts, ["account_id"]),
            "aliases": _text_table(aliases, ["alias_account_id", "account_id"]),
            "personal": pa.table({"domain": text_array(sorted(personal_domains))}),
            "decisions": _text_table(decisions.frame, ["person_id", "account_id", "decision", "decided_by"]),
            "id_methods": pa.table({"method": text_array(ID_METHODS)}),
            "confidences": pa.table(
                {
                    "method": text_array(list(policy.method_confidence)),
                    "confidence": pa.array(list(policy.method_confidence.values()), pa.float64()),
                }
            ),
            "ranks": pa.table({"method": text_array(list(METHOD_RANK)), "rank": list(METHOD_RANK.values())}),
        }
        if isinstance(evidence, str):
            con.execute(f"create or replace temporary view evidence as {evidence}")
        else:
            tables["evidence"] = evidence

        def register(name: str, table: pa.Table | pd.DataFrame) -> None:
            con.register(name, table)
            registered.append(name)

        for name, table in tables.items():
            register(name, table)

        def create(name: str, sql: str, params: dict | None = None) -> None:
            con.execute(f"create or replace temporary table {name} as {sql}", params)

        create("ids", _IDS)
        create("id_candidates", _ID_CANDIDATES)
        ((unknown,),) = con.sql(f"select count(*) from ids as i where not exists ({_KNOWN})").fetchall()
        domains = _distinct_values(con, "email_domain", "value not in (select domain from personal)")
        register("domain_matches", _domain_matches(domains, accounts))
        confidences = {
            "domain": policy.method_confidence["email_domain"],
            "related": policy.related_domain_confidence,
        }
        create("domain_candidates", _DOMAIN_CANDIDATES, confidences)
        create("settled", _SETTLED, {"threshold": policy.threshold})
        values = _distinct_values(
            con,
            "company_name",
            "not exists (select 1 from settled as s where s.person_id is not distinct from "
            "evidence.person_id)",
        )
        names = [normalise_name(v) for v in values]
        register("company_names", pa.table({"value": text_array(values), "name": text_array(names)}))
        register("name_matches", _name_matches(sorted(set(names)), accounts, policy))
        create("name_candidates", _NAME_CANDIDATES)
        create("pairs", _PAIRS, {"threshold": policy.threshold})
        links = arrow_frame(con.sql(_LINKS).to_arrow_table())
        review = arrow_frame(con.sql(_REVIEW, params={"floor": policy.review_floor}).to_arrow_table())
        ((candidates, approved, rejected, stale),) = con.sql(_STATS).fetchall()
    finally:
        if engine is None:
            con.close()
        else:  # the warehouse's session goes on: leave nothing of this call in it (after an
            # error its transaction is aborted, and the rollback takes the tables with it)
            with contextlib.suppress(duckdb.Error):
                for name in _TEMPORARY:
                    engine.execute(f"drop table if exists temp.{name}")
                if isinstance(evidence, str):
                    engine.execute("drop view if exists temp.evidence")
            for name in registered:
                engine.unregister(name)
    return LinkResult(
        links=typed(links[LINK_COLUMNS], LINK_TYPES),
        review=typed(review[REVIEW_COLUMNS], LINK_TYPES),
        stats={
            "candidates": int(candidates),
            "ids_to_unknown_accounts": int(unknown),
            "approved": int(approved),
            "rejected": int(rejected),
            "decisions_matching_no_candidate": int(stale),
        },
    )
