"""The right to be forgotten, end to end on DuckDB and PostgreSQL.

A tiny generated sample is built (with the example journey, so mail is sent and lists are
handed out). Person A is forgotten with `blueprint forget` (address typed in another case, with
spaces); person B by a request file in landing/deletion_requests/. A's contact row comes back in
a new extract. After the next build:
- no table holds A's or B's email, person id or Salesforce record id, in any column;
- no landing, activation or mailbox file holds them, the request file is gone;
- the Dagster instance's storage (event log, run and compute-log files) never held them;
- the append-only logs kept their row counts; the audit holds hashes only;
- the re-landed row was dropped at ingestion (0 rows loaded from that file).
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest

from blueprint_pipeline.identity.matching import records
from blueprint_pipeline.resources import load_config
from blueprint_pipeline_tests.builds import build_env, cli
from blueprint_pipeline_tests.tiny_sample import AS_OF, CONFIG


def _texts_holding(warehouse, needles: list[str]) -> list[str]:
    """`table.column` of every column (as text, lower-cased) that contains one of `needles`."""
    found = []
    with warehouse.session() as session:
        for table in session.list_tables():
            for column, _ in session.columns(table):
                for needle in needles:
                    hit = session.scalar(
                        f'select count(*) from "{table}" where strpos(lower(cast("{column}" as varchar)), $n) > 0',
                        {"n": needle},
                    )
                    if hit:
                        found.append(f"{table}.{column} ({needle})")
    return found


def _files_holding(root: Path, needles: list[str]) -> list[str]:
    return [
        str(p)
        for p in sorted(root.rglob("*"))
        if p.is_file() and any(n.encode() in p.read_bytes().lower() for n in needles)
    ]


def test_a_forgotten_person_is_gone_everywhere(warehouse, tmp_path, landing, uninterrupted_copy):
    """From the tiny sample built as of 2026-11-25 (tiny_sample.py): on DuckDB a copy of the
    session's build, on PostgreSQL a build of its own; the landing files copied, as they change."""
    landing, folder = shutil.copytree(landing, tmp_path / "landing"), tmp_path / "build"
    activation, mailbox, dagster = folder / "activation", folder / "mailbox", folder / "dagster"
    if warehouse.dialect == "duckdb":
        warehouse = uninterrupted_copy(folder)
    env = build_env(folder, warehouse)
    url = getattr(warehouse, "url", None) or f"duckdb:///{warehouse.path}"
    build = ("run", "--landing", str(landing), "--warehouse", url, "--config", CONFIG)
    if warehouse.dialect != "duckdb":
        cli(*build, "--as-of", AS_OF, env=env)

    with warehouse.session() as session:
        # A: mailed by the journey and in a LinkedIn list; B: any other listed person.
        a_id, a_email = session.fetchall(
            "select o.person_id, o.to_address from journey_outbox as o inner join activation_members as m "
            "on m.key = o.person_id where o.status = 'sent' order by o.person_id limit 1"
        )[0]
        b_id, b_email = session.fetchall(
            "select p.person_id, p.email from unified_persons as p inner join activation_members as m "
            "on m.key = p.person_id where p.person_id <> $a and p.email is not null order by p.person_id limit 1",
            {"a": a_id},
        )[0]
        record_ids = [
            k.split("@")[0].lower()
            for (k,) in session.fetchall(
                "select source_key from person_registry where person_id in ($a, $b) "
                "and source_key like '%@prod.Salesforce'",
                {"a": a_id, "b": b_id},
            )
        ]
        logs = {
            t: session.row_count(t)
            for t in ("journey_outbox", "journey_step_log", "buying_group_member_events")
        }
    needles = [a_email.lower(), b_email.lower(), a_id.lower(), b_id.lower(), *record_ids]
    contact_rows = (landing / "salesforce" / "Contact.csv").read_text().splitlines()
    a_contact = [line for line in contact_rows if a_email.lower() in line.lower()]

    forgotten = cli(
        "forget", "--email", f"  {a_email.upper()} ", "--landing", str(landing), "--warehouse", url,
        "--config", CONFIG, env=env,
    )  # fmt: skip
    assert "1 person(s)" in forgotten.stdout and a_email.lower() not in forgotten.stdout.lower()
    with warehouse.session() as session:
        assert {t: session.row_count(t) for t in logs} == logs  # the logs keep their rows, redacted
    (landing / "deletion_requests").mkdir()
    (landing / "deletion_requests" / "requests.csv").write_text(f"Email\n{b_email}\n")
    if a_contact:  # A comes back in a new extract: dropped at ingestion
        (landing / "salesforce" / "Contact_2.csv").write_text(contact_rows[0] + "\n" + a_contact[0] + "\n")
    second = cli(*build, "--as-of", "2026-11-26T00:00:00", env=env)
    assert "forgotten: 1 person request(s) from 1 file(s)" in second.stdout

    held = _texts_holding(warehouse, needles)
    assert held == [], "\n".join(held)
    for place in (landing, activation, mailbox, dagster):
        assert _files_holding(place, needles) == [], place
    assert not (landing / "deletion_requests" / "requests.csv").exists()
    for manifest in activation.rglob("manifest.json"):  # counts follow the rewritten files
        described = json.loads(manifest.read_text())
        full = [p for p in manifest.parent.glob("full-*.csv")]
        if full and "records" in described:
            assert described["records"] == sum(len(p.read_text().splitlines()) - 1 for p in full), manifest
    with warehouse.session() as session:
        audit = sorted(session.fetchall("select request_hash, origin, persons from forget_requests"))
        assert audit == sorted([
            (hashlib.sha256(a_email.strip().lower().encode()).hexdigest(), "blueprint forget", 1),
            (hashlib.sha256(b_email.strip().lower().encode()).hexdigest(), "file requests.csv", 1),
        ])  # fmt: skip
        if a_contact:
            assert session.fetchall(
                "select rows_loaded from ingested_files where file like '%Contact_2.csv'"
            ) == [(0,)]
        # The compared records, which forget drops whole (DROPPED_BY_FORGET), built whole again.
        cap = load_config(CONFIG).config.identity.person_matching.max_block_records
        whole = records.select_sql(*records.SOURCES, cap, records.guards_hash(session))
        assert (
            session.fetchall(f"select * from {records.RECORDS} except all select * from ({whole}) as w") == []
        )
        assert (
            session.fetchall(f"select * from ({whole}) as w except all select * from {records.RECORDS}") == []
        )


def test_only_the_persons_rows_go_even_with_blank_ids(warehouse, tmp_path):
    """Raw extracts hold '' for empty cells. A Marketo-only person (no Salesforce ids) and an
    address nobody has must delete exactly their rows: lead 1 for a@x.com, nothing for the other;
    the campaign members with blank ids stay (a blank list of ids once matched every blank cell)."""
    from datetime import datetime

    import pandas as pd

    from blueprint_pipeline.governance.forget import Places, forget

    tables = {
        "raw_marketo__leads": pd.DataFrame({"id": ["1", "2"], "email": ["A@x.com ", "b@x.com"],
                                            "sfdc_contact_id": ["", ""], "sfdc_lead_id": ["", ""]}),
        "raw_salesforce__campaign_member": pd.DataFrame({"id": ["c1", "c2"], "contact_id": ["", ""],
                                                         "lead_id": ["", "00Q000000000001AAA"]}),
        "raw_marketo__activities": pd.DataFrame({"marketo_guid": ["g1", "g2"], "lead_id": ["1", "2"]}),
    }  # fmt: skip
    with warehouse.transaction() as session:
        for name, frame in tables.items():
            session.replace_table(name, frame.assign(_source_file=f"{name}.csv"))
    at = datetime(2026, 11, 26)
    [nobody] = forget(warehouse, ["nobody@nowhere.example"], origin="test", at=at, places=Places())
    assert (nobody.persons, nobody.deleted, nobody.redacted) == (0, {}, {})
    [a] = forget(warehouse, [" a@X.com"], origin="test", at=at, places=Places())
    assert a.deleted == {"raw_marketo__leads": 1, "raw_marketo__activities": 1}
    with warehouse.session() as session:
        assert session.fetchall("select id from raw_marketo__leads") == [("2",)]
        assert session.row_count("raw_salesforce__campaign_member") == 2
        assert session.fetchall("select marketo_guid from raw_marketo__activities") == [("g2",)]


def test_request_files_and_arguments_are_checked(tmp_path):
    from blueprint_pipeline.governance.requests import read_requests
    from blueprint_pipeline.runtime.cli import main

    requests = tmp_path / "requests.csv"
    requests.write_text("Name,EMAIL\nAnn, ann@x.com \n,\nBob,bob\n")
    with pytest.raises(ValueError, match="row 4: field email is not an email address"):
        read_requests(requests)
    requests.write_text("Name,Email\nAnn, ann@x.com \n,\n")
    assert read_requests(requests) == ["ann@x.com"]
    requests.write_text("name\nAnn\n")
    with pytest.raises(ValueError, match="`email` column"):
        read_requests(requests)
    assert main(["forget"]) == 2
    assert main(["forget", "--email", "bob"]) == 2
