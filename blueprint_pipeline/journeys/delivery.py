"""Sending what journeys queued in `journey_outbox` and the sales alerts in `sales_alert_outbox`,
each message at most once, oldest first across both.

For each message: mark it `sending` (committed), send it with its stable Message-ID, mark it `sent`
(committed). A run killed anywhere leaves each message pending (not yet tried), sending (tried,
outcome unknown) or sent; the next run sends the pending and sending ones. Only a message the
server accepted just before the process died is sent twice, with the same Message-ID, so mail
systems that deduplicate by Message-ID drop the copy (docs/journeys.md).

Channels: email over SMTP, or to a mailbox folder of .eml files when no SMTP server is configured
(so a demo never sends to the world); SMS through `SmsProvider`, with an adapter that posts JSON
to an HTTP endpoint. Sales alerts are emails.
"""

from __future__ import annotations

import contextlib
import email.policy
import json
import re
import smtplib
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import formatdate, getaddresses
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit

from blueprint_pipeline.core.atomic_files import replace_file
from blueprint_pipeline.core.faults import crash_point
from blueprint_pipeline.core.redact import redacted
from blueprint_pipeline.warehouse import Session, Warehouse
from blueprint_pipeline.warehouse.stateful import JOURNEY_TABLES

MAX_ATTEMPTS = 5
# The outboxes delivery sends from, of one shape: the journeys' and the sales alerts' own.
OUTBOXES = ("journey_outbox", "sales_alert_outbox")


class EmailSender(Protocol):
    def send(self, message: EmailMessage) -> None: ...


class SmsProvider(Protocol):
    """What an SMS adapter does (a Twilio or Sinch adapter implements this)."""

    def send(self, to: str, body: str, message_id: str) -> None: ...


@dataclass
class SmtpSender:
    """smtp://[user[:password]@]host[:port][?starttls=true]; one connection for many messages,
    opened again if the server closed it."""

    url: str
    _smtp: smtplib.SMTP | None = field(default=None, repr=False)

    def _connect(self) -> smtplib.SMTP:
        parts = urlsplit(self.url)
        smtp = smtplib.SMTP(parts.hostname or "127.0.0.1", parts.port or 25, timeout=30)
        if "starttls=true" in (parts.query or ""):
            smtp.starttls()
        if parts.username:
            smtp.login(parts.username, parts.password or "")
        return smtp

    def send(self, message: EmailMessage) -> None:
        if self._smtp is None:
            self._smtp = self._connect()
        try:
            self._smtp.send_message(message)
        except smtplib.SMTPServerDisconnected:
            self._smtp = self._connect()
            self._smtp.send_message(message)

    def close(self) -> None:
        if self._smtp is not None:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                self._smtp.quit()
            self._smtp = None


@dataclass
class MailboxSender:
    """Writes each message to `<folder>/<message id>.eml` (atomically; a resend overwrites it)."""

    folder: Path

    def send(self, message: EmailMessage) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        name = message["Message-ID"].strip("<>").split("@")[0]
        replace_file(self.folder / f"{name}.eml", bytes(message))


@dataclass
class HttpSms:
    """Posts {"to", "body", "message_id"} as JSON to `url`, with the message id as the
    Idempotency-Key header, so a provider that honours it drops a resend."""

    url: str
    token: str | None = None

    def send(self, to: str, body: str, message_id: str) -> None:
        headers = {"Content-Type": "application/json", "Idempotency-Key": message_id}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        data = json.dumps({"to": to, "body": body, "message_id": message_id}).encode()
        request = urllib.request.Request(self.url, data=data, headers=headers, method="POST")
        with urllib.request.urlopen(request, timeout=30) as response:
            if response.status >= 300:
                raise OSError(f"SMS endpoint answered {response.status}")


# Long headers (a signed List-Unsubscribe URL) stay plain up to RFC 5322's 998 characters instead
# of being folded into encoded words, which mail clients would not read as a URL.
POLICY = email.policy.default.clone(max_line_length=998)


# Any control character in a header value, CR and LF first: a value from data (an account name in a
# subject) must never end its header and start another (`Bcc: ...`), and the email library refuses
# CR/LF outright (ValueError), which would fail the message for a typo in a CRM field.
_HEADER_BREAKS = re.compile(r"[\x00-\x1f\x7f\u2028\u2029\x85]+")
# The email library decodes RFC 2047 encoded words (`=?utf-8?q?Orion=0D=0ABcc:...?=`) in the values
# it is given and writes what they decode to, CR/LF included, unescaped: a value from data must never
# be read as one. A space after the `=` keeps the text readable; the library encodes non-ASCII
# text itself.
_ENCODED_WORD_START = "=?"


def header_value(value: object) -> str:
    """`value` as one header line of literal text: every run of control characters becomes one
    space, and `=?` becomes `= ?` (never the start of an encoded word)."""
    text = _HEADER_BREAKS.sub(" ", str(value)).strip()
    return text.replace(_ENCODED_WORD_START, "= ?")


def one_address(value: object) -> str:
    """The recipient as exactly one address; a list (`a@x, b@y`) would send to people nobody chose."""
    cleaned = header_value(value)
    found = getaddresses([cleaned])
    if len(found) != 1 or "@" not in found[0][1]:
        raise ValueError(f"to_address {cleaned!r} is not one email address")
    return cleaned


def check_headers(message: EmailMessage) -> None:
    """Raises unless `message`'s bytes, read back, hold exactly the headers it was given, each one
    line: the last word on header injection, whatever the email library does with a value."""
    written = email.message_from_bytes(bytes(message), policy=email.policy.default)
    if [k.lower() for k in written] != [k.lower() for k in message]:
        raise ValueError(
            f"the message's headers read back as {written.keys()}, not the {message.keys()} it was given"
        )
    for name, value in written.items():
        if _HEADER_BREAKS.search(str(value)):
            raise ValueError(f"header {name} reads back with a control character")


def email_message(row: dict, from_address: str, unsubscribe_url: str | None) -> EmailMessage:
    """The message of an outbox row. Every header value goes through `header_value`, whatever the
    data, and the built message through `check_headers`; a body that is not text, a recipient that
    is not one address or headers that do not read back as set raise (the caller fails that message
    alone)."""
    message = EmailMessage(policy=POLICY)
    message["Message-ID"] = header_value(row["message_id"])
    message["From"] = header_value(from_address)
    message["To"] = one_address(row["to_address"])
    message["Subject"] = header_value(row["subject"])
    message["Date"] = formatdate(row["created_at"].timestamp(), usegmt=True)
    if unsubscribe_url:
        message["List-Unsubscribe"] = f"<{header_value(unsubscribe_url)}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    body = row["body_text"]
    if not isinstance(body, str):
        raise ValueError("body_text is not text (NULL?)")
    message.set_content(body)
    html = row.get("body_html")
    if isinstance(html, str) and html:  # a NULL arrives as None or NaN
        message.add_alternative(html, subtype="html")
    check_headers(message)
    return message


@dataclass
class Delivered:
    sent: dict[str, int]
    failed: int
    retried_after_crash: int
    bounced: int = 0
    # (message_id, status after the attempt, public reason) of every message this run could not
    # send: `pending` (tried again next run), `failed` (after MAX_ATTEMPTS) or `bounced`. The
    # reason is `public_reason`'s: it goes to Dagster's event log; `last_error` keeps it whole.
    errors: list[tuple[str, str, str]] = field(default_factory=list)


# An address or a phone number left in an error text after `redacted` (a server's answer in double
# quotes, an address outside quotes).
_ADDRESS = re.compile(r"[^\s<>()\[\],;:'\"]+@[^\s<>()\[\],;:'\"]+")
_PHONE = re.compile(r"\+\d[\d\s().-]{5,}\d")


def public_reason(reason: str) -> str:
    """A delivery error as Dagster's event log may hold it (metadata, build summary, log), which a
    deletion request cannot reach: its first line, quoted values as '...', any address left as
    <address>, any phone number as <number>. `last_error` in the outbox keeps the whole reason
    (forget redacts it there)."""
    return _PHONE.sub("<number>", _ADDRESS.sub("<address>", redacted(reason)))


def _hard_bounce(exc: Exception) -> bool:
    """The server refused every recipient for good (5xx): retrying cannot help."""
    return isinstance(exc, smtplib.SMTPRecipientsRefused) and all(
        code >= 500 for code, _ in exc.recipients.values()
    )


def _send(row: dict, mail: EmailSender, sms: SmsProvider | None, from_address: str) -> None:
    if row["channel"] == "sms":
        if sms is None:
            raise OSError("no SMS provider configured (BLUEPRINT_SMS_URL)")
        sms.send(row["to_address"], row["body_text"], row["message_id"])
        return
    link = row.get("unsubscribe_url")
    mail.send(email_message(row, from_address, link if isinstance(link, str) and link else None))


def _waiting(session: Session) -> list[dict]:
    """The messages to send from every outbox there is, each with the outbox it is in, oldest first
    (by creation time, then message id, across both)."""
    columns = ", ".join(JOURNEY_TABLES["journey_outbox"])
    queries = [
        f"select {columns}, '{table}' as outbox from {table} where status in ('pending', 'sending')"
        for table in OUTBOXES
        if session.table_exists(table)
    ]
    if not queries:
        return []
    return session.fetch_df(
        f"select * from ({' union all '.join(queries)}) as waiting order by created_at, message_id"
    ).to_dict("records")


def deliver(
    warehouse: Warehouse,
    mail: EmailSender,
    sms: SmsProvider | None,
    from_address: str,
    on_bounce=None,
) -> Delivered:
    """Sends every pending message (and every one a killed run left `sending`), oldest first.
    `sent_at` is the wall-clock time a message left, not the run's as-of time. A hard bounce marks
    the message `bounced` and calls `on_bounce(row)` (which lands a bounce event). Any other error
    while building or sending a message (a refused recipient, a body that is not text, a mail
    server down) leaves it `pending` with `last_error`, `failed` after MAX_ATTEMPTS tries, and goes
    on with the next message: one bad row never stops delivery."""
    sent: dict[str, int] = {}
    failed = crashed = bounced = 0
    errors: list[tuple[str, str, str]] = []
    # One session in autocommit: each status update below is committed on its own, before the
    # next step, without opening the warehouse again per message.
    with warehouse.session() as session:
        rows = _waiting(session)

        def mark(row: dict, sql: str, **params) -> None:
            session.execute(
                f"update {row['outbox']} set {sql} where message_id = $m", {"m": row["message_id"], **params}
            )

        try:
            for row in rows:
                crashed += row["status"] == "sending"
                mark(row, "status = 'sending', attempts = attempts + 1")
                try:
                    _send(row, mail, sms, from_address)
                except Exception as exc:  # noqa: BLE001 - any error fails this message alone, with its reason
                    status = "failed" if int(row["attempts"] or 0) + 1 >= MAX_ATTEMPTS else "pending"
                    if _hard_bounce(exc):
                        status, bounced = "bounced", bounced + 1
                        if on_bounce is not None:
                            on_bounce(row)
                    failed += status == "failed"
                    reason = f"{type(exc).__name__}: {exc}"[:500]
                    mark(row, "status = $s, last_error = $e", s=status, e=reason)
                    errors.append((row["message_id"], status, public_reason(reason)))
                    continue
                crash_point("deliver")
                mark(
                    row,
                    "status = 'sent', sent_at = $t, last_error = null",
                    t=datetime.now(UTC).replace(tzinfo=None),
                )
                sent[row["channel"]] = sent.get(row["channel"], 0) + 1
        finally:
            getattr(mail, "close", lambda: None)()
    return Delivered(sent, failed, crashed, bounced, errors)
