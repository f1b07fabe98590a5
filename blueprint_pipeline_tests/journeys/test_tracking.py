"""The tracking endpoint over real HTTP (uvicorn on a free port), its events landing as files, and
those files in a build: an open scored as email_open, an unsubscribe making the person opted out."""

from __future__ import annotations

import csv
import shutil
import socket
import threading
import time
import urllib.error
import urllib.request
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
import uvicorn

from blueprint_pipeline.tracking.app import create_app
from blueprint_pipeline.tracking.links import click_url, open_url, tracked_html, unsubscribe_url
from blueprint_pipeline_tests.conftest import FIXTURES
from blueprint_pipeline_tests.identity.test_unified import CAROL, DEE, EVE
from blueprint_pipeline_tests.ingestion.test_two_drops import build

SECRET = "s3cret"
BASE = "http://127.0.0.1:{}"


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args):
        return None


def _get(url: str, data: bytes | None = None) -> tuple[int, dict, bytes]:
    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(urllib.request.Request(url, data=data, headers={"User-Agent": "pytest"})) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


@pytest.fixture
def endpoint(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app = create_app(tmp_path / "landing", SECRET, rotate_seconds=60)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    yield BASE.format(port), tmp_path / "landing" / "tracking"
    server.should_exit = True
    thread.join(10)


def _events(folder) -> list[dict]:
    rows = []
    for path in sorted(folder.glob("events_*.csv")):
        with path.open(newline="") as handle:
            rows.extend(csv.DictReader(handle))
    return rows


def test_opens_clicks_and_unsubscribes_over_http(endpoint):
    base, folder = endpoint
    status, headers, body = _get(open_url(base, SECRET, "m1", "p_ann"))
    assert status == 200 and headers["content-type"] == "image/gif" and body.startswith(b"GIF89a")
    status, headers, _ = _get(click_url(base, SECRET, "m1", "p_ann", "https://example.com/pricing?x=1"))
    assert status == 302 and headers["location"] == "https://example.com/pricing?x=1"
    page = unsubscribe_url(base, SECRET, "m1", "p_ann")
    status, _, body = _get(page)
    assert status == 200 and b'<form method="post"' in body  # a GET (a mail scanner) records nothing
    status, _, body = _get(page, data=b"List-Unsubscribe=One-Click")
    assert status == 200 and b"You are unsubscribed" in body
    # Forged or altered links record nothing and redirect nowhere.
    forged = click_url(base, SECRET, "m1", "p_ann", "https://example.com/")
    altered = forged.replace("example.com", "evil.example")
    assert _get(altered)[0] == 400
    assert _get(unsubscribe_url(base, "wrong", "m1", "p_ann"), data=b"")[0] == 400
    assert _get(open_url(base, "wrong", "m1", "p_ann"))[0] == 200  # a pixel always answers...
    time.sleep(0.1)
    assert not _events(folder)  # ...and nothing has landed yet: the open file is still incoming


def test_events_land_at_shutdown(tmp_path):
    app = create_app(tmp_path / "landing", SECRET, rotate_seconds=60)
    writer = app.state.writer
    writer.record("open", "m1", "p_ann", user_agent="x")
    writer.record("click", "m1", "p_ann", url="https://example.com/")
    writer.rotate()
    rows = _events(tmp_path / "landing" / "tracking")
    assert [(r["event"], r["message_token"], r["person_id"], r["url"]) for r in rows] == [
        ("open", "m1", "p_ann", ""), ("click", "m1", "p_ann", "https://example.com/"),
    ]  # fmt: skip
    # A file a crashed process left under .incoming lands when the next writer starts.
    left = tmp_path / "landing" / "tracking" / ".incoming" / "999_dead.csv"
    left.write_text(
        "event_id,occurred_at,event,message_token,person_id,url,user_agent\nx1,2026-03-01T00:00:00Z,open,m2,p_b,,\n"
    )
    create_app(tmp_path / "landing", SECRET)
    assert len(_events(tmp_path / "landing" / "tracking")) == 3


def test_html_links_and_pixel_are_tracked():
    html = (
        '<html><body><a href="https://example.com/a">A</a> <a href="mailto:x@y">m</a> '
        '<a href="http://t/u/m1?p=p1&s=x">Unsubscribe</a></body></html>'
    )
    out = tracked_html(html, "http://t", SECRET, "m1", "p1")
    link = unescape(out.split('href="')[1].split('"')[0])  # as a browser reads the attribute
    assert link.startswith("http://t/c/m1?") and parse_qs(urlsplit(link).query)["u"] == [
        "https://example.com/a"
    ]
    assert 'href="mailto:x@y"' in out and 'href="http://t/u/m1?p=p1&s=x"' in out  # ours stay as they are
    assert out.index('<img src="http://t/o/m1?') < out.index("</body>")


def test_tracked_events_in_a_build(warehouse, tmp_path, monkeypatch):
    """Carol (opted in everywhere, test_unified.py) opened a journey email and unsubscribed; an
    email to Dee bounced. Carol's open is an email_open activity (origin tracking) and she is opted
    out; Dee's address is marked bounced; Eve, untouched, stays as she was."""
    landing = tmp_path / "landing"
    shutil.copytree(FIXTURES / "identity_unified", landing)
    (landing / "tracking").mkdir()
    (landing / "tracking" / "events_1.csv").write_text(
        "event_id,occurred_at,event,message_token,person_id,url,user_agent\n"
        f"e1,2026-02-28T10:00:00Z,open,m1,{CAROL},,\n"
        f"e2,2026-02-28T10:05:00Z,unsubscribe,m1,{CAROL},,\n"
        f"e4,2026-02-28T10:07:00Z,bounce,m2,{DEE},,\n"
        "e3,2026-02-28T10:06:00Z,teleport,m1,p_nobody,,\n"
    )
    result = build(landing, warehouse, monkeypatch)
    assert result.success, result.render()
    assert warehouse.fetchall(
        "select person_id, kind from int_person_activities where origin = 'tracking'"
    ) == [(CAROL, "email_open")]
    consent = {
        p: (opt_out, bounced)
        for p, opt_out, bounced in warehouse.fetchall(
            "select person_id, email_opt_out, email_bounced from unified_persons"
        )
    }
    assert (consent[CAROL], consent[DEE], consent[EVE]) == ((True, False), (False, True), (False, False))
    assert (
        warehouse.scalar("select count(*) from stg_tracking__events") == 4
    )  # the odd event is kept, flagged
