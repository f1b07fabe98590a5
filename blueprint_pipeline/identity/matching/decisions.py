"""Reviewers' answers to the person review queue: a CSV in the config directory
(`identity.person_matching.decisions_file`), mirroring the account-link decisions file:

    source_key,other_key,decision,decided_by,decided_at,note
    00Q000000000A01AAA@prod.Salesforce,100@prod.Marketo,same,maria@example.com,2026-03-02,

`same` joins the two records into one person, `different` keeps them apart, whatever the model
says. A pair is unordered (a,b is b,a); the last line for a pair wins, so the file can be a log.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from blueprint_pipeline.config import LoadedConfig
from blueprint_pipeline.config.files import check_choice, check_dates, read_user_csv
from blueprint_pipeline.core.errors import ConfigError

DECISION_COLUMNS = ["source_key", "other_key", "decision", "decided_by", "decided_at", "note"]


@dataclass(frozen=True)
class PersonDecisions:
    frame: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=DECISION_COLUMNS))
    path: str = ""


def read_person_decisions(path: Path | None) -> PersonDecisions:
    """The file, checked (a bad row is an error naming the file, row and field), each pair with
    its smaller key first, one row per pair (the last)."""
    if path is None or not path.exists():
        return PersonDecisions()
    frame = read_user_csv(
        path, DECISION_COLUMNS, required=("source_key", "other_key", "decision", "decided_by")
    )
    frame = check_choice(path, frame, "decision", ("same", "different"))
    check_dates(path, frame, "decided_at")
    itself = frame[frame["source_key"] == frame["other_key"]]
    if len(itself):
        row = int(itself["row_in_file"].iloc[0])
        raise ConfigError(
            f"{path} row {row}: field other_key is the source_key itself; a pair is two records"
        )
    a, b = frame["source_key"], frame["other_key"]
    swap = a > b
    frame = frame.assign(source_key=a.where(~swap, b), other_key=b.where(~swap, a))
    return PersonDecisions(
        frame.drop_duplicates(["source_key", "other_key"], keep="last")[DECISION_COLUMNS].reset_index(
            drop=True
        ),
        str(path),
    )


def person_decisions_for(loaded: LoadedConfig) -> PersonDecisions:
    """The decisions file the config names (`blueprint run` and `validate-config` read it first)."""
    return read_person_decisions(loaded.user_file(loaded.config.identity.person_matching.decisions_file))
