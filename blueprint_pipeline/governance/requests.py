"""Forget requests: the addresses of a request file, and the folders a request rewrites
(docs/governance.md#right-to-be-forgotten). Read by the deletion-requests asset and `blueprint forget`."""

from __future__ import annotations

import csv
from pathlib import Path

from blueprint_pipeline.core.paths import SQL_PROJECT_DIR
from blueprint_pipeline.governance.forget import Places
from blueprint_pipeline.sql_models.project import load_project


def read_requests(path: Path) -> list[str]:
    """The addresses of a request file: a CSV whose `email` column (any case) holds one per row.
    Blank rows are skipped; a value that is not an address is an error naming its row."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    header = [h.strip().lower() for h in rows[0]] if rows else []
    if "email" not in header:
        raise ValueError("expected a header with an `email` column")
    position = header.index("email")
    addresses = []
    for number, row in enumerate(rows[1:], start=2):
        value = row[position].strip() if len(row) > position else ""
        if not value:
            continue
        if "@" not in value:
            raise ValueError(f"row {number}: field email is not an email address")
        addresses.append(value)
    if not addresses:
        raise ValueError("no email address in the `email` column")
    return addresses


def places(loaded, landing: Path, activation: Path, mailbox: Path | None, reports: Path) -> Places:
    """The files a forget request rewrites: landing (with the source contract, its aliases and the
    config's file names), activation, reports and mailbox; nothing outside them."""
    objects = {
        o.table: (o, loaded.config.sources.aliases_for(o.system, o.name))
        for o in load_project(SQL_PROJECT_DIR).sources.values()
    }
    return Places(
        landing=landing,
        objects=objects,
        activation=activation,
        mailbox=mailbox,
        reports=reports,
        file_names=loaded.config.sources.file_names,
    )
