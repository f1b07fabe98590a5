"""Issue 21, the small holes: each attack as it was reproduced, and what the platform does now
(docs/reliability.md, "Small holes")."""

from __future__ import annotations

import csv
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import uvicorn

from blueprint_pipeline.tracking.app import create_app
from blueprint_pipeline.tracking.events import EventWriter
from blueprint_pipeline.tracking.links import open_url
from blueprint_pipeline_tests.journeys.test_tracking import SECRET, _get


@contextmanager
def serving(app) -> Iterator[str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


def _landed_rows(folder: Path) -> list[dict]:
    rows = []
    for path in sorted(folder.glob("events_*.csv")):
        with path.open(newline="", encoding="utf-8") as handle:
            rows += list(csv.DictReader(handle))
    return rows


# 8. Two tracking servers on one landing folder.


def test_a_second_writer_leaves_the_first_ones_open_file_alone(tmp_path):
    first = EventWriter(tmp_path, rotate_seconds=60)
    first.record("open", "tok1", "p1")
    second = EventWriter(tmp_path, rotate_seconds=60)  # start-up lands what dead writers left
    assert not list((tmp_path / "tracking").glob("events_*.csv")), "the first writer's open file was landed"
    first.record("click", "tok1", "p1", url="https://example.com/")
    second.record("open", "tok2", "p2")
    first.rotate()
    second.rotate()
    landed = sorted((tmp_path / "tracking").glob("events_*.csv"))
    assert len(landed) == 2  # a file per writer
    assert sorted((r["message_token"], r["event"]) for r in _landed_rows(tmp_path / "tracking")) == [
        ("tok1", "click"),
        ("tok1", "open"),
        ("tok2", "open"),
    ]


def test_a_dead_writers_file_is_still_landed_at_start_up(tmp_path):
    incoming = tmp_path / "tracking" / ".incoming"
    incoming.mkdir(parents=True)
    left = incoming / "4242_deadbeef.csv"  # no process holds it: its writer died
    left.write_text("event_id,occurred_at,event,message_token,person_id,url,user_agent\n"
                    "e1,2026-01-01T00:00:00.000000Z,open,tok,p,,\n")  # fmt: skip
    EventWriter(tmp_path)
    assert not left.exists()
    assert [r["event_id"] for r in _landed_rows(tmp_path / "tracking")] == ["e1"]


def test_two_endpoints_on_one_landing_folder_both_answer_and_land_every_event(tmp_path):
    landing = tmp_path / "landing"
    first_app = create_app(landing, SECRET, rotate_seconds=60)
    with serving(first_app) as first:
        assert _get(open_url(first, SECRET, "tok1", "p1"))[0] == 200
        with serving(create_app(landing, SECRET, rotate_seconds=60)) as second:
            assert _get(open_url(first, SECRET, "tok2", "p1"))[0] == 200
            assert _get(open_url(second, SECRET, "tok3", "p2"))[0] == 200
            first_app.state.writer.rotate()  # what the first endpoint does every few seconds
            assert _get(open_url(first, SECRET, "tok4", "p1"))[0] == 200
    tokens = sorted(r["message_token"] for r in _landed_rows(landing / "tracking"))
    assert tokens == ["tok1", "tok2", "tok3", "tok4"]
    assert not list((landing / "tracking" / ".incoming").glob("*.csv"))
