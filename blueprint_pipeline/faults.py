"""Fault injection for the fault suite (docs/reliability.md).

With BLUEPRINT_FAULT=<point> the process kills itself with SIGKILL when it reaches that point, as
`kill -9` from outside would at the worst moment: no handler runs, no transaction commits. Unset
(always, outside the suite), `crash_point` does nothing. The points:

- `ingest`: a file's rows are in the raw table and the quarantine, its transaction not committed;
- `model`: a SQL model's new table is built, not yet swapped in;
- `deliver`: a message is handed to the mail server, not yet marked sent.
"""

from __future__ import annotations

import os
import signal

FAULT_ENV = "BLUEPRINT_FAULT"
POINTS = ("ingest", "model", "deliver")


def crash_point(point: str) -> None:
    if os.environ.get(FAULT_ENV) == point:
        os.kill(os.getpid(), signal.SIGKILL)
