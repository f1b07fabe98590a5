"""LinkedIn matched-audience files: company and contact lists in LinkedIn's upload templates
(headers as in ../shared/data/real/linkedin/), split at LinkedIn's limits, with the change since
the last activation and a manifest (docs/activation.md)."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from blueprint_pipeline.activation.files import write_folder
from blueprint_pipeline.config.activation import CompanyList, ContactList, LinkedIn
from blueprint_pipeline.config.figures import LIST_SEPARATOR
from blueprint_pipeline.core.csv_safety import csv_lines, to_csv
from blueprint_pipeline.warehouse import Session

COMPANY_COLUMNS = [
    "companyname",
    "companywebsite",
    "companyemaildomain",
    "linkedincompanypageurl",
    "stocksymbol",
    "industry",
    "city",
    "state",
    "companycountry",
    "zipcode",
]
CONTACT_COLUMNS = ["email", "firstname", "lastname", "jobtitle", "employeecompany", "country", "googleaid"]
# Marketo's list import takes its REST API field names as headers.
MARKETO_COLUMNS = ["email", "firstName", "lastName", "title", "company", "country"]


def _blank(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    for column in columns:
        if column not in frame:
            frame[column] = ""
    return frame.fillna("")


# Each exported column's SQL over unified_accounts (a) and unified_persons (p): what the file holds,
# and where the governance lineage reads which unified fields a column carries.
COMPANY_SQL = {
    "companyname": "a.account_name",
    "companyemaildomain": "a.domain",
    "companywebsite": "case when a.domain is not null then 'https://' || a.domain end",
    "industry": "a.industry",
    "state": "a.billing_state",
    "companycountry": "a.billing_country",
}
SQL_ALIASES = {"a": "unified_accounts", "p": "unified_persons"}


def accounts_of(definition: CompanyList) -> tuple[str, dict]:
    """SQL selecting the ids of a company list's accounts (an audience's, or those whose buying
    group misses a required role), and its parameters."""
    if definition.audience:
        return "select account_id from account_audience_members where audience_id = $x", {
            "x": definition.audience
        }
    return (
        "select account_id from buying_groups where solution_interest = $x "
        "and coalesce(missing_required_roles, '') <> ''",
        {"x": definition.missing_roles_of},
    )


def company_rows(session: Session, definition: CompanyList) -> pd.DataFrame:
    """key (account_id) + the company template's columns."""
    accounts, params = accounts_of(definition)
    where = f"a.account_id in ({accounts})"
    selected = ", ".join(f'{sql} as "{name}"' for name, sql in COMPANY_SQL.items())
    frame = session.fetch_df(
        f"select a.account_id as key, {selected} from unified_accounts as a where {where} "
        "order by a.account_id",
        params,
    )
    return _blank(frame, COMPANY_COLUMNS)[["key", *COMPANY_COLUMNS]].astype(str)


def _members(definition) -> tuple[str, dict]:
    """The persons of a solution interest's buying groups (in `roles`, when given): SQL, params."""
    roles = {f"r{i}": r for i, r in enumerate(definition.roles)}
    narrowed = f" and role in ({', '.join('$' + k for k in roles)})" if roles else ""
    return f"select person_id from buying_group_members where solution_interest = $x{narrowed}", {
        "x": definition.members_of,
        **roles,
    }


# Exactly one bare address: a field holding a list (`a@x.co, b@evil.example`), a display name
# or anything else would hand people nobody chose to the platform (delivery refuses it too).
_ONE_ADDRESS = re.compile(r"[^@\s,;<>()\[\]\"']+@[^@\s,;<>()\[\]\"']+")


def _reachable(session: Session, who: str, params: dict, columns: dict[str, str]) -> tuple[pd.DataFrame, int]:
    """key (person_id) + `columns` (output name -> SQL) of the persons `who` selects that may be
    contacted: exactly one address, not opted out, not bounced. Emails trimmed and lower-cased.
    Also the number left out because their email field is not exactly one address."""
    selected = ", ".join(f'{sql} as "{name}"' for name, sql in columns.items())
    frame = session.fetch_df(
        f"select p.person_id as key, {selected} from unified_persons as p "
        "left join person_account_links as l on l.person_id = p.person_id and l.is_primary "
        "left join unified_accounts as a on a.account_id = l.account_id "
        f"where p.person_id in ({who}) and p.email is not null and not p.email_opt_out "
        "and not coalesce(p.email_bounced, false) order by p.person_id",
        params,
    )
    frame = _blank(frame, list(columns))[["key", *columns]].astype(str)
    frame["email"] = frame["email"].str.strip().str.lower()
    one = frame["email"].map(lambda e: _ONE_ADDRESS.fullmatch(e) is not None).astype(bool)
    return frame[one].reset_index(drop=True), int((~one).sum())


PERSON = {"email": "p.email", "first": "p.first_name", "last": "p.last_name", "title": "p.title"}
MARKETO_SQL = {"email": PERSON["email"], "firstName": PERSON["first"], "lastName": PERSON["last"],
               "title": PERSON["title"], "company": "a.account_name", "country": "p.country"}  # fmt: skip
CONTACT_SQL = {"email": PERSON["email"], "firstname": PERSON["first"], "lastname": PERSON["last"],
               "jobtitle": PERSON["title"], "employeecompany": "a.account_name", "country": "p.country",
               "googleaid": "''"}  # fmt: skip


def persons_of(definition, as_of=None) -> tuple[str, dict]:
    """SQL selecting the ids of the persons a person list is defined from (before consent), and
    its parameters: a buying group's members, an audience's persons (by their primary account), or
    form-page visitors without a fill in the window before `as_of`."""
    if definition.members_of:
        return _members(definition)
    if getattr(definition, "audience", None):
        return (
            "select l.person_id from person_account_links as l inner join account_audience_members as m "
            "on m.account_id = l.account_id and m.audience_id = $x where l.is_primary",
            {"x": definition.audience},
        )
    visitors = definition.form_visitors
    return (
        "select v.person_id from int_person_activities as v inner join stg_marketo__activities as m "
        "on m.activity_id = v.activity_id where v.kind = 'page_view' and v.activity_at > $since "
        "and v.activity_at <= $as_of and strpos(lower(m.primary_attribute_value), $page) > 0 and not exists ("
        "select 1 from int_person_activities as f where f.person_id = v.person_id "
        "and f.kind = 'form_fill' and f.activity_at > $since and f.activity_at <= $as_of)",
        {
            "since": as_of - pd.Timedelta(days=visitors.within_days),
            "as_of": as_of,
            "page": visitors.page_contains.lower(),  # a substring: `_` and `%` are characters
        },
    )


def marketo_rows(session: Session, definition) -> tuple[pd.DataFrame, int]:
    """key (person_id) + Marketo's import columns; opted-out and bounced persons left out, and
    those whose email is not exactly one address (their number, the second value)."""
    return _reachable(session, *persons_of(definition), MARKETO_SQL)


def contact_rows(
    session: Session, definition: ContactList, as_of, hash_emails: bool
) -> tuple[pd.DataFrame, int]:
    """key (person_id) + the contact template's columns. Opted-out, bounced and address-less
    persons are never in a contact list, nor those whose email is not exactly one address (their
    number, the second value)."""
    frame, not_one = _reachable(session, *persons_of(definition, as_of), CONTACT_SQL)
    if hash_emails:
        frame["email"] = [hashlib.sha256(e.encode()).hexdigest() for e in frame["email"]]
    return frame, not_one


def left_out_note(not_one: int) -> str:
    """The words a list's report line adds when persons were left out for their address."""
    return f", {not_one:,} left out: email not exactly one address" if not_one else ""


def targeting(session: Session, interest: str, settings: LinkedIn) -> bytes:
    """Per account whose group misses required roles: the roles, and the LinkedIn job functions and
    seniorities config `role_targeting` gives for them (to reach the people the group lacks)."""
    frame = session.fetch_df(
        "select g.account_id, a.account_name, g.missing_required_roles from buying_groups as g "
        "left join unified_accounts as a on a.account_id = g.account_id where g.solution_interest = $x "
        "and coalesce(g.missing_required_roles, '') <> '' order by g.account_id",
        {"x": interest},
    )
    rows = []
    for r in frame.itertuples(index=False):
        roles = [role.strip() for role in r.missing_required_roles.split(LIST_SEPARATOR.strip())]
        aims = [settings.role_targeting[role] for role in roles if role in settings.role_targeting]
        functions = sorted({f for aim in aims for f in aim.job_functions})
        seniorities = sorted({s for aim in aims for s in aim.seniorities})
        rows.append(
            (
                r.account_id,
                r.account_name or "",
                LIST_SEPARATOR.join(roles),
                LIST_SEPARATOR.join(functions),
                LIST_SEPARATOR.join(seniorities),
            )
        )
    return to_csv(
        pd.DataFrame(rows, columns=["account_id", "company", "missing_roles", "job_functions", "seniorities"])
    )


def split(frame: pd.DataFrame, columns: list[str], max_records: int, max_bytes: int) -> list[bytes]:
    """The list as CSV files (formulas neutralised, core/csv_safety.py), each with the header, at most
    `max_records` rows and `max_bytes`; split between rows, even when a value holds a line break."""
    header, lines = csv_lines(frame[columns])
    parts, rows, size = [], [], len(header)
    for line in lines:
        if rows and (len(rows) >= max_records or size + len(line) > max_bytes):
            parts.append(header + b"".join(rows))
            rows, size = [], len(header)
        rows.append(line)
        size += len(line)
    parts.append(header + b"".join(rows))
    return parts


@dataclass
class Written:
    records: int
    adds: int
    removes: int
    files: list[str] = field(default_factory=list)
    warning: str = ""


def write_list(
    folder: Path,
    kind: str,
    name: str,
    frame: pd.DataFrame,
    previous: set[str],
    settings: LinkedIn,
    definition: dict,
    stamp: str,
    extra: dict[str, bytes] | None = None,
) -> Written:
    """`<folder>/<name>/<stamp>/`, swapped in whole (activation/files.py): full-0001.csv..,
    adds.csv, removes.csv (keys only for removes cannot be uploaded: LinkedIn removes by the same
    columns, so removes carry the last values we have), manifest.json. `previous`: the keys of the
    baseline (activation/state.py), so a re-run at the same as-of writes the same bytes."""
    columns = {"company": COMPANY_COLUMNS, "contact": CONTACT_COLUMNS, "marketo": MARKETO_COLUMNS}[kind]
    keys = pa.array(frame["key"].astype(str), type=pa.large_string())
    earlier = pa.array(sorted(str(k) for k in previous if k is not None), type=pa.large_string())
    added = pc.invert(pc.is_in(keys, value_set=earlier)).to_numpy(zero_copy_only=False)
    gone = earlier.filter(pc.invert(pc.is_in(earlier, value_set=keys))).to_pylist()
    files: dict[str, bytes] = {}
    for i, part in enumerate(
        split(frame, columns, settings.max_records_per_file, settings.max_bytes_per_file), 1
    ):
        files[f"full-{i:04d}.csv"] = part
    files["adds.csv"] = to_csv(frame[added][columns])
    removed = pd.DataFrame({"key": gone})
    files["removes.csv"] = to_csv(
        removed.rename(columns={"key": "account_id" if kind == "company" else "person_id"})
    )
    files.update(extra or {})
    warning = (
        f"{len(frame)} records: LinkedIn needs at least {settings.min_records} to match"
        if len(frame) < settings.min_records
        else ""
    )
    manifest = {
        "list": name,
        "kind": kind,
        "built_for": stamp,
        "definition": definition,
        "records": len(frame),
        "adds": len(pc.unique(keys.filter(added))),
        "removes": len(gone),
        "warning": warning,
        "emails": "sha256" if settings.hash_emails else "plain",
    }
    write_folder(folder / name / stamp, files, manifest)
    return Written(len(frame), manifest["adds"], manifest["removes"], sorted(files), warning)
