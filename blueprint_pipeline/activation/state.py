"""What each activation handed out, per as-of, and which activations completed
(docs/activation.md#re-runs-and-kills).

An activation's files are a pure function of committed state and its as-of: its adds, removes
and changed rows are taken against the **baseline**, the latest completed activation of the same
list with an as-of strictly before this run's, never against what this run, or an interrupted run
at the same as-of, recorded. So a plain re-run at the same as-of, or a run after a kill at any step,
writes the same bytes as one uninterrupted build.

Each run records what it hands out under its as-of (deleting what an earlier attempt at that as-of
recorded), writes its files, and only then marks the activation completed, in the same transaction.
Rows older than the baseline are pruned once a run completes: a later run needs this run's rows, a
re-run of this as-of needs the baseline's. The journeys' CRM field updates written out are the
exception: kept for good, an update counts as written by its own row (those rows commit only with
`complete()`), never through the pruned `activation_completed`.

Activations move forward, like the histories (errors.check_not_before): a run dated before the
latest completed activation of a list is refused. Its baseline may be pruned, and what it wrote
would set a destination back (a CRM field to a value a later write-back replaced).
"""

from __future__ import annotations

from datetime import datetime

import pandas as pd

from blueprint_pipeline.core.errors import check_not_before
from blueprint_pipeline.warehouse import Session
from blueprint_pipeline.warehouse.stateful import create

MEMBERS = "activation_members"  # destination, list_name, key, activated_at (the as-of)
COMPLETED = "activation_completed"  # destination, list_name, activated_at
CRM = ("crm", "write-back")  # the CRM write-back's destination and "list" in COMPLETED


def create_state(session: Session) -> None:
    create(session, MEMBERS, COMPLETED)


def _at(as_of) -> datetime:
    return pd.Timestamp(as_of).to_pydatetime()


def baseline(session: Session, destination: str, list_name: str, as_of) -> datetime | None:
    """The as-of of the latest completed activation of the list strictly before `as_of`."""
    found = session.scalar(
        f"select max(activated_at) from {COMPLETED} where destination = $d and list_name = $n "
        "and activated_at < $t",
        {"d": destination, "n": list_name, "t": _at(as_of)},
    )
    return None if found is None or pd.isna(found) else pd.Timestamp(found).to_pydatetime()


def check_moves_forward(session: Session, destination: str, list_names: list[str], as_of) -> None:
    """Raises AsOfError when `as_of` is before the latest completed activation of any of the lists
    (the same as-of may be re-run: it writes the same files)."""
    latest = dict(
        session.fetchall(
            f"select list_name, max(activated_at) from {COMPLETED} where destination = $d group by list_name",
            {"d": destination},
        )
    )
    for name in list_names:
        found = latest.get(name)
        check_not_before(
            _at(as_of),
            None if found is None or pd.isna(found) else pd.Timestamp(found).to_pydatetime(),
            f"the completed activations of {destination} {name} (activation_completed)",
        )


def previous(session: Session, destination: str, list_name: str, as_of) -> set[str]:
    """The keys the baseline handed out (empty when there is none)."""
    since = baseline(session, destination, list_name, as_of)
    if since is None:
        return set()
    rows = session.fetchall(
        f"select key from {MEMBERS} where destination = $d and list_name = $n and activated_at = $t",
        {"d": destination, "n": list_name, "t": since},
    )
    return {k for (k,) in rows}


def remember(session: Session, destination: str, list_name: str, keys: pd.Series, as_of) -> None:
    """The keys handed out at `as_of` (replacing what an earlier attempt at that as-of recorded)."""
    where = {"d": destination, "n": list_name, "t": _at(as_of)}
    session.execute(
        f"delete from {MEMBERS} where destination = $d and list_name = $n and activated_at = $t", where
    )
    frame = pd.DataFrame({"destination": destination, "list_name": list_name, "key": keys.astype("string")})
    frame["activated_at"] = pd.Timestamp(_at(as_of))
    if len(frame):
        session.insert_from_local_query(MEMBERS, list(frame.columns), "select * from f", frames={"f": frame})


def complete(session: Session, destination: str, list_name: str, as_of, pruned: tuple[str, ...] = ()) -> None:
    """Marks the activation at `as_of` completed (call it after its files are in place) and prunes
    what no run needs any more: rows of MEMBERS (and of the `pruned` tables, which have an
    `activated_at` column and hold this destination alone) older than this run's baseline."""
    where = {"d": destination, "n": list_name, "t": _at(as_of)}
    since = baseline(session, destination, list_name, as_of)
    session.execute(
        f"delete from {COMPLETED} where destination = $d and list_name = $n and activated_at = $t", where
    )
    session.execute(f"insert into {COMPLETED} values ($d, $n, $t)", where)
    if since is None:
        return
    old = {"d": destination, "n": list_name, "t": since}
    session.execute(
        f"delete from {MEMBERS} where destination = $d and list_name = $n and activated_at < $t", old
    )
    session.execute(
        f"delete from {COMPLETED} where destination = $d and list_name = $n and activated_at < $t", old
    )
    for table in pruned:
        session.execute(f"delete from {table} where activated_at < $t", {"t": since})
