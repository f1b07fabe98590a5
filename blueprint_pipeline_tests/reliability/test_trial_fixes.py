"""Problems a new user found trying the hardening, each as reproduced (docs/reliability.md,
"Trial fixes")."""

from __future__ import annotations

from datetime import datetime

import pandas as pd
import pytest

from blueprint_pipeline.activation.linkedin import contact_rows, left_out_note, marketo_rows
from blueprint_pipeline.config.activation import ContactList, StaticList
from blueprint_pipeline.core.errors import AsOfError
from blueprint_pipeline.core.histories import FORWARD_ONLY, check_time_moves_forward
from blueprint_pipeline.defs.journeys.delivery import not_sent_summary
from blueprint_pipeline.governance.forget import Outcome, Places, forget

LATER = "2026-12-06 00:00:00"
EARLIER = datetime(2026, 12, 5, 12, 0)


def _history_at(warehouse, table: str, when: str) -> None:
    column = FORWARD_ONLY[table][0]
    with warehouse.transaction() as session:
        session.execute(f"create table {table} (entry varchar, {column} timestamp)")
        session.execute(f"insert into {table} values ('one', timestamp '{when}')")


@pytest.mark.parametrize(
    "table", ["account_audience_history", "buying_group_member_events", "person_id_history"]
)
def test_a_full_run_dated_before_a_partial_run_is_refused(warehouse, table):
    """`--select +key:buying_group_members --as-of 2026-12-06`, then a full run at 2026-12-05 12:00
    was accepted: an account `left` at 2026-12-06 before later rows of account_audience_history."""
    _history_at(warehouse, table, LATER)
    with pytest.raises(AsOfError, match=f"before the last entry of {table} \\(2026-12-06 00:00\\)"):
        check_time_moves_forward(warehouse, EARLIER)


def test_the_error_names_the_history_the_selection_writes(warehouse):
    """With journey_runs and account_audience_history both ahead, a selection that writes only the
    audiences names account_audience_history (it always named journey_runs), and one that writes
    neither (the activation group) is not refused by them."""
    _history_at(warehouse, "journey_runs", LATER)
    _history_at(warehouse, "account_audience_history", LATER)
    with pytest.raises(AsOfError, match="last entry of account_audience_history"):
        check_time_moves_forward(warehouse, EARLIER, {"account_audience_members", "account_audience_history"})
    check_time_moves_forward(warehouse, EARLIER, {"crm_export", "linkedin_audiences"})
    with pytest.raises(AsOfError, match="last entry of journey_runs"):
        check_time_moves_forward(warehouse, EARLIER, {"journey_step_log"})


def test_forgetting_an_unknown_address_says_it_is_suppressed(warehouse):
    """`forget --email nobody@nowhere.example` printed `0 person(s) ...` although it recorded the
    hash (suppressed from every later extract); a re-run overwrote the first forgotten_at."""
    first, again = datetime(2026, 11, 26, 9, 0), datetime(2026, 12, 1, 9, 0)
    [nobody] = forget(warehouse, ["nobody@nowhere.example"], origin="test", at=first, places=Places())
    assert "no person found with this address; it is now suppressed at ingestion" in nobody.describe()
    [rerun] = forget(warehouse, ["nobody@nowhere.example"], origin="test", at=again, places=Places())
    assert "already forgotten on 2026-11-26" in rerun.describe()
    with warehouse.session() as session:
        assert session.fetchall("select forgotten_at from forgotten_identifiers") == [(first,)]


def test_one_file_is_counted_in_the_singular():
    outcome = Outcome("ab" * 32, 1, files={"mailbox messages": 1, "landing files": 2})
    assert "2 landing files, 1 mailbox message " in outcome.describe()


def test_the_not_delivered_line_says_where_the_whole_reason_is():
    """The build summary's `not delivered:` line showed the Message-ID and a reason with the
    addresses hidden, and no pointer to the outbox, which keeps the reason whole."""
    line = not_sent_summary([("<m001@example.com>", "pending", "SMTPRecipientsRefused: <address>")])
    assert line.endswith("(reason in journey_outbox.last_error or sales_alert_outbox.last_error)")


def _persons(warehouse, emails: dict[str, str]) -> None:
    persons = pd.DataFrame(
        {"person_id": list(emails), "email": list(emails.values()), "email_opt_out": False,
         "email_bounced": False, "first_name": "Ann", "last_name": "Lee", "title": "CTO", "country": "DE"}
    )  # fmt: skip
    with warehouse.transaction() as session:
        session.replace_table("unified_persons", persons)
        session.replace_table(
            "person_account_links",
            pd.DataFrame({"person_id": list(emails), "account_id": "a1", "is_primary": True}),
        )
        session.replace_table(
            "unified_accounts", pd.DataFrame({"account_id": ["a1"], "account_name": ["Orion"]})
        )
        session.replace_table(
            "buying_group_members",
            pd.DataFrame({"person_id": list(emails), "solution_interest": "crm", "role": "champion"}),
        )


def test_contact_lists_leave_out_an_email_field_of_two_addresses(warehouse):
    """`a@x.co, b@evil.example` in one email field was refused at delivery but written as it was
    into LinkedIn and Marketo contact lists: now left out, like an opted-out person, and counted."""
    _persons(warehouse, {"p1": " Ann@X.co ", "p2": "a@x.co, b@evil.example", "p3": "Bob <b@x.co>"})
    with warehouse.session() as session:
        marketo, marketo_left_out = marketo_rows(session, StaticList(members_of="crm"))
        linkedin, linkedin_left_out = contact_rows(session, ContactList(members_of="crm"), None, False)
    assert (list(marketo["email"]), marketo_left_out) == (["ann@x.co"], 2)
    assert (list(linkedin["email"]), linkedin_left_out) == (["ann@x.co"], 2)
    assert left_out_note(2) == ", 2 left out: email not exactly one address"
