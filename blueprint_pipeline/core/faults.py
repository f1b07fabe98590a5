"""Fault injection for the fault suite (docs/reliability.md).

With BLUEPRINT_FAULT=<point> the process kills itself with SIGKILL when it reaches that point, as
`kill -9` from outside would at the worst moment: no handler runs, no transaction commits. Unset
(always, outside the suite), `crash_point` does nothing. The points:

- `ingest`: a file's rows are in the raw table and the quarantine, its transaction not committed;
- `model`: a SQL model's new table is built, not yet swapped in;
- `deliver`: a message is handed to the mail server, not yet marked sent;
- `journeys`: the journey run's state, outbox and CRM field updates written, not committed;
- `activation_files`: an activation's new folder written beside its place, not yet swapped in;
- `linkedin_audiences`, `marketo_static_lists`, `crm_writeback` (in the asset
  `crm_buying_group_writeback`): the asset's files in place, the state it records (members,
  hashes, field updates sent, completed) not committed.
"""

from __future__ import annotations

import os
import signal

FAULT_ENV = "BLUEPRINT_FAULT"
POINTS = (
    "ingest",
    "model",
    "deliver",
    "journeys",
    "activation_files",
    "linkedin_audiences",
    "marketo_static_lists",
    "crm_writeback",
)


def crash_point(point: str) -> None:
    if os.environ.get(FAULT_ENV) == point:
        os.kill(os.getpid(), signal.SIGKILL)
