"""Write a landing directory of synthetic Salesforce, Marketo and LinkedIn exports.

The data has the structure real data has: account hierarchies and shared domains, people present
in several systems with the variations real systems hold (email casing and whitespace, missing
AccountId, personal email domains, converted leads, duplicate contacts and merges, one job title
spelled many ways), a year of timestamped Marketo activity (with duplicates across extract files and
a legacy-format file), campaigns with registrations and attendance, won and lost opportunities with
contact roles, sales tasks, and LinkedIn lead-gen exports with their mixed date formats.

Deterministic for a seed: each table draws from its own random stream. Memory stays bounded: the
activity history, the only large table, is generated and written one chunk at a time.
DuckDB writes the CSV files (it is several times faster than Python's csv module).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from blueprint_pipeline.generator import dirty, vocab
from blueprint_pipeline.generator.manifest import DeliberateDefect, write_manifest
from blueprint_pipeline.generator.scales import Scale

# Tests and benchmarks pin this date so their data never changes; `blueprint generate` (and so
# `make demo`) ends its data today instead: see data_end().
DEFAULT_END = datetime(2026, 11, 20)
ACTIVITY_CHUNK = 1_000_000
WARMUP_CHUNK = 10 * ACTIVITY_CHUNK  # the warm-up extract is one file below xlarge, as it always was
# Marketo activity types and their share of the history (ids from the standard list).
ACTIVITY_MIX = {
    1: 0.26,
    6: 0.14,
    7: 0.13,
    10: 0.14,
    11: 0.07,
    2: 0.04,
    3: 0.04,
    46: 0.03,
    104: 0.05,
    13: 0.05,
    22: 0.045,
    9: 0.005,
}
STREAMS = {
    name: i
    for i, name in enumerate(
        [
            "users",
            "accounts",
            "persons",
            "contacts",
            "leads",
            "marketo",
            "activities",
            "campaigns",
            "opportunities",
            "tasks",
            "linkedin",
            "account_updates",
            "account_duplicates",
            "company_typos",
            "propensity",
            "wins",
            "readiness",
            "warmup",
            "feedback",
            "dirty_persons",
            "dirty_records",
            "dirty_defects",
            "dirty_fields",
        ]
    )
}


def data_end(day: date | None = None) -> datetime:
    """The moment generated data ends: the start (00:00 UTC) of `day`, by default today.

    A build's "now" is the real clock unless given: data ending today keeps a demo's velocities,
    surging and at-risk accounts meaningful on whatever day it is run (docs/decisions.md).
    """
    return datetime.combine(day or datetime.now(UTC).date(), datetime.min.time())


def sf_ids(prefix: str, start: int, n: int) -> np.ndarray:
    """18-character Salesforce-style ids: key prefix, a marker, a zero-padded counter, a suffix."""
    return np.char.add(
        np.char.add(f"{prefix}GEN", np.char.zfill(np.arange(start, start + n).astype(str), 9)), "AAA"
    )


def pick(rng: np.random.Generator, values, n: int, p=None) -> np.ndarray:
    return np.asarray(values, dtype=object)[rng.choice(len(values), size=n, p=p)]


def bools(mask: np.ndarray) -> np.ndarray:
    return np.where(mask, "true", "false").astype(object)


def timestamps(seconds: np.ndarray) -> pd.Series:
    """Epoch seconds as Salesforce writes them: 2026-04-15T03:23:15.000Z."""
    return pd.to_datetime(seconds, unit="s").strftime("%Y-%m-%dT%H:%M:%S.000Z")


@dataclass
class Context:
    out: Path
    seed: int
    scale: Scale
    end: datetime
    report: Callable[[str], None]
    con: duckdb.DuckDBPyConnection
    compress: bool = False  # landing files written as .csv.gz (the truth file stays plain)

    def rng(self, stream: str) -> np.random.Generator:
        return np.random.default_rng([self.seed, STREAMS[stream]])

    @property
    def end_s(self) -> int:
        return int(self.end.replace(tzinfo=UTC).timestamp())  # naive times are UTC, as in the warehouse

    def write(self, frame: pd.DataFrame, relative: str) -> int:
        compress = self.compress and relative != str(dirty.TRUTH_FILE)
        relative += ".gz" if compress else ""
        path = self.out / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        self.con.register("frame", frame)
        self.con.execute(
            f"copy (select * from frame) to '{path}' "
            f"(header, delimiter ',', compression {'gzip' if compress else 'none'})"
        )
        self.con.unregister("frame")
        self.report(f"wrote {relative} ({len(frame):,} rows)")
        return len(frame)


def users(ctx: Context) -> pd.DataFrame:
    rng, n = ctx.rng("users"), max(5, ctx.scale.accounts // 500)
    first, last = pick(rng, vocab.FIRST_NAMES, n), pick(rng, vocab.LAST_NAMES, n)
    frame = pd.DataFrame(
        {
            "Id": sf_ids("005", 0, n),
            "Name": first + " " + last,
            "Email": np.char.lower((first + "." + last + "@ourcompany.example").astype(str)),
            "IsActive": bools(rng.random(n) > 0.1),
        }
    )
    ctx.write(frame, "salesforce/User.csv")
    return frame


def accounts(ctx: Context, user_ids: np.ndarray) -> pd.DataFrame:
    rng, n = ctx.rng("accounts"), ctx.scale.accounts
    w1, w2 = pick(rng, vocab.COMPANY_WORDS, n), pick(rng, vocab.COMPANY_WORDS, n)
    two_words = rng.random(n) < 0.5
    base = np.where(two_words, w1 + " " + w2, w1)
    name = base + " " + pick(rng, vocab.COMPANY_SUFFIXES, n)
    slug = pd.Series(base).str.lower().str.replace(r"[^a-z0-9]", "", regex=True)
    repeat = slug.groupby(slug).cumcount()
    slug = slug.where(repeat == 0, slug + repeat.astype(str))
    domain = (slug + "." + pick(rng, vocab.TLDS, n)).to_numpy(dtype=object)
    # Hierarchies: a tenth of accounts are subsidiaries; half of those share the parent's domain.
    parent = np.full(n, -1)
    child = (rng.random(n) < 0.10) & (np.arange(n) > 10)
    parent[child] = (rng.random(child.sum()) * np.arange(n)[child]).astype(int)
    shares = child & (rng.random(n) < 0.5)
    domain[shares] = domain[parent[shares]]
    # Duplicates: 2% of standalone accounts repeat an earlier standalone account's domain under
    # another spelling of its name ("ACME CORP"): identity merges them (account_aliases).
    dup = ctx.rng("account_duplicates")
    standalone = np.flatnonzero(~child & ~np.isin(np.arange(n), parent[child]))
    dupes = standalone[(dup.random(len(standalone)) < 0.02) & (np.arange(len(standalone)) > 0)]
    earlier = standalone[(dup.random(len(dupes)) * np.searchsorted(standalone, dupes)).astype(int)]
    domain[dupes] = domain[earlier]
    name = name.astype(object)
    name[dupes] = pd.Series(name[earlier]).str.upper().to_numpy()
    website_form = rng.choice(4, size=n)
    website = np.select(
        [website_form == 0, website_form == 1, website_form == 2],
        ["https://www." + domain, domain, "http://" + domain + "/"],
        "www." + domain,
    ).astype(object)
    country_idx = rng.choice(len(vocab.COUNTRIES), size=n, p=_country_weights())
    employees = np.round(rng.lognormal(5.5, 1.6, n)).astype(int) + 1
    revenue = (employees * rng.lognormal(11.8, 0.5, n)).round(-3)
    created = ctx.end_s - rng.integers(400, 1500, n) * 86400 - rng.integers(0, 86400, n)
    frame = pd.DataFrame(
        {
            "Id": sf_ids("001", 0, n),
            "Name": name,
            "Website": np.where(rng.random(n) < 0.05, "", website),
            "Industry": np.where(rng.random(n) < 0.08, "", pick(rng, vocab.INDUSTRIES, n)),
            "NumberOfEmployees": np.where(rng.random(n) < 0.1, "", employees.astype(str)),
            "AnnualRevenue": np.where(rng.random(n) < 0.15, "", revenue.astype(int).astype(str)),
            "BillingCountry": [_country_spelling(rng, i) for i in country_idx],
            "BillingState": "",
            "OwnerId": pick(rng, user_ids, n),
            "ParentId": "",
            "Type": pick(rng, vocab.ACCOUNT_TYPES, n),
            "IsDeleted": "false",
            "CreatedDate": timestamps(created),
            "LastModifiedDate": timestamps(created + rng.integers(0, 300, n) * 86400),
        }
    )
    frame.loc[child, "ParentId"] = frame["Id"].to_numpy()[parent[child]]
    ctx.write(frame, "salesforce/Account.csv")
    frame["_domain"] = domain
    frame["_country"] = [vocab.COUNTRIES[i][0] for i in country_idx]
    return frame


def _country_weights() -> np.ndarray:
    w = np.array([40, 12, 10, 7, 7, 5, 6, 5, 4, 4], dtype=float)
    return w / w.sum()


def _country_spelling(rng: np.random.Generator, i: int) -> str:
    names = vocab.COUNTRIES[i]
    return names[rng.integers(len(names))]


def account_updates(ctx: Context, accts: pd.DataFrame) -> np.ndarray:
    """A later Data Loader drop: upper-cased headers, quoted values, some updates and deletes.
    Returns the deleted accounts' ids."""
    rng = ctx.rng("account_updates")
    chosen = accts.sample(frac=0.05, random_state=rng.integers(1 << 31)).copy()
    n = len(chosen)
    chosen["NumberOfEmployees"] = (rng.lognormal(5.5, 1.6, n).round() + 1).astype(int).astype(str)
    chosen["IsDeleted"] = bools(rng.random(n) < 0.1)
    chosen["LastModifiedDate"] = timestamps(ctx.end_s - rng.integers(1, 20, n) * 86400)
    chosen = chosen.drop(columns=["_domain", "_country"])
    chosen.columns = [c.upper() for c in chosen.columns]
    ctx.write(chosen, f"salesforce/Account_{ctx.end:%Y-%m-%d}.csv")
    return chosen.loc[chosen["ISDELETED"] == "true", "ID"].to_numpy()


RELATIONSHIP_CHECK = "{model}.relationships__{column}__stg_salesforce__accounts"
FEEDBACK_CHECK = "sales_feedback.every_decision_usable"
UNUSABLE_FEEDBACK = 2  # feedback() spoils its first two rows


def deliberate_defects(
    accts: pd.DataFrame, deleted: np.ndarray, ctcs: pd.DataFrame, feedback_rows: int
) -> list[DeliberateDefect]:
    """The rows this data fails checks with on purpose, as a CRM export does: records still pointing
    at an account deleted since, and sales decisions typed wrong."""
    gone = len(deleted)
    live_children = (accts["ParentId"].isin(deleted) & ~accts["Id"].isin(deleted)).sum()
    live_contacts = (ctcs["AccountId"].isin(deleted) & (ctcs["IsDeleted"] == "false")).sum()
    return [
        DeliberateDefect(
            RELATIONSHIP_CHECK.format(model="stg_salesforce__accounts", column="parent_account_id"),
            int(live_children),
            f"accounts whose parent is one of the {gone} accounts the later Account drop deletes "
            "(the CRM keeps the children)",
        ),
        DeliberateDefect(
            RELATIONSHIP_CHECK.format(model="stg_salesforce__contacts", column="account_id"),
            int(live_contacts),
            f"contacts of the {gone} accounts the later Account drop deletes (the CRM keeps the contacts)",
        ),
        DeliberateDefect(
            FEEDBACK_CHECK,
            UNUSABLE_FEEDBACK if feedback_rows > UNUSABLE_FEEDBACK else 0,
            "sales/feedback.csv's first rows: a decision nobody defined ('maybe later') and a "
            "rejection without a reason",
        ),
    ]


def persons(ctx: Context, accts: pd.DataFrame) -> pd.DataFrame:
    """The people behind every system's records (never written: each system sees its own view)."""
    rng, n = ctx.rng("persons"), ctx.scale.persons
    size = rng.lognormal(0, 1.0, len(accts))
    account = rng.choice(len(accts), size=n, p=size / size.sum())
    first, last = pick(rng, vocab.FIRST_NAMES, n), pick(rng, vocab.LAST_NAMES, n)
    title_idx = rng.choice(len(vocab.TITLES), size=n, p=_title_weights())
    f, la = pd.Series(first).str.lower(), pd.Series(last).str.lower().str.replace("'", "")
    style = rng.choice(3, size=n, p=[0.7, 0.2, 0.1])
    local = np.select([style == 0, style == 1], [f + "." + la, f.str[0] + la], f + "_" + la)
    domain = accts["_domain"].to_numpy()[account]
    key = pd.Series(local + "@" + domain)
    repeat = key.groupby(key).cumcount()
    local = pd.Series(local).where(repeat == 0, pd.Series(local) + repeat.astype(str))
    personal = rng.random(n) < 0.08
    domain = np.where(personal, pick(rng, vocab.PERSONAL_DOMAINS, n), domain)
    email = (local + "@" + domain).to_numpy(dtype=object)
    return pd.DataFrame(
        {
            "account": account,
            "first": first,
            "last": last,
            "title_idx": title_idx,
            "email": email,
            "country": accts["_country"].to_numpy()[account],
            "phone": [f"+1 555 {x:07d}" for x in rng.integers(0, 10**7, n)],
            "created": ctx.end_s - rng.integers(30, 1000, n) * 86400 - rng.integers(0, 86400, n),
        }
    )


def _title_weights() -> np.ndarray:
    w = np.array(
        [1, 1, 1, 1, 1, 2, 2, 2, 2, 3, 4, 4, 3, 4, 4, 5, 5, 9, 10, 5, 6, 4, 4, 5, 1, 3, 6], dtype=float
    )
    return w / w.sum()


def title_variant(rng: np.random.Generator, title_idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each record draws its own spelling of the person's title; the department comes with it."""
    titles = np.empty(len(title_idx), dtype=object)
    depts = np.empty(len(title_idx), dtype=object)
    choice = rng.random(len(title_idx))
    for i, (dept, variants) in enumerate(vocab.TITLES):
        rows = title_idx == i
        titles[rows] = np.asarray(variants, dtype=object)[(choice[rows] * len(variants)).astype(int)]
        depts[rows] = dept
    return titles, depts


def messy_email(rng: np.random.Generator, email: np.ndarray) -> np.ndarray:
    """Emails as systems hold them: a few capitalised or upper-cased, a few padded with spaces."""
    out = email.copy()
    r = rng.random(len(email))
    s = pd.Series(email)
    out[r < 0.04] = s[r < 0.04].str.title().to_numpy()
    out[(r >= 0.04) & (r < 0.06)] = s[(r >= 0.04) & (r < 0.06)].str.upper().to_numpy()
    out[(r >= 0.06) & (r < 0.09)] = (" " + s[(r >= 0.06) & (r < 0.09)] + " ").to_numpy()
    return out


def contacts(ctx: Context, people: pd.DataFrame, accts: pd.DataFrame) -> pd.DataFrame:
    rng, n = ctx.rng("contacts"), len(people)
    is_contact = rng.random(n) < 0.6
    who = np.flatnonzero(is_contact)
    m = len(who)
    title, dept = title_variant(rng, people["title_idx"].to_numpy()[who])
    account_ids = accts["Id"].to_numpy()[people["account"].to_numpy()[who]]
    created = people["created"].to_numpy()[who]
    frame = pd.DataFrame(
        {
            "Id": sf_ids("003", 0, m),
            "AccountId": np.where(rng.random(m) < 0.04, "", account_ids),
            "FirstName": people["first"].to_numpy()[who],
            "LastName": people["last"].to_numpy()[who],
            "Email": np.where(rng.random(m) < 0.02, "", messy_email(rng, people["email"].to_numpy()[who])),
            "Title": np.where(rng.random(m) < 0.05, "", title),
            "Department": np.where(rng.random(m) < 0.3, "", dept),
            "MailingCountry": people["country"].to_numpy()[who],
            "Phone": people["phone"].to_numpy()[who],
            "MobilePhone": np.where(rng.random(m) < 0.7, "", people["phone"].to_numpy()[who]),
            "HasOptedOutOfEmail": bools(rng.random(m) < 0.03),
            "DoNotCall": bools(rng.random(m) < 0.02),
            "IsDeleted": "false",
            "MasterRecordId": "",
            "CreatedDate": timestamps(created),
            "LastModifiedDate": timestamps(created + rng.integers(0, 25, m) * 86400),
            "_person": who,
        }
    )
    # Duplicates: 2% of contacts were entered twice; half of those were merged in the CRM since.
    dup = frame.sample(frac=0.02, random_state=rng.integers(1 << 31)).copy()
    d = len(dup)
    merged = rng.random(d) < 0.5
    survivor = dup["Id"].to_numpy()
    dup["Id"] = sf_ids("003", m, d)
    dup["Email"] = pd.Series(dup["Email"]).str.upper().to_numpy()
    dup["IsDeleted"] = bools(merged)
    dup["MasterRecordId"] = np.where(merged, survivor, "")
    frame = pd.concat([frame, dup], ignore_index=True)
    ctx.write(frame.drop(columns=["_person"]), "salesforce/Contact.csv")
    return frame


def leads(ctx: Context, people: pd.DataFrame, accts: pd.DataFrame, ctcs: pd.DataFrame) -> pd.DataFrame:
    rng, n = ctx.rng("leads"), len(people)
    originals = ctcs[ctcs["MasterRecordId"] == ""].drop_duplicates("_person")
    contact_of = pd.Series(originals["Id"].to_numpy(), index=originals["_person"].to_numpy())
    is_contact = np.zeros(n, bool)
    is_contact[contact_of.index.to_numpy()] = True
    open_lead = ~is_contact & (rng.random(n) < 0.7)
    converted = is_contact & (rng.random(n) < 0.25)
    who = np.flatnonzero(open_lead | converted)
    m = len(who)
    conv = converted[who]
    title, _ = title_variant(rng, people["title_idx"].to_numpy()[who])
    acct = people["account"].to_numpy()[who]
    company = accts["Name"].to_numpy()[acct]
    company = np.where(rng.random(m) < 0.2, pd.Series(company).str.upper().to_numpy(), company)
    created = people["created"].to_numpy()[who] - rng.integers(5, 60, m) * 86400
    status = pick(rng, ("Open - Not Contacted", "Working - Contacted", "Nurture", "Unqualified"), m)
    frame = pd.DataFrame(
        {
            "Id": sf_ids("00Q", 0, m),
            "FirstName": people["first"].to_numpy()[who],
            "LastName": people["last"].to_numpy()[who],
            "Email": messy_email(rng, people["email"].to_numpy()[who]),
            "Company": company,
            "Website": accts["Website"].to_numpy()[acct],
            "Title": title,
            "Country": people["country"].to_numpy()[who],
            "Status": np.where(conv, "Closed - Converted", status),
            "IsConverted": bools(conv),
            "ConvertedAccountId": np.where(conv, accts["Id"].to_numpy()[acct], ""),
            "ConvertedContactId": np.where(conv, contact_of.reindex(who).fillna("").to_numpy(), ""),
            "HasOptedOutOfEmail": bools(rng.random(m) < 0.03),
            "DoNotCall": bools(rng.random(m) < 0.02),
            "IsDeleted": "false",
            "MasterRecordId": "",
            "CreatedDate": timestamps(created),
            "LastModifiedDate": timestamps(created + rng.integers(0, 40, m) * 86400),
            "_person": who,
        }
    )
    ctx.write(frame.drop(columns=["_person"]), "salesforce/Lead.csv")
    return frame


def marketo_leads(
    ctx: Context, people: pd.DataFrame, accts: pd.DataFrame, ctcs: pd.DataFrame, lds: pd.DataFrame
) -> pd.DataFrame:
    rng, n = ctx.rng("marketo"), len(people)
    who = np.flatnonzero(rng.random(n) < 0.7)
    m = len(who)
    originals = ctcs[ctcs["MasterRecordId"] == ""].drop_duplicates("_person")
    contact_of = pd.Series(originals["Id"].to_numpy(), index=originals["_person"].to_numpy())
    open_leads = lds[lds["IsConverted"] == "false"]
    lead_of = pd.Series(open_leads["Id"].to_numpy(), index=open_leads["_person"].to_numpy())
    synced = rng.random(m) < 0.9
    contact_id = np.where(synced, contact_of.reindex(who).fillna("").to_numpy(), "")
    lead_id = np.where(synced & (contact_id == ""), lead_of.reindex(who).fillna("").to_numpy(), "")
    title, _ = title_variant(rng, people["title_idx"].to_numpy()[who])
    acct = people["account"].to_numpy()[who]
    frame = pd.DataFrame(
        {
            "id": 1_000_000 + who,
            "email": messy_email(rng, people["email"].to_numpy()[who]),
            "firstName": people["first"].to_numpy()[who],
            "lastName": people["last"].to_numpy()[who],
            "title": title,
            "company": accts["Name"].to_numpy()[acct],
            "country": people["country"].to_numpy()[who],
            "sfdcAccountId": np.where(contact_id != "", accts["Id"].to_numpy()[acct], ""),
            "sfdcContactId": contact_id,
            "sfdcLeadId": lead_id,
            "unsubscribed": bools(rng.random(m) < 0.04),
            "smsOptIn": bools(rng.random(m) < 0.2),
            "updatedAt": pd.to_datetime(ctx.end_s - rng.integers(0, 200, m) * 86400, unit="s").strftime(
                "%Y-%m-%dT%H:%M:%SZ"
            ),
        }
    )
    ctx.write(frame, "marketo/leads.csv")
    return frame


# Sales' decisions on marketing-qualified accounts (docs/qualification.md#sales-feedback): 60%
# of the accounts without opportunities were qualified once, at a random time, and accepted with
# probability sigmoid(FEEDBACK_INTERCEPT + FEEDBACK_SLOPE * readiness) (readiness as for an
# opportunity), else rejected with a reason; their groups warm up before the decision. Two rows
# are unusable, as in any hand-kept sheet.
FEEDBACK_INTERCEPT, FEEDBACK_SLOPE = -0.5, 1.5
INTEREST_OF_TYPE = {"Data Platform": "data_platform", "Security Add-on": "security_add_on"}
REJECTIONS = (
    "No budget this year",
    "Wrong contact",
    "Already a customer",
    "Timing: next fiscal year",
    "No project",
)


def feedback(
    ctx: Context, accts: pd.DataFrame, opps: pd.DataFrame, keen: pd.Series, staff: np.ndarray
) -> None:
    rng = ctx.rng("feedback")
    others = accts.loc[~accts["Id"].isin(opps["account"]), "Id"]
    others = others[rng.random(len(others)) < 0.6]
    readiness = np.log(keen.reindex(others.to_numpy()).to_numpy())
    readiness += rng.normal(0.0, READINESS_NOISE, len(others))
    yes = rng.random(len(others)) < 1 / (1 + np.exp(-(FEEDBACK_INTERCEPT + FEEDBACK_SLOPE * readiness)))
    decided = pd.DataFrame(
        {
            "account_id": others.to_numpy(),
            "solution_interest": pick(rng, list(INTEREST_OF_TYPE.values()), len(others)),
            "decision": np.where(yes, "Accepted", "Rejected"),  # as a person types it
            "reason": np.where(yes, "", pick(rng, REJECTIONS, len(others))),
            "at": ctx.end_s - rng.integers(1, 330, len(others)) * 86400,
            "readiness": readiness,
        }
    )
    rows = decided.drop(columns="readiness").sort_values("at", kind="stable").reset_index(drop=True)
    # Unusable rows on purpose: a decision nobody defined, a rejection without a reason.
    if len(rows) > UNUSABLE_FEEDBACK:
        rows.loc[0, "decision"] = "maybe later"
        rows.loc[1, ["decision", "reason"]] = ["rejected", ""]
    ctx.write(
        pd.DataFrame(
            {
                "feedback_id": [f"FB-{i:06d}" for i in range(1, len(rows) + 1)],
                "account_id": rows["account_id"],
                "solution_interest": rows["solution_interest"],
                "decision": rows["decision"],
                "reason": rows["reason"],
                "decided_at": timestamps(rows["at"].to_numpy()),
                "decided_by": pick(rng, staff, len(rows)),
            }
        ),
        "sales/feedback.csv",
    )
    return pd.DataFrame({"account": decided["account_id"], "created": decided["at"], "readiness": readiness})


def warmup(ctx: Context, mkto: pd.DataFrame, opps: pd.DataFrame) -> pd.DataFrame:
    """leadId, activityDate (epoch seconds), activityTypeId: the buying group warming up before each
    opportunity (the signal above)."""
    rng = ctx.rng("warmup")
    leads = mkto[["id", "sfdcAccountId"]].rename(columns={"sfdcAccountId": "account"})
    pairs = opps.reset_index(names="opp").merge(leads, on="account")
    share = 1 / (1 + np.exp(-(WARMUP_INTERCEPT + WARMUP_SLOPE * pairs["readiness"].to_numpy())))
    pairs = pairs[rng.random(len(pairs)) < share]
    per = 1 + rng.poisson(WARMUP_ACTIVITIES * np.exp(pairs["readiness"].to_numpy()))
    rows = pairs.loc[pairs.index.repeat(per)]
    types = np.array(list(ACTIVITY_MIX))
    mix = np.array(list(ACTIVITY_MIX.values()))
    return pd.DataFrame(
        {
            "leadId": rows["id"].to_numpy(),
            "at": rows["created"].to_numpy() - rng.integers(3600, WARMUP_DAYS * 86400, len(rows)),
            "activityTypeId": rng.choice(types, size=len(rows), p=mix / mix.sum()),
        }
    )


def activities(ctx: Context, mkto: pd.DataFrame, warm: pd.DataFrame) -> int:
    rng, total = ctx.rng("activities"), ctx.scale.activities
    lead_ids = mkto["id"].to_numpy()
    engagement = rng.pareto(1.5, len(lead_ids)) + 0.05
    engagement /= engagement.sum()
    types = np.array(list(ACTIVITY_MIX))
    mix = np.array(list(ACTIVITY_MIX.values()))
    mix /= mix.sum()
    written, guid, carry = 0, 500_000_000, None
    chunk_no = 0
    while written < total:
        n = min(ACTIVITY_CHUNK, total - written)
        type_id = rng.choice(types, size=n, p=mix)
        leads = rng.choice(lead_ids, size=n, p=engagement)
        frame = _extract(rng, guid, leads, ctx.end_s - rng.integers(0, 365 * 86400, n), type_id)
        guid += n
        if carry is not None:  # the same activities delivered again in the next extract
            frame = pd.concat([carry, frame], ignore_index=True)
        carry = frame.sample(frac=0.003, random_state=rng.integers(1 << 31))
        chunk_no += 1
        ctx.write(frame, f"marketo/activities_{chunk_no:04d}.csv")
        written += n
    # The warm-up before opportunities, as one more extract like the others (several at xlarge,
    # each at most WARMUP_CHUNK rows, so memory does not grow with the data).
    at = np.minimum(warm["at"].to_numpy(), ctx.end_s)
    for start in range(0, max(len(warm), 1), WARMUP_CHUNK):
        part = slice(start, start + WARMUP_CHUNK)
        n = len(at[part])
        frame = _extract(
            rng, guid, warm["leadId"].to_numpy()[part], at[part], warm["activityTypeId"].to_numpy()[part]
        )
        guid += n
        chunk_no += 1
        ctx.write(frame, f"marketo/activities_{chunk_no:04d}.csv")
        written += n
    legacy = min(2_000, max(20, total // 1000))
    ctx.write(_legacy_activities(rng, lead_ids, legacy, guid, ctx.end_s), "marketo/activities_legacy.csv")
    guid += legacy
    # A later extract overlapping the last one: the same activities delivered again.
    ctx.write(carry, "marketo/activities_redelivered.csv")
    changes = _lead_changes(rng, lead_ids, guid, ctx.end_s)
    ctx.write(changes, "marketo/activities_lead_changes.csv")
    return written + legacy + len(changes)


def _extract(
    rng: np.random.Generator, guid: int, leads: np.ndarray, seconds: np.ndarray, type_id: np.ndarray
) -> pd.DataFrame:
    """An activities extract: the given leads, times (epoch seconds) and types; campaigns and
    attributes drawn."""
    n = len(leads)
    return pd.DataFrame(
        {
            "marketoGUID": np.arange(guid, guid + n),
            "leadId": leads,
            "activityDate": pd.to_datetime(seconds, unit="s").strftime("%Y-%m-%dT%H:%M:%SZ"),
            "activityTypeId": type_id,
            "campaignId": rng.integers(1000, 1100, n),
            "primaryAttributeValueId": rng.integers(1, 500, n),
            "primaryAttributeValue": _primary_values(rng, type_id),
            "attributes": _attributes(rng, type_id),
        }
    )


def _lead_changes(rng: np.random.Generator, lead_ids: np.ndarray, guid: int, end_s: int) -> pd.DataFrame:
    """Merge Leads (32): duplicates merged into a surviving lead (the merged ones are gone from the
    lead export); Delete Lead (37): leads deleted in Marketo."""
    merges = max(2, len(lead_ids) // 200)
    deletes = max(1, len(lead_ids) // 500)
    survivors = rng.choice(lead_ids, size=merges, replace=False)
    # Ids no lead has (at xlarge, lead ids reach 11M).
    merged_away = max(9_000_000, int(lead_ids.max()) + 1) + np.arange(merges)
    deleted = rng.choice(np.setdiff1d(lead_ids, survivors), size=deletes, replace=False)
    n = merges + deletes
    return pd.DataFrame(
        {
            "marketoGUID": np.arange(guid, guid + n),
            "leadId": np.concatenate([survivors, deleted]),
            "activityDate": pd.to_datetime(end_s - rng.integers(0, 60 * 86400, n), unit="s").strftime(
                "%Y-%m-%dT%H:%M:%SZ"
            ),
            "activityTypeId": [32] * merges + [37] * deletes,
            "campaignId": "",
            "primaryAttributeValueId": "",
            "primaryAttributeValue": "",
            "attributes": [f'{{"Merge IDs":[{m}],"Merge Source":"leaddb"}}' for m in merged_away]
            + ["{}"] * deletes,
        }
    )


def _primary_values(rng: np.random.Generator, type_id: np.ndarray) -> np.ndarray:
    by_type = {
        1: vocab.WEB_PAGES,
        3: vocab.WEB_PAGES,
        2: vocab.FORMS,
        6: vocab.EMAILS,
        7: vocab.EMAILS,
        10: vocab.EMAILS,
        11: vocab.EMAILS,
        9: vocab.EMAILS,
        104: vocab.PROGRAMS,
        46: vocab.INTERESTING_MOMENTS,
        13: ("Lead Status",),
        22: ("Behavior Score",),
    }
    out = np.empty(len(type_id), dtype=object)
    for t, values in by_type.items():
        rows = type_id == t
        out[rows] = pick(rng, values, int(rows.sum()))
    return out


def _attributes(rng: np.random.Generator, type_id: np.ndarray) -> np.ndarray:
    """The attributes JSON object of the current bulk-extract format."""
    out = np.full(len(type_id), "{}", dtype=object)
    rows = type_id == 104
    status = pick(
        rng,
        ('"Registered"', '"Attended"', '"Invited"', '"No Show"'),
        int(rows.sum()),
        p=[0.45, 0.3, 0.15, 0.1],
    )
    out[rows] = (
        '{"Program Member ID":'
        + rng.integers(1, 10**6, int(rows.sum())).astype(str).astype(object)
        + ',"Old Status":"Not in Program","New Status":'
        + status
        + ',"Success":false}'
    )
    rows = type_id == 11
    out[rows] = '{"Link":"https://www.example.com/offer","Is Mobile Device":false}'
    rows = type_id == 1
    out[rows] = '{"Query Parameters":"","Client IP Address":"203.0.113.7","Is Anonymous":false}'
    rows = type_id == 2
    out[rows] = '{"Webpage ID":12,"Form Fields":"a:3:{}","Client IP Address":"203.0.113.7"}'
    rows = type_id == 22
    out[rows] = '{"Change Value":"+5","Old Value":10,"New Value":15}'
    return out


def _legacy_activities(rng, lead_ids, n: int, guid: int, end_s: int) -> pd.DataFrame:
    """The older extract layout: `+0000` offsets and attributes as a JSON array of name/value pairs."""
    type_id = rng.choice(np.array([1, 10, 104]), size=n)
    status = pick(rng, ("Registered", "Attended"), n)
    attrs = np.where(
        type_id == 104,
        '[{"name":"New Status","value":"' + status + '"},{"name":"Old Status","value":"Invited"}]',
        '[{"name":"Source Type","value":"Web page visit"}]',
    )
    return pd.DataFrame(
        {
            "marketoGUID": np.arange(guid, guid + n),
            "leadId": rng.choice(lead_ids, size=n),
            "activityDate": pd.to_datetime(end_s - rng.integers(0, 365 * 86400, n), unit="s").strftime(
                "%Y-%m-%dT%H:%M:%S+0000"
            ),
            "activityTypeId": type_id,
            "campaignId": rng.integers(1000, 1100, n),
            "primaryAttributeValueId": rng.integers(1, 500, n),
            "primaryAttributeValue": _primary_values(rng, type_id),
            " attributes": attrs,  # the legacy header has a space before `attributes`
        }
    )


def campaigns(ctx: Context, ctcs: pd.DataFrame, lds: pd.DataFrame) -> None:
    rng = ctx.rng("campaigns")
    n = max(8, ctx.scale.accounts // 40)
    start = ctx.end_s - rng.integers(0, 365, n) * 86400
    camp = pd.DataFrame(
        {
            "Id": sf_ids("701", 0, n),
            "Name": [f"{t} {i + 1:03d}" for i, t in enumerate(pick(rng, vocab.CAMPAIGN_TYPES, n))],
            "Type": pick(rng, vocab.CAMPAIGN_TYPES, n),
            "StartDate": pd.to_datetime(start, unit="s").strftime("%Y-%m-%d"),
        }
    )
    ctx.write(camp, "salesforce/Campaign.csv")
    live_contacts = ctcs.loc[ctcs["IsDeleted"] == "false", "Id"].to_numpy()
    open_leads = lds.loc[lds["IsConverted"] == "false", "Id"].to_numpy()
    m = int((len(live_contacts) + len(open_leads)) * 0.5)
    as_contact = rng.random(m) < len(live_contacts) / max(1, len(live_contacts) + len(open_leads))
    status = pick(rng, vocab.CAMPAIGN_MEMBER_STATUSES, m, p=[0.45, 0.2, 0.15, 0.1, 0.1])
    camp_idx = rng.integers(0, n, m)
    members = pd.DataFrame(
        {
            "Id": sf_ids("00v", 0, m),
            "CampaignId": camp["Id"].to_numpy()[camp_idx],
            "LeadId": np.where(as_contact, "", pick(rng, open_leads, m) if len(open_leads) else ""),
            "ContactId": np.where(as_contact, pick(rng, live_contacts, m), ""),
            "Status": status,
            "HasResponded": bools(np.isin(status, ("Registered", "Attended", "Responded"))),
            "CreatedDate": timestamps(start[camp_idx] - rng.integers(0, 30, m) * 86400),
        }
    )
    ctx.write(members.drop_duplicates(["CampaignId", "LeadId", "ContactId"]), "salesforce/CampaignMember.csv")


# The signal a readiness model can learn (docs/qualification.md). Each account has a buying
# propensity (log-normal, median 1). Each opportunity (and each sales decision, see `feedback`) has
# a readiness: the log of its account's propensity plus noise (READINESS_NOISE). It is won, once
# closed, with probability sigmoid(WIN_INTERCEPT + WIN_SLOPE * readiness), and in the WARMUP_DAYS
# before its creation a share sigmoid(WARMUP_INTERCEPT + WARMUP_SLOPE * readiness) of its account's
# Marketo people engage, each with 1 + Poisson(WARMUP_ACTIVITIES * e^readiness) activities: the
# breadth and intensity of the buying group's engagement tell won from lost. Opportunities are
# created within the activities' year. Everything else is noise (the year-round activity of
# every person, firmographics, the number of people per account).
PROPENSITY_SIGMA, READINESS_NOISE, WIN_INTERCEPT, WIN_SLOPE = 1.0, 0.3, -0.25, 2.0
WARMUP_DAYS, WARMUP_INTERCEPT, WARMUP_SLOPE, WARMUP_ACTIVITIES = 90, -1.0, 2.5, 6.0


def propensity(ctx: Context, accts: pd.DataFrame) -> pd.Series:
    """Account id -> buying propensity."""
    draws = ctx.rng("propensity").lognormal(0.0, PROPENSITY_SIGMA, len(accts))
    return pd.Series(draws, index=accts["Id"].to_numpy())


def opportunities(
    ctx: Context, accts: pd.DataFrame, ctcs: pd.DataFrame, user_ids: np.ndarray, keen: pd.Series
) -> pd.DataFrame:
    """Writes opportunities, contact roles and tasks; returns each opportunity's account id,
    creation (epoch seconds) and readiness, for the warm-up activities."""
    rng = ctx.rng("opportunities")
    with_opps = np.flatnonzero(rng.random(len(accts)) < 0.4)
    per = rng.integers(1, 5, len(with_opps))
    acct = np.repeat(with_opps, per)
    n = len(acct)
    outcome = rng.random(n)
    readiness = np.log(keen.reindex(accts["Id"].to_numpy()[acct]).to_numpy())
    readiness += ctx.rng("readiness").normal(0.0, READINESS_NOISE, n)
    wins = ctx.rng("wins").random(n) < 1 / (1 + np.exp(-(WIN_INTERCEPT + WIN_SLOPE * readiness)))
    won, lost = (outcome < 0.55) & wins, (outcome < 0.55) & ~wins
    created = ctx.end_s - rng.integers(20, 330, n) * 86400 - rng.integers(0, 86400, n)
    closed = created + rng.integers(20, 200, n) * 86400
    closed = np.where(won | lost, np.minimum(closed, ctx.end_s - 86400), closed)
    opp_type = pick(rng, vocab.OPPORTUNITY_TYPES, n)
    opps = pd.DataFrame(
        {
            "Id": sf_ids("006", 0, n),
            "AccountId": accts["Id"].to_numpy()[acct],
            "Name": accts["Name"].to_numpy()[acct] + " - " + opp_type,
            "Type": opp_type,
            "StageName": np.where(
                won, "Closed Won", np.where(lost, "Closed Lost", pick(rng, vocab.OPEN_STAGES, n))
            ),
            "Amount": (rng.lognormal(10.5, 1.0, n)).round(-2).astype(int),
            "CreatedDate": timestamps(created),
            "CloseDate": pd.to_datetime(closed, unit="s").strftime("%Y-%m-%d"),
            "IsClosed": bools(won | lost),
            "IsWon": bools(won),
            "LastModifiedDate": timestamps(np.minimum(closed, ctx.end_s - 86400)),
        }
    )
    ctx.write(opps, "salesforce/Opportunity.csv")
    # Contact roles: up to four live contacts of the opportunity's account.
    live = ctcs[(ctcs["IsDeleted"] == "false") & (ctcs["AccountId"] != "")]
    by_account = live.groupby("AccountId")["Id"].apply(list)
    rows = []
    for opp_id, account_id in zip(opps["Id"], opps["AccountId"], strict=True):
        people = by_account.get(account_id)
        if not people:
            continue
        k = int(min(len(people), rng.integers(1, 5)))
        for j, contact in enumerate(rng.choice(people, size=k, replace=False)):
            rows.append(
                (opp_id, contact, vocab.CONTACT_ROLES[rng.integers(len(vocab.CONTACT_ROLES))], j == 0)
            )
    roles = pd.DataFrame(rows, columns=["OpportunityId", "ContactId", "Role", "IsPrimary"])
    roles.insert(0, "Id", sf_ids("00K", 0, len(roles)))
    roles["IsPrimary"] = bools(roles["IsPrimary"].to_numpy())
    ctx.write(roles, "salesforce/OpportunityContactRole.csv")
    tasks(ctx, opps, live, user_ids)
    return pd.DataFrame(
        {"account": opps["AccountId"], "type": opp_type, "created": created, "readiness": readiness}
    )


def tasks(ctx: Context, opps: pd.DataFrame, live: pd.DataFrame, user_ids: np.ndarray) -> None:
    rng = ctx.rng("tasks")
    who = live.sample(frac=0.15, random_state=rng.integers(1 << 31))
    n = len(who)
    opp_of = opps.drop_duplicates("AccountId").set_index("AccountId")["Id"]
    what = opp_of.reindex(who["AccountId"]).fillna("").to_numpy()
    due = ctx.end_s - rng.integers(-30, 365, n) * 86400
    frame = pd.DataFrame(
        {
            "Id": sf_ids("00T", 0, n),
            "WhoId": who["Id"].to_numpy(),
            "WhatId": np.where(what == "", who["AccountId"].to_numpy(), what),
            "AccountId": who["AccountId"].to_numpy(),
            "Subject": pick(rng, vocab.TASK_SUBJECTS, n),
            "Type": pick(rng, vocab.TASK_TYPES, n),
            "Status": np.where(due > ctx.end_s, "Not Started", "Completed"),
            "ActivityDate": pd.to_datetime(due, unit="s").strftime("%Y-%m-%d"),
            "OwnerId": pick(rng, user_ids, n),
            "CreatedDate": timestamps(np.minimum(due, ctx.end_s) - 86400),
        }
    )
    ctx.write(frame, "salesforce/Task.csv")


def typos(ctx: Context, names: np.ndarray) -> np.ndarray:
    """15% of form company names typed with a letter missing after the fourth ("Initec"): the fuzzy
    company-name match and its review queue get work."""
    rng = ctx.rng("company_typos")
    out = names.astype(object).copy()
    for i in np.flatnonzero(rng.random(len(out)) < 0.15):
        text = str(out[i])
        if len(text) > 6:
            k = int(rng.integers(4, len(text) - 1))
            out[i] = text[:k] + text[k + 1 :]
    return out


def linkedin(ctx: Context, people: pd.DataFrame, accts: pd.DataFrame) -> None:
    rng = ctx.rng("linkedin")
    who = np.flatnonzero(rng.random(len(people)) < 0.03)
    n = len(who)
    forms = np.array(["7001", "7002", "7003"])
    form = pick(rng, forms, n)
    when = pd.to_datetime(ctx.end_s - rng.integers(0, 300 * 86400, n), unit="s")
    long_form = when.strftime("%m-%d-%Y").to_numpy()
    short_form = np.array([f"{d.month}/{d.day}/{d.year}" for d in when])
    title, _ = title_variant(rng, people["title_idx"].to_numpy()[who])
    personal = rng.random(n) < 0.25
    email = people["email"].to_numpy()[who]
    local = pd.Series(email).str.split("@").str[0].to_numpy()
    email = np.where(personal, local + "@" + pick(rng, vocab.PERSONAL_DOMAINS, n), email)
    frame = pd.DataFrame(
        {
            "lead_id": [f"urn:li:leadFormResponse:{x}" for x in rng.integers(10**11, 10**12, n)],
            "First name": people["first"].to_numpy()[who],
            "Last name": people["last"].to_numpy()[who],
            "Email address": email,
            "Company name": typos(ctx, accts["Name"].to_numpy()[people["account"].to_numpy()[who]]),
            "Job title": title,
            "Country/Region": people["country"].to_numpy()[who],
            "created_date": np.where(rng.random(n) < 0.5, long_form, short_form),
            "created_time": when.strftime("%-I:%M %p").to_numpy(),
            "form_id": form,
            "test_lead": np.where(rng.random(n) < 0.01, "true", "false"),
            "I agree to receive marketing communications": np.where(rng.random(n) < 0.8, "TRUE", "FALSE"),
        }
    )
    for form_id in forms:
        ctx.write(frame[frame["form_id"] == form_id], f"linkedin/lead_gen_form_{form_id}.csv")


def dirty_duplicates(ctx: Context, accts: pd.DataFrame) -> int:
    """The dirty-duplicates profile's person records (generator/dirty.py) in each system's export
    format, and their truth; returns the number of records."""
    people = dirty.dirty_persons(ctx.rng("dirty_persons"), ctx.scale.persons, accts)
    records = dirty.person_records(ctx.rng("dirty_records"), len(people))
    records = dirty.apply_defects(ctx.rng("dirty_defects"), records, people)
    rng = ctx.rng("dirty_fields")
    acct = people["account"].to_numpy()[records["person"].to_numpy()]
    title, dept = title_variant(rng, people["title_idx"].to_numpy()[records["person"].to_numpy()])
    created = ctx.end_s - rng.integers(30, 1000, len(records)) * 86400 - rng.integers(0, 86400, len(records))
    rows = records.assign(
        email=messy_email(rng, records["email"].to_numpy()),
        title=title,
        department=dept,
        account_id=accts["Id"].to_numpy()[acct],
        company=accts["Name"].to_numpy()[acct],
        website=accts["Website"].to_numpy()[acct],
        country=accts["_country"].to_numpy()[acct],
        phone=people["phone"].to_numpy()[records["person"].to_numpy()],
        created=created,
    )
    keys = []
    for system, write in zip(dirty.SYSTEMS, DIRTY_WRITERS, strict=True):
        part = rows[rows["system"] == dirty.SYSTEMS.index(system)]
        keys.append(write(ctx, part).set_axis(part.index))
    truth = pd.DataFrame(
        {
            "source_key": pd.concat(keys).reindex(rows.index),
            "person_id": "P" + pd.Series(rows["person"]).astype(str).str.zfill(7),
            "system": np.asarray(dirty.SYSTEMS, dtype=object)[rows["system"].to_numpy()],
            "is_copy": bools(rows["is_copy"].to_numpy()),
            "defects": rows["defects"],
            "shared_name": bools(people["shared_name"].to_numpy()[rows["person"].to_numpy()]),
            "role_mailbox": bools(people["role_mailbox"].to_numpy()[rows["person"].to_numpy()]),
        }
    )
    ctx.write(truth, str(dirty.TRUTH_FILE))
    return len(rows)


def _dirty_contacts(ctx: Context, rows: pd.DataFrame) -> pd.Series:
    m = len(rows)
    frame = pd.DataFrame(
        {
            "Id": sf_ids("003", 0, m),
            "AccountId": rows["account_id"].to_numpy(),
            "FirstName": rows["first"].to_numpy(),
            "LastName": rows["last"].to_numpy(),
            "Email": rows["email"].to_numpy(),
            "Title": rows["title"].to_numpy(),
            "Department": rows["department"].to_numpy(),
            "MailingCountry": rows["country"].to_numpy(),
            "Phone": rows["phone"].to_numpy(),
            "MobilePhone": "",
            "HasOptedOutOfEmail": "false",
            "DoNotCall": "false",
            "IsDeleted": "false",
            "MasterRecordId": "",
            "CreatedDate": timestamps(rows["created"].to_numpy()),
            "LastModifiedDate": timestamps(rows["created"].to_numpy() + 86400),
        }
    )
    ctx.write(frame, "salesforce/Contact.csv")
    return frame["Id"] + "@prod.Salesforce"


def _dirty_leads(ctx: Context, rows: pd.DataFrame) -> pd.Series:
    m = len(rows)
    frame = pd.DataFrame(
        {
            "Id": sf_ids("00Q", 0, m),
            "FirstName": rows["first"].to_numpy(),
            "LastName": rows["last"].to_numpy(),
            "Email": rows["email"].to_numpy(),
            "Company": rows["company"].to_numpy(),
            "Website": rows["website"].to_numpy(),
            "Title": rows["title"].to_numpy(),
            "Country": rows["country"].to_numpy(),
            "Status": "Open - Not Contacted",
            "IsConverted": "false",
            "ConvertedAccountId": "",
            "ConvertedContactId": "",
            "HasOptedOutOfEmail": "false",
            "DoNotCall": "false",
            "IsDeleted": "false",
            "MasterRecordId": "",
            "CreatedDate": timestamps(rows["created"].to_numpy()),
            "LastModifiedDate": timestamps(rows["created"].to_numpy() + 86400),
        }
    )
    ctx.write(frame, "salesforce/Lead.csv")
    return frame["Id"] + "@prod.Salesforce"


def _dirty_marketo(ctx: Context, rows: pd.DataFrame) -> pd.Series:
    frame = pd.DataFrame(
        {
            "id": 1_000_000 + np.arange(len(rows)),
            "email": rows["email"].to_numpy(),
            "firstName": rows["first"].to_numpy(),
            "lastName": rows["last"].to_numpy(),
            "title": rows["title"].to_numpy(),
            "company": rows["company"].to_numpy(),
            "country": rows["country"].to_numpy(),
            "sfdcAccountId": "",
            "sfdcContactId": "",
            "sfdcLeadId": "",
            "unsubscribed": "false",
            "smsOptIn": "false",
            "updatedAt": pd.to_datetime(rows["created"].to_numpy(), unit="s").strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
    )
    ctx.write(frame, "marketo/leads.csv")
    return frame["id"].astype(str) + "@prod.Marketo"


def _dirty_linkedin(ctx: Context, rows: pd.DataFrame) -> pd.Series:
    when = pd.to_datetime(rows["created"].to_numpy(), unit="s")
    frame = pd.DataFrame(
        {
            "lead_id": [f"urn:li:leadFormResponse:{10**11 + i}" for i in range(len(rows))],
            "First name": rows["first"].to_numpy(),
            "Last name": rows["last"].to_numpy(),
            "Email address": rows["email"].to_numpy(),
            "Company name": rows["company"].to_numpy(),
            "Job title": rows["title"].to_numpy(),
            "Country/Region": rows["country"].to_numpy(),
            "created_date": when.strftime("%m-%d-%Y").to_numpy(),
            "created_time": when.strftime("%-I:%M %p").to_numpy(),
            "form_id": "7001",
            "test_lead": "false",
        }
    )
    ctx.write(frame, "linkedin/lead_gen_form_7001.csv")
    return frame["lead_id"] + "@prod.LinkedIn"


DIRTY_WRITERS = (_dirty_contacts, _dirty_leads, _dirty_marketo, _dirty_linkedin)  # in dirty.SYSTEMS order
PROFILES = ("standard", "dirty-duplicates")


def generate(
    out: Path,
    scale: Scale,
    seed: int,
    end: datetime = DEFAULT_END,
    report: Callable[[str], None] = print,
    force: bool = False,
    profile: str = "standard",
    compress: bool = False,
) -> dict[str, int]:
    """Write the landing directory `out`; returns the number of persons, accounts and activities.
    Its manifest (generator.json, manifest.py) records the seed, the end and the deliberate defects.
    `compress` writes every landing file gzip-compressed (`Contact.csv.gz`): the same rows.

    Profile `dirty-duplicates` writes users, accounts and the dirty person records only (no
    activity, campaign or opportunity), with their truth in `truth/persons.csv`.
    """
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}; expected one of {', '.join(PROFILES)}")
    if out.exists() and any(out.iterdir()):
        if not force:
            raise FileExistsError(f"{out} is not empty (use --force to replace it)")
        for system in ("salesforce", "marketo", "linkedin", "sales", dirty.TRUTH_FILE.parts[0]):
            shutil.rmtree(out / system, ignore_errors=True)
    out.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    try:
        ctx = Context(out, seed, scale, end, report, con, compress)
        staff = users(ctx)
        user_ids = staff["Id"].to_numpy()
        accts = accounts(ctx, user_ids)
        if profile == "dirty-duplicates":
            n_records = dirty_duplicates(ctx, accts)
            write_manifest(out, seed, end, profile, [])
            return {"accounts": len(accts), "persons": scale.persons, "person records": n_records}
        deleted = account_updates(ctx, accts)
        people = persons(ctx, accts)
        ctcs = contacts(ctx, people, accts)
        lds = leads(ctx, people, accts, ctcs)
        mkto = marketo_leads(ctx, people, accts, ctcs, lds)
        campaigns(ctx, ctcs, lds)
        keen = propensity(ctx, accts)
        opps = opportunities(ctx, accts, ctcs, user_ids, keen)
        decided = feedback(ctx, accts, opps, keen, staff["Email"].to_numpy())
        linkedin(ctx, people, accts)
        defects = deliberate_defects(accts, deleted, ctcs, len(decided))
        n_people = len(people)
        del people, ctcs, lds  # the activities need only the Marketo leads' ids and accounts
        mkto = mkto[["id", "sfdcAccountId"]]
        moments = pd.concat([opps, decided], ignore_index=True)  # each warms its account's group up
        n_activities = activities(ctx, mkto, warmup(ctx, mkto, moments))
        write_manifest(out, seed, end, profile, defects)
    finally:
        con.close()
    return {"accounts": len(accts), "persons": n_people, "activities": n_activities}
