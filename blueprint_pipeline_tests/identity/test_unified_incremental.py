"""`unified_persons` re-unified only for the persons whose inputs moved, on both warehouses, to
the same table as unifying everyone (the model's `inputs_hash` and `name_by_usage`).

Hand-worked case (Marketo leads unless said; person ids p1..p6):
Build 1:
  p1: contact c1 "Ann Lee" and lead 100 "ann lee", neither opted out.
  p2: lead 200 "Bob Stone", title Engineer.
  p3: lead 300 "Noah Watson" (newer) and 301 "Watson Noah": one record each way, a tie settled
      by usage: "noah" is a first name twice (300, 400) and a last name once (301), "watson" once
      each way: 1 + 1 > 2 + 1 is false, so "Noah Watson" stays.
  p4: lead 400 "Noah Smith".   p5: contact c5 "Eve Park".
Build 2: p1 unsubscribed from a journey email (a tracked event); lead 200's title is now
  "Lead Engineer"; lead 400 is gone (p4 with it); p6 is new: lead 600 "Dan Noah".
  Usage now: noah first once (300), last twice (301, 600); watson once each way:
  2 + 1 > 1 + 1, so p3 turns to "Watson Noah" though none of its records changed.
  Re-unified: p1, p2, p3 (named by usage), p6 (new) -> 4 rows written; p4 removed; p5 untouched.
A new merge policy (source order) re-unifies all five persons.
"""

from __future__ import annotations

from datetime import datetime

import pandas as pd

from blueprint_pipeline.core.paths import SQL_PROJECT_DIR
from blueprint_pipeline.sql_models.project import load_project
from blueprint_pipeline.sql_models.runner import build_model

AS_OF = datetime(2026, 11, 1)
T1, T2, T3 = (pd.Timestamp(f"2026-0{m}-01") for m in (1, 2, 3))
CONTACTS = ["contact_id", "email", "email_domain", "first_name", "last_name", "title", "department",
            "country", "phone", "mobile_phone", "email_opt_out", "last_modified_at"]  # fmt: skip
LEADS = ["lead_id", "email", "email_domain", "first_name", "last_name", "title", "country", "company",
         "unsubscribed", "sms_consent", "updated_at"]  # fmt: skip


def _contacts(*rows) -> pd.DataFrame:
    return pd.DataFrame(
        [(cid, email, email.split("@")[1], first, last, None, None, "US", None, None, False, T1)
         for cid, email, first, last in rows],
        columns=CONTACTS,
    )  # fmt: skip


def _leads(*rows) -> pd.DataFrame:
    return pd.DataFrame(
        [(lid, f"{first}.{last}@x{lid}.com".lower(), f"x{lid}.com", first, last, title, None, None, False,
          False, updated)
         for lid, first, last, title, updated in rows],
        columns=LEADS,
    )  # fmt: skip


BUILD1 = {
    "contacts": _contacts(("c1", "ann@acme.com", "Ann", "Lee"), ("c5", "eve@park.io", "Eve", "Park")),
    "leads": _leads(
        ("100", "ann", "lee", None, T1),
        ("200", "Bob", "Stone", "Engineer", T1),
        ("300", "Noah", "Watson", None, T2),
        ("301", "Watson", "Noah", None, T1),
        ("400", "Noah", "Smith", None, T1),
    ),  # fmt: skip
    "registry": {
        "c1@prod.Salesforce": "p1",
        "100@prod.Marketo": "p1",
        "200@prod.Marketo": "p2",
        "300@prod.Marketo": "p3",
        "301@prod.Marketo": "p3",
        "400@prod.Marketo": "p4",
        "c5@prod.Salesforce": "p5",
    },  # fmt: skip
    "events": [],
}
BUILD2 = {
    "contacts": BUILD1["contacts"],
    "leads": _leads(
        ("100", "ann", "lee", None, T1),
        ("200", "Bob", "Stone", "Lead Engineer", T3),
        ("300", "Noah", "Watson", None, T2),
        ("301", "Watson", "Noah", None, T1),
        ("600", "Dan", "Noah", None, T3),
    ),  # fmt: skip
    "registry": {k: v for k, v in BUILD1["registry"].items() if v != "p4"} | {"600@prod.Marketo": "p6"},
    "events": [("p1", "unsubscribe")],
}
POLICY = ["salesforce_contact", "salesforce_lead", "marketo_lead", "linkedin_response"]
FIELDS = ["email", "first_name", "title", "department", "country", "phone", "company"]
NAMES = "select person_id, first_name, last_name, title, email_opt_out, name_by_usage from unified_persons"


def _empty(text: list[str], **typed) -> pd.DataFrame:
    return pd.DataFrame(
        {c: pd.Series(dtype=object) for c in text} | {c: pd.Series(dtype=t) for c, t in typed.items()}
    )


def _inputs(warehouse, build: dict, policy: list[str] = POLICY) -> None:
    with warehouse.transaction() as s:
        s.replace_table("stg_salesforce__contacts", build["contacts"])
        s.replace_table("stg_marketo__leads", build["leads"])
        s.replace_table(
            "stg_salesforce__leads", _empty(LEADS[:8], email_opt_out=bool, last_modified_at="M8[ns]")
        )
        s.replace_table(
            "stg_linkedin__lead_gen_responses",
            _empty(["lead_gen_response_id", *LEADS[1:8]], submitted_at="M8[ns]", is_test_lead=bool),
        )
        s.replace_table(
            "person_registry", pd.DataFrame(build["registry"].items(), columns=["source_key", "person_id"])
        )
        s.replace_table(
            "country_names", pd.DataFrame([("us", "United States")], columns=["alias", "country"])
        )
        s.replace_table(
            "identity_field_precedence",
            pd.DataFrame(
                [(f, source, rank) for f in FIELDS for rank, source in enumerate(policy, start=1)],
                columns=["field", "person_source", "precedence"],
            ),
        )
        s.replace_table("stg_tracking__events", pd.DataFrame(build["events"], columns=["person_id", "event"]))


def _build(warehouse, full_refresh: bool = False):
    project = load_project(SQL_PROJECT_DIR)
    model = project.models["unified_persons"]
    return build_model(warehouse, project, model, as_of=AS_OF, config_version="v1", full_refresh=full_refresh)


def _table(warehouse, sql: str = "select * from unified_persons") -> list[tuple]:
    return sorted(tuple(r) for r in warehouse.fetchall(sql))


def test_only_the_persons_whose_inputs_moved_are_unified_again(warehouse):
    _inputs(warehouse, BUILD1)
    first = _build(warehouse)
    assert first.rows_inserted == 5
    assert _table(warehouse, NAMES) == [
        ("p1", "Ann", "Lee", None, False, False),
        ("p2", "Bob", "Stone", "Engineer", False, False),
        ("p3", "Noah", "Watson", None, False, True),
        ("p4", "Noah", "Smith", None, False, False),
        ("p5", "Eve", "Park", None, False, False),
    ]
    again = _build(warehouse)  # nothing moved: only the person named by usage is checked again
    assert (again.mode, again.rows_inserted, again.rows_replaced, again.rows_removed) == (
        "incremental",
        1,
        1,
        0,
    )

    _inputs(warehouse, BUILD2)
    second = _build(warehouse)
    # p1, p2, p3 written again, p6 new, p4 removed.
    assert (second.rows_inserted, second.rows_replaced, second.rows_removed) == (4, 3, 1)
    assert _table(warehouse, NAMES) == [
        ("p1", "Ann", "Lee", None, True, False),
        ("p2", "Bob", "Stone", "Lead Engineer", False, False),
        ("p3", "Watson", "Noah", None, False, True),
        ("p5", "Eve", "Park", None, False, False),
        ("p6", "Dan", "Noah", None, False, False),
    ]
    incremental = _table(warehouse)
    _build(warehouse, full_refresh=True)
    assert _table(warehouse) == incremental


def test_a_new_merge_policy_unifies_everyone_again(warehouse):
    _inputs(warehouse, BUILD1)
    _build(warehouse)
    _inputs(warehouse, BUILD1, policy=POLICY[::-1])
    result = _build(warehouse)
    assert (result.rows_inserted, result.rows_replaced, result.rows_removed) == (5, 5, 0)
    # The lead's email and spelling now come first: Ann's record from Marketo ("ann lee", recased).
    assert _table(warehouse, "select person_id, email from unified_persons where person_id = 'p1'") == [
        ("p1", "ann.lee@x100.com")
    ]
    incremental = _table(warehouse)
    _build(warehouse, full_refresh=True)
    assert _table(warehouse) == incremental
