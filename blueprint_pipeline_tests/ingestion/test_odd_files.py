"""Files that are not what they seem: each is skipped with a reason or loaded right, never half-loaded,
on both warehouses. Every row of every file is accounted for: raw + quarantine = data records."""

from __future__ import annotations

import codecs
import os
from datetime import datetime
from pathlib import Path

import pytest

from blueprint_pipeline.core.paths import SQL_PROJECT_DIR
from blueprint_pipeline.ingestion import raw_load
from blueprint_pipeline.ingestion.raw_load import ingest_object
from blueprint_pipeline.sql_models.project import load_project

AS_OF = datetime(2026, 3, 1)
ACCOUNT = load_project(SQL_PROJECT_DIR).sources[("salesforce", "Account")]
GOOD = "Id,Name\n001000000000001AAA,Acme\n001000000000002AAA,Globex\n"


def land(root: Path, files: dict[str, bytes | str]) -> Path:
    folder = root / "salesforce"
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        (folder / name).write_bytes(content if isinstance(content, bytes) else content.encode())
    return root


def ingest(warehouse, root, extra=None):
    return ingest_object(warehouse, root, ACCOUNT, extra or {}, {}, AS_OF)


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("Account_[1].csv", GOOD, "not supported: rename it"),
        ("Account_blank.csv", "\n" + GOOD, "the first line is empty"),
        ("Account_utf16.csv", codecs.BOM_UTF16_LE + GOOD.encode("utf-16-le"), "UTF-16"),
        ("Account_nul.csv", GOOD.replace("Acme", "Ac\x00me"), "NUL bytes"),
        ("Account_noid.csv", "Name\nAcme\n", "missing required column 'Id'"),
    ],
)
def test_skipped_with_a_reason_and_nothing_loaded(warehouse, tmp_path, name, content, reason):
    report = ingest(warehouse, land(tmp_path, {name: content}))
    [outcome] = report.files
    assert outcome.status == "skipped" and reason in outcome.reason
    assert warehouse.scalar("select count(*) from raw_salesforce__account") == 0
    assert warehouse.scalar("select count(*) from ingested_files") == 0  # not in the ledger: retried next run


def test_mapped_non_csv_file_is_skipped(warehouse, tmp_path):
    report = ingest(
        warehouse, land(tmp_path, {"Accounts.json": '{"records": []}'}), {"accounts.json": "Account"}
    )
    assert [(f.status, f.reason) for f in report.files] == [
        ("skipped", "not a .csv or .csv.gz file (mapped to Account in config?)")
    ]


def test_tab_separated_excel_export_loads(warehouse, tmp_path):
    report = ingest(warehouse, land(tmp_path, {"Account.csv": GOOD.replace(",", "\t")}))
    assert report.rows_ingested == 2 and report.rows_quarantined == 0


def test_renamed_copy_is_not_ingested_twice(warehouse, tmp_path):
    root = land(tmp_path, {"Account.csv": GOOD, "Account_copy.csv": GOOD})
    report = ingest(warehouse, root)
    assert [(f.file, f.status, f.reason) for f in report.files] == [
        ("salesforce/Account.csv", "ingested", ""),
        ("salesforce/Account_copy.csv", "already ingested", "same bytes as salesforce/Account.csv"),
    ]
    assert warehouse.scalar("select count(*) from raw_salesforce__account") == 2


def _aged(path: Path, seconds: int = 60) -> None:
    """The file's modification time `seconds` ago: settled, as a landed file is by its next run."""
    past = path.stat().st_mtime_ns - seconds * 10**9
    os.utime(path, ns=(past, past))


def _counting_reads(monkeypatch) -> list[str]:
    read: list[str] = []
    real = raw_load.fingerprint
    monkeypatch.setattr(raw_load, "fingerprint", lambda p: read.append(p.name) or real(p))
    return read


def test_unchanged_file_is_not_read_again(warehouse, tmp_path, monkeypatch):
    root = land(tmp_path, {"Account.csv": GOOD})
    path = root / "salesforce" / "Account.csv"
    _aged(path)
    read = _counting_reads(monkeypatch)
    assert [f.status for f in ingest(warehouse, root).files] == ["ingested"]
    assert read == ["Account.csv"]
    # Same name, size and modification time: known as loaded without a read.
    assert [(f.status, f.reason) for f in ingest(warehouse, root).files] == [("already ingested", "")]
    assert read == ["Account.csv"]
    # Touched (to a settled time): read again, the same bytes, its new time remembered.
    _aged(path, 30)
    assert [f.status for f in ingest(warehouse, root).files] == ["already ingested"]
    assert [f.status for f in ingest(warehouse, root).files] == ["already ingested"]
    assert read == ["Account.csv", "Account.csv"]
    # Changed in place, same size, a new time: read, and loaded as a new batch.
    path.write_text(GOOD.replace("Acme", "Acmf"))
    _aged(path, 10)
    assert [f.status for f in ingest(warehouse, root).files] == ["ingested"]
    assert warehouse.scalar("select count(*) from raw_salesforce__account") == 4  # two batches of two
    # Each batch keeps the size and time its own bytes had.
    assert warehouse.scalar("select count(distinct file_mtime_ns) from ingested_files") == 2


def test_file_still_growing_or_just_written_is_read_again(warehouse, tmp_path, monkeypatch):
    root = land(tmp_path, {"Account.csv": GOOD})
    path = root / "salesforce" / "Account.csv"
    _aged(path)
    real = raw_load._ingest_rows

    def copy_goes_on(*args, **kwargs):  # the rest of the file arrives while the first rows load
        loaded = real(*args, **kwargs)
        with path.open("a") as handle:
            handle.write("001000000000003AAA,Initech\n")
        _aged(path, 30)
        return loaded

    monkeypatch.setattr(raw_load, "_ingest_rows", copy_goes_on)
    assert [f.rows for f in ingest(warehouse, root).files] == [2]
    monkeypatch.setattr(raw_load, "_ingest_rows", real)
    # Its size and time were not remembered: read again, the whole file loads as a new batch.
    assert [(f.status, f.rows) for f in ingest(warehouse, root).files] == [("ingested", 3)]
    # A file written just now is not remembered either (its time may not be its last).
    path.write_text(GOOD)
    read = _counting_reads(monkeypatch)
    ingest(warehouse, root)
    ingest(warehouse, root)
    assert read == ["Account.csv", "Account.csv"]


def test_files_loaded_before_the_ledger_knew_times_are_read_once_more(warehouse, tmp_path, monkeypatch):
    root = land(tmp_path, {"Account.csv": GOOD})
    _aged(root / "salesforce" / "Account.csv")
    ingest(warehouse, root)
    warehouse.execute("update ingested_files set file_size = null, file_mtime_ns = null")  # as migrated
    read = _counting_reads(monkeypatch)
    assert [f.status for f in ingest(warehouse, root).files] == ["already ingested"]
    assert [f.status for f in ingest(warehouse, root).files] == ["already ingested"]
    assert read == ["Account.csv"]


def test_file_names_accept_patterns(warehouse, tmp_path):
    root = land(tmp_path, {"acct_export_01.csv": GOOD})
    assert ingest(warehouse, root, {"acct_export_*.csv": "Account"}).rows_ingested == 2


def test_every_record_is_accounted_for(warehouse, tmp_path):
    # 6 data records: 2 good, 1 bad number, 1 missing key, 1 line with too many fields, 1 too few.
    content = (
        "Id,Name,NumberOfEmployees\n001000000000001AAA,Acme,5\n001000000000002AAA,Globex,many\n"
        ",NoKey,1\n001000000000003AAA,Extra,1,2,3\n001000000000004AAA\n001000000000005AAA,Last,7\n"
    )
    report = ingest(warehouse, land(tmp_path, {"Account.csv": content}))
    assert (report.rows_ingested, report.rows_quarantined) == (2, 4)
    assert warehouse.scalar("select count(*) from raw_salesforce__account") == 2
    assert warehouse.scalar("select count(*) from quarantine") == 4
    lines = [
        line
        for (line,) in warehouse.fetchall("select line from quarantine where line is not null order by 1")
    ]
    assert lines == [5, 6]


def test_record_numbers_follow_the_file_when_read_in_parallel(warehouse, tmp_path):
    # ~12 MB: DuckDB reads it on every core (with the warehouse's insertion order off, a plain
    # copy of it came back in another order: 100k of 100k rows out of place). Each record's
    # `_source_row` must still be its place among the file's records, and a quarantined record's
    # `record_number` too: here a record with a line break inside a quoted name near the start, a
    # bad number in the middle and a missing key near the end.
    count, bad, keyless = 120_000, 60_001, 119_990
    lines = ["Id,Name,NumberOfEmployees,Description"]
    for n in range(1, count + 1):
        key = "" if n == keyless else f"001{n:012d}AAA"
        name = '"Multi\nline"' if n == 3 else f"Account {n}"
        employees = "many" if n == bad else str(n % 977)
        lines.append(f"{key},{name},{employees},{'x' * 60}")
    report = ingest(warehouse, land(tmp_path, {"Account.csv": "\n".join(lines) + "\n"}))
    assert (report.rows_ingested, report.rows_quarantined) == (count - 2, 2)
    misplaced = warehouse.scalar(
        "select count(*) from raw_salesforce__account where cast(substr(id, 4, 12) as bigint) <> _source_row"
    )
    assert misplaced == 0
    assert warehouse.fetchall("select record_number from quarantine order by 1") == [(bad,), (keyless,)]


def test_15_character_ids_become_18(warehouse, tmp_path):
    contact = load_project(SQL_PROJECT_DIR).sources[("salesforce", "Contact")]
    root = land(tmp_path, {"Contact.csv": "Id,AccountId\n003x0000002xLCV,001x0000002xLCV\n"})
    ingest_object(warehouse, root, contact, {}, {}, AS_OF)
    assert warehouse.fetchall("select id, account_id from raw_salesforce__contact") == [
        ("003x0000002xLCVAA2", "001x0000002xLCVAA2")
    ]


def test_windows_1252_excel_file_keeps_its_characters(warehouse, tmp_path):
    # Excel's "CSV" on Windows: curly quotes and the euro sign are bytes 0x93, 0x94 and 0x80.
    content = "Id,Name\n001000000000001AAA,\u201cCaf\u00e9\u201d \u20ac\n".encode("cp1252")
    report = ingest(warehouse, land(tmp_path, {"Account.csv": content}))
    assert report.rows_ingested == 1
    assert warehouse.scalar("select name from raw_salesforce__account") == "\u201cCaf\u00e9\u201d \u20ac"
