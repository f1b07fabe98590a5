"""`activation_members`: each list as last handed to its destination. The next build's adds and
removes are against it; the checks read it (defs/activation/checks.py)."""

from __future__ import annotations

import pandas as pd

from blueprint_pipeline.warehouse import Session

MEMBERS = "activation_members"


def create_members(session: Session) -> None:
    session.execute(
        f"create table if not exists {MEMBERS} (destination varchar, list_name varchar, key varchar, "
        "activated_at timestamp)"
    )


def previous(session: Session, destination: str, list_name: str) -> set[str]:
    where = {"d": destination, "n": list_name}
    return {
        k
        for (k,) in session.fetchall(
            f"select key from {MEMBERS} where destination = $d and list_name = $n", where
        )
    }


def remember(session: Session, destination: str, list_name: str, keys: pd.Series, as_of) -> None:
    where = {"d": destination, "n": list_name}
    session.execute(f"delete from {MEMBERS} where destination = $d and list_name = $n", where)
    frame = pd.DataFrame({"destination": destination, "list_name": list_name, "key": keys.astype("string")})
    frame["activated_at"] = pd.Timestamp(as_of)
    if len(frame):
        session.insert_from_local_query(MEMBERS, list(frame.columns), "select * from f", frames={"f": frame})
