"""Delivery through a real SMTP server (aiosmtpd, local) and a real HTTP SMS endpoint, the mailbox
fallback, and exactly-once sending proven by killing a real delivering process; on DuckDB and
PostgreSQL."""

from __future__ import annotations

import asyncio
import email
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from datetime import datetime
from http.server import BaseHTTPRequestHandler, HTTPServer

import pandas as pd
import pytest
from aiosmtpd.controller import Controller

from blueprint_pipeline.journeys.delivery import MailboxSender, SmtpSender, deliver
from blueprint_pipeline.warehouse.stateful import create


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Inbox:
    """An aiosmtpd handler that keeps what arrives (slowly, if asked)."""

    def __init__(self, delay: float = 0.0):
        self.delay, self.messages = delay, []

    async def handle_DATA(self, server, session, envelope):
        await asyncio.sleep(self.delay)
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 OK"


@pytest.fixture
def smtp():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    yield inbox, f"smtp://127.0.0.1:{controller.port}"
    controller.stop()


@pytest.fixture
def sms_endpoint():
    received = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            received.append((self.headers["Idempotency-Key"], body))
            self.send_response(202)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield received, f"http://127.0.0.1:{server.server_port}/sms"
    server.shutdown()


def _message(i: int, channel: str = "email", status: str = "pending", html: str | None = None) -> dict:
    return {
        "message_id": f"<m{i:03d}@example.com>", "step_key": f"k{i}", "journey_id": "j", "enrolment_id": "e",
        "account_id": "A1", "buying_group_id": "g", "person_id": f"p{i}", "channel": channel,
        "to_address": f"p{i}@example.com" if channel != "sms" else "+4911", "subject": f"Hello {i}",
        "body_text": f"Text {i}", "body_html": html,
        "unsubscribe_url": f"http://127.0.0.1:8088/u/{'0' * 32}?p=p_{'f' * 16}{i}&s={'a' * 24}"
        if channel == "email"
        else None, "status": status, "hold_reason": None, "test": False,
        "created_at": datetime(2026, 3, 2, 9, 0, i), "sent_at": None, "attempts": 0, "last_error": None,
    }  # fmt: skip


def _outbox(warehouse, rows: list[dict], table: str = "journey_outbox") -> None:
    frame = pd.DataFrame(rows).astype(
        {"body_html": "string", "hold_reason": "string", "last_error": "string"}
    )
    frame["sent_at"] = pd.to_datetime(frame["sent_at"])
    with warehouse.transaction() as session:
        create(session, table)
        session.insert_from_local_query(table, list(frame.columns), "select * from f", frames={"f": frame})


def test_sales_alerts_go_out_from_their_own_outbox_in_time_order(warehouse, smtp):
    """The standing rules' alerts wait in sales_alert_outbox: delivery sends them with the journeys'
    messages, oldest first across both (alert 2 was queued between emails 1 and 3), and marks each
    sent in the outbox it is in; a second run sends nothing."""
    inbox, url = smtp
    _outbox(warehouse, [_message(1), _message(3)])
    alert = _message(2, channel="sales_alert") | {
        "step_key": "alert/r/g/x",
        "journey_id": "rule:r",
        "person_id": "",
    }
    _outbox(warehouse, [alert | {"unsubscribe_url": None}], "sales_alert_outbox")
    done = deliver(warehouse, SmtpSender(url), None, "marketing@example.com")
    assert done.sent == {"email": 2, "sales_alert": 1}
    assert [(m["Message-ID"], m["To"]) for m in inbox.messages] == [
        ("<m001@example.com>", "p1@example.com"),
        ("<m002@example.com>", "p2@example.com"),
        ("<m003@example.com>", "p3@example.com"),
    ]
    assert warehouse.fetchall("select message_id, status, attempts from sales_alert_outbox") == [
        ("<m002@example.com>", "sent", 1)
    ]
    assert warehouse.fetchall("select message_id, status from journey_outbox order by message_id") == [
        ("<m001@example.com>", "sent"),
        ("<m003@example.com>", "sent"),
    ]
    assert deliver(warehouse, SmtpSender(url), None, "marketing@example.com").sent == {}


def test_email_sms_and_alerts_go_out_once(warehouse, smtp, sms_endpoint):
    inbox, url = smtp
    received, sms_url = sms_endpoint
    from blueprint_pipeline.journeys.delivery import HttpSms

    _outbox(
        warehouse,
        [_message(1, html="<p>Hi</p>"), _message(2, channel="sales_alert"), _message(3, status="held"),
         _message(4, channel="sms")],
    )  # fmt: skip
    done = deliver(warehouse, SmtpSender(url), HttpSms(sms_url), "marketing@example.com")
    assert done.sent == {"email": 1, "sales_alert": 1, "sms": 1}
    by_id = {m["Message-ID"]: m for m in inbox.messages}
    assert set(by_id) == {"<m001@example.com>", "<m002@example.com>"}
    first = by_id["<m001@example.com>"]
    # A long signed URL stays one plain header (not encoded words a mail client cannot follow).
    assert first["List-Unsubscribe"] == f"<http://127.0.0.1:8088/u/{'0' * 32}?p=p_{'f' * 16}1&s={'a' * 24}>"
    assert first["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert first.is_multipart() and [p.get_content_type() for p in first.walk()][1:] == [
        "text/plain",
        "text/html",
    ]
    assert by_id["<m002@example.com>"]["List-Unsubscribe"] is None  # an alert goes to sales
    assert received == [
        ("<m004@example.com>", {"to": "+4911", "body": "Text 4", "message_id": "<m004@example.com>"})
    ]
    assert warehouse.fetchall("select message_id, status from journey_outbox order by message_id") == [
        ("<m001@example.com>", "sent"), ("<m002@example.com>", "sent"), ("<m003@example.com>", "held"),
        ("<m004@example.com>", "sent"),
    ]  # fmt: skip
    again = deliver(warehouse, SmtpSender(url), HttpSms(sms_url), "marketing@example.com")
    assert again.sent == {} and len(inbox.messages) == 2 and len(received) == 1


def test_without_smtp_mail_goes_to_the_mailbox(duckdb_warehouse, tmp_path):
    _outbox(duckdb_warehouse, [_message(1), _message(5, channel="sms")])
    done = deliver(duckdb_warehouse, MailboxSender(tmp_path / "mailbox"), None, "marketing@example.com")
    assert done.sent == {"email": 1}
    eml = email.message_from_bytes((tmp_path / "mailbox" / "m001.eml").read_bytes())
    assert eml["Subject"] == "Hello 1" and eml["Message-ID"] == "<m001@example.com>"
    # No SMS provider: the SMS waits, pending, with the reason.
    assert duckdb_warehouse.fetchall(
        "select status, last_error from journey_outbox where channel = 'sms'"
    ) == [("pending", "OSError: no SMS provider configured (BLUEPRINT_SMS_URL)")]


CHILD = """
import sys
from blueprint_pipeline.journeys.delivery import SmtpSender, deliver
from blueprint_pipeline.warehouse import warehouse_from_url
warehouse = warehouse_from_url(sys.argv[1], sys.argv[2] or None)
deliver(warehouse, SmtpSender(sys.argv[3]), None, "marketing@example.com")
"""


def test_a_killed_delivery_sends_nothing_twice_and_loses_nothing(warehouse):
    """30 emails through a server that takes 0.1 s for each; a delivering process is killed
    (SIGKILL) twice, at different moments, then a last run finishes. Every message arrives; a
    message arrives twice only if the kill fell between the server accepting it and the process
    recording it (at most once per kill), and then with the same Message-ID."""
    inbox = Inbox(delay=0.1)
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    url = f"smtp://127.0.0.1:{controller.port}"
    try:
        _outbox(warehouse, [_message(i) for i in range(30)])
        where = (warehouse.url, warehouse.schema_name) if hasattr(warehouse, "schema_name") else (
            f"duckdb:///{warehouse.path}", "")  # fmt: skip
        for seconds in (0.8, 1.3):
            child = subprocess.Popen([sys.executable, "-c", CHILD, *where, url], env=os.environ.copy())
            started = time.monotonic()
            while len(inbox.messages) < 2 and time.monotonic() - started < 60:
                time.sleep(0.02)  # the child is past its imports and sending
            time.sleep(seconds)
            os.kill(child.pid, signal.SIGKILL)
            child.wait()
        arrived_before = len(inbox.messages)
        assert 0 < arrived_before < 30
        deliver(warehouse, SmtpSender(url), None, "marketing@example.com")
    finally:
        controller.stop()
    ids = [m["Message-ID"] for m in inbox.messages]
    assert set(ids) == {f"<m{i:03d}@example.com>" for i in range(30)}
    assert len(ids) - len(set(ids)) <= 2
    assert warehouse.fetchall("select distinct status from journey_outbox") == [("sent",)]


def test_a_hard_bounce_is_recorded_not_retried(duckdb_warehouse):
    """The server refuses p2's address for good (550): the message is `bounced`, on_bounce lands
    the event, and the next delivery does not try it again."""

    class Refusing(Inbox):
        async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
            if address.startswith("p2@"):
                return "550 5.1.1 no such user"
            envelope.rcpt_tos.append(address)
            return "250 OK"

    inbox = Refusing()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    try:
        _outbox(duckdb_warehouse, [_message(1), _message(2)])
        bounced: list[str] = []
        sender = SmtpSender(f"smtp://127.0.0.1:{controller.port}")
        done = deliver(
            duckdb_warehouse, sender, None, "m@example.com", lambda row: bounced.append(row["person_id"])
        )
        again = deliver(
            duckdb_warehouse, sender, None, "m@example.com", lambda row: bounced.append(row["person_id"])
        )
    finally:
        controller.stop()
    assert (done.sent, done.bounced, again.sent, again.bounced) == ({"email": 1}, 1, {}, 0)
    assert bounced == ["p2"]
    assert duckdb_warehouse.fetchall("select person_id, status from journey_outbox order by person_id") == [
        ("p1", "sent"), ("p2", "bounced"),
    ]  # fmt: skip
