"""Tracking events as landing files (`<landing>/tracking/events_*.csv`), which the pipeline loads
like any export: the endpoint appends each event to an open file under `tracking/.incoming/` and
moves it into `tracking/` once it is a few seconds old, at shutdown, and at start-up for a file a
crashed process left. A landed file never changes again, so the file ledger loads it once.

Several endpoints may share a landing folder: each process writes a file of its own and holds an
exclusive lock (flock) on it while it is open, so a process starting up lands only the files whose
writer is gone (the kernel drops a dead process's lock), never one another endpoint still writes."""

from __future__ import annotations

import csv
import fcntl
import os
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

COLUMNS = ["event_id", "occurred_at", "event", "message_token", "person_id", "url", "user_agent"]
EVENTS = ("open", "click", "unsubscribe", "bounce")


class EventWriter:
    def __init__(self, landing: Path, rotate_seconds: float = 5.0):
        self.folder = Path(landing) / "tracking"
        self.incoming = self.folder / ".incoming"
        self.incoming.mkdir(parents=True, exist_ok=True)
        self.rotate_seconds = rotate_seconds
        self._lock = threading.Lock()
        self._handle = None
        self._path: Path | None = None
        self._opened = 0.0
        self.recover()

    def record(self, event: str, token: str, person_id: str, url: str = "", user_agent: str = "") -> str:
        if event not in EVENTS:
            raise ValueError(f"unknown tracking event {event!r}")
        event_id = uuid.uuid4().hex
        at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        with self._lock:
            if self._handle is None:
                self._path = self.incoming / f"{os.getpid()}_{uuid.uuid4().hex[:8]}.csv"
                self._handle = self._path.open("w", newline="", encoding="utf-8")
                # Locked before the header is written: another process's recover() lands only
                # files that have a header and no lock.
                fcntl.flock(self._handle, fcntl.LOCK_EX)
                csv.writer(self._handle).writerow(COLUMNS)
                self._opened = time.monotonic()
            csv.writer(self._handle).writerow([event_id, at, event, token, person_id, url, user_agent[:300]])
            self._handle.flush()
            os.fsync(self._handle.fileno())
        self.rotate_if_due()
        return event_id

    def rotate_if_due(self) -> None:
        if self._handle is not None and time.monotonic() - self._opened >= self.rotate_seconds:
            self.rotate()

    def rotate(self) -> None:
        """Moves the open file into the landing folder, where the pipeline picks it up."""
        with self._lock:
            if self._handle is None:
                return
            # Moved while still locked, then closed: no other process can land it in between.
            self._land(self._path)
            self._handle.close()
            self._handle = None

    def recover(self) -> None:
        """Lands the files that writers which are gone left behind: a file another live endpoint
        holds locked is its own, and stays where it is."""
        for path in sorted(self.incoming.glob("*.csv")):
            if path == self._path:
                continue
            try:
                handle = path.open("rb")
            except FileNotFoundError:  # another endpoint starting up landed it first
                continue
            with handle:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:  # a live writer's open file
                    continue
                # Empty: a writer between creating its file and locking it; leave it to that writer.
                if os.fstat(handle.fileno()).st_size > 0 and path.exists():
                    self._land(path)

    def _land(self, path: Path) -> None:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
        os.replace(path, self.folder / f"events_{stamp}_{path.stem}.csv")
