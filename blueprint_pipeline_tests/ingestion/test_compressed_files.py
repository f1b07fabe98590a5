"""Landing files that arrive gzip-compressed (`Contact.csv.gz`), on both warehouses.

The rule (docs/sources.md): a compressed file is the CSV it holds. It loads the same rows and
quarantines the same lines as the plain file; the ledger's checksum is the CSV's, so the same rows
compressed or not load once; a damaged or half-copied file is skipped and retried; a file rewritten
without a forgotten person's rows stays compressed and is not loaded again.
"""

from __future__ import annotations

import gzip
import io
import struct
import zlib
from datetime import datetime
from pathlib import Path

import pytest

from blueprint_pipeline.core.paths import SQL_PROJECT_DIR
from blueprint_pipeline.defs.sources.sensors import is_fast, landing_state
from blueprint_pipeline.governance.forget import Places, forget
from blueprint_pipeline.ingestion.raw_load import ingest_object
from blueprint_pipeline.sql_models.project import load_project
from blueprint_pipeline_tests.conftest import FIXTURES

AS_OF = datetime(2026, 3, 1)
REAL = FIXTURES / "real"
SOURCES = load_project(SQL_PROJECT_DIR).sources
ACCOUNT, CONTACT = SOURCES[("salesforce", "Account")], SOURCES[("salesforce", "Contact")]
# A byte-order mark, a quoted value with a newline and a comma, a bad number (quarantined by
# validation) and a line with too many fields (rejected by the reader): 3 good rows, 2 quarantined.
AWKWARD = (
    '\ufeffId,Name,NumberOfEmployees\r\n001000000000001AAA,"Acme, Inc.\nHQ",5\r\n'
    "001000000000002AAA,Globex,many\r\n001000000000003AAA,Initech,1,2\r\n"
    "001000000000004AAA,Umbrella,7\r\n001000000000005AAA,\u00c9toile,\r\n"
)
RAW = "select id, name, number_of_employees, _source_row from raw_salesforce__account order by id"
QUARANTINED = "select line, record_number, record_key, reason from quarantine order by 1, 2"


def land(root: Path, name: str, content: bytes, system: str = "salesforce") -> Path:
    (root / system).mkdir(parents=True, exist_ok=True)
    path = root / system / name
    path.write_bytes(content)
    return path


def test_a_compressed_file_loads_what_the_plain_file_loads(warehouse, tmp_path):
    plain, packed = tmp_path / "plain", tmp_path / "packed"
    land(plain, "Account.csv", AWKWARD.encode())
    land(packed, "Account.csv.gz", gzip.compress(AWKWARD.encode()))
    outcomes = {}
    for root in (plain, packed):
        report = ingest_object(warehouse, root, ACCOUNT, {}, {}, AS_OF)
        outcomes[root] = (
            [(f.status, f.rows, f.quarantined) for f in report.files],
            warehouse.fetchall(RAW),
            warehouse.fetchall(QUARANTINED),
        )
        with warehouse.transaction() as session:  # the next root starts from empty tables
            for table in ("raw_salesforce__account", "quarantine", "ingested_files"):
                session.execute(f"delete from {table}")
    assert outcomes[plain] == outcomes[packed]
    files, rows, quarantined = outcomes[packed]
    assert files == [("ingested", 3, 2)]
    assert [r[:2] for r in rows] == [
        ("001000000000001AAA", "Acme, Inc.\nHQ"),
        ("001000000000004AAA", "Umbrella"),
        ("001000000000005AAA", "\u00c9toile"),
    ]
    assert len(quarantined) == 2


def test_the_same_rows_compressed_or_not_load_once(warehouse, tmp_path):
    """Compressing a file changes its bytes, not its rows: the ledger compares the CSV inside, and
    two compressions of one file (different gzip headers) are the same file too."""
    land(tmp_path, "Account.csv", AWKWARD.encode())
    land(tmp_path, "Account_1.csv.gz", gzip.compress(AWKWARD.encode(), mtime=1))
    land(tmp_path, "Account_2.csv.gz", gzip.compress(AWKWARD.encode(), compresslevel=1, mtime=2))
    report = ingest_object(warehouse, tmp_path, ACCOUNT, {}, {}, AS_OF)
    assert [(f.file, f.status, f.reason) for f in report.files] == [
        ("salesforce/Account.csv", "ingested", ""),
        ("salesforce/Account_1.csv.gz", "already ingested", "same bytes as salesforce/Account.csv"),
        ("salesforce/Account_2.csv.gz", "already ingested", "same bytes as salesforce/Account.csv"),
    ]
    assert warehouse.scalar("select count(*) from raw_salesforce__account") == 3


def test_concatenated_gzip_members_are_one_file(warehouse, tmp_path):
    """`cat a.gz b.gz > all.gz` (how logs and extracts get appended) is a valid gzip file of both."""
    head, tail = AWKWARD[:120], AWKWARD[120:]
    land(tmp_path, "Account.csv.gz", gzip.compress(head.encode()) + gzip.compress(tail.encode()))
    report = ingest_object(warehouse, tmp_path, ACCOUNT, {}, {}, AS_OF)
    assert (report.rows_ingested, report.rows_quarantined) == (3, 2)


def test_a_windows_1252_file_compressed_keeps_its_characters(warehouse, tmp_path):
    content = "Id,Name\n001000000000001AAA,\u201cCaf\u00e9\u201d \u20ac\n".encode("cp1252")
    land(tmp_path, "Account.csv.gz", gzip.compress(content))
    assert ingest_object(warehouse, tmp_path, ACCOUNT, {}, {}, AS_OF).rows_ingested == 1
    assert warehouse.scalar("select name from raw_salesforce__account") == "\u201cCaf\u00e9\u201d \u20ac"


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"Id,Name\n001000000000001AAA,Acme\n", "named .gz but not gzip-compressed: if it is a plain CSV"),
        (b"\x1f\x8b\x07" + bytes(7) + b"junk", "not a readable gzip file (Unknown compression method"),
        (gzip.compress(AWKWARD.encode())[:40], "not a readable gzip file (Compressed file ended"),
    ],
    ids=["plain-csv", "damaged", "half-copied"],
)
def test_a_damaged_file_is_skipped_and_retried(warehouse, tmp_path, content, reason):
    path = land(tmp_path, "Account.csv.gz", content)
    [outcome] = ingest_object(warehouse, tmp_path, ACCOUNT, {}, {}, AS_OF).files
    assert outcome.status == "skipped" and outcome.reason.startswith(reason), outcome.reason
    assert warehouse.scalar("select count(*) from ingested_files") == 0  # not in the ledger
    path.write_bytes(gzip.compress(AWKWARD.encode()))  # the copy completes: the next run loads it
    [outcome] = ingest_object(warehouse, tmp_path, ACCOUNT, {}, {}, AS_OF).files
    assert (outcome.status, outcome.rows) == ("ingested", 3)


def test_a_0_byte_gz_file_is_a_copy_just_begun_not_an_empty_batch(warehouse, tmp_path):
    land(tmp_path, "Account.csv.gz", b"")
    [outcome] = ingest_object(warehouse, tmp_path, ACCOUNT, {}, {}, AS_OF).files
    assert outcome.status == "skipped" and outcome.reason.startswith("an empty .gz file"), outcome.reason
    assert warehouse.scalar("select count(*) from ingested_files") == 0


def gzip_member(content: bytes, flags: int) -> bytes:
    """One gzip member with header flags Python's gzip module never writes: FTEXT (1), FHCRC (2,
    a header checksum), FCOMMENT (16, a comment)."""
    header = bytearray(b"\x1f\x8b\x08" + bytes([flags]) + b"\0\0\0\0\0\xff")
    if flags & 16:
        header += b"exported by a tool\0"
    if flags & 2:
        header += struct.pack("<H", zlib.crc32(bytes(header)) & 0xFFFF)
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    body = packer.compress(content) + packer.flush()
    return bytes(header) + body + struct.pack("<II", zlib.crc32(content), len(content))


@pytest.mark.parametrize("flags", [1, 2, 16, 1 | 2 | 16])
def test_gzip_headers_duckdb_refuses_are_read_through_a_copy(warehouse, tmp_path, flags):
    """DuckDB's gzip reader refuses these flags ("Unsupported GZIP archive"): such a file is read
    from a decompressed temporary copy, the same rows."""
    land(tmp_path, "Account.csv.gz", gzip_member(AWKWARD.encode(), flags))
    report = ingest_object(warehouse, tmp_path, ACCOUNT, {}, {}, AS_OF)
    assert (report.rows_ingested, report.rows_quarantined, report.errors) == (3, 2, [])


def test_a_compressed_empty_file_is_an_empty_batch_like_a_0_byte_file(warehouse, tmp_path):
    land(tmp_path, "Account.csv.gz", gzip.compress(b""))
    [outcome] = ingest_object(warehouse, tmp_path, ACCOUNT, {}, {}, AS_OF).files
    assert (outcome.status, outcome.rows, outcome.reason) == ("ingested", 0, "")


def test_patterns_match_the_uncompressed_name(warehouse, tmp_path):
    """`Account_*.csv` takes `Account_2026-11.csv.gz`; a config pattern or exact name written for the
    plain file (`acct_*.csv`) takes its compressed form; `.json.gz` mapped by config is refused."""
    land(tmp_path, "Account_2026-11.csv.gz", gzip.compress(b"Id,Name\n001000000000001AAA,Acme\n"))
    land(tmp_path, "acct_7.csv.GZ", gzip.compress(b"Id,Name\n001000000000002AAA,Globex\n"))
    land(tmp_path, "Accounts.json.gz", gzip.compress(b"{}"))
    extra = {"acct_*.csv": "Account", "accounts.json.gz": "Account"}
    report = ingest_object(warehouse, tmp_path, ACCOUNT, extra, {}, AS_OF)
    assert [(f.file, f.status, f.rows, f.reason) for f in report.files] == [
        ("salesforce/Account_2026-11.csv.gz", "ingested", 1, ""),
        (
            "salesforce/Accounts.json.gz",
            "skipped",
            0,
            "not a .csv or .csv.gz file (mapped to Account in config?)",
        ),
        ("salesforce/acct_7.csv.GZ", "ingested", 1, ""),
    ]


def test_a_forgotten_persons_rows_leave_a_compressed_file_which_stays_compressed(warehouse, tmp_path):
    """An extract arriving after `forget`: the person's row is dropped, the file rewritten without it,
    still gzip (readable by any gzip tool), and known to the ledger in its new form."""
    forget(warehouse, ["gone@example.com"], origin="test", at=AS_OF, places=Places())
    rows = "Id,Email,LastName\n003000000000001AAA,kept@example.com,Kept\n003000000000002AAA,GONE@example.com,Gone\n"
    path = land(tmp_path, "Contact.csv.gz", gzip.compress(rows.encode()))
    [outcome] = ingest_object(warehouse, tmp_path, CONTACT, {}, {}, AS_OF).files
    assert (outcome.status, outcome.rows, outcome.forgotten) == ("ingested", 1, 1)
    assert gzip.decompress(path.read_bytes()).decode() == rows.split("003000000000002AAA")[0]
    [again] = ingest_object(warehouse, tmp_path, CONTACT, {}, {}, AS_OF).files
    assert again.status == "already ingested"
    assert warehouse.fetchall("select email from raw_salesforce__contact") == [("kept@example.com",)]


def test_the_sensors_see_compressed_files(tmp_path):
    land(tmp_path, "Account.csv.gz", b"")
    land(tmp_path, "notes.txt.gz", b"")
    land(tmp_path, "activities_0007.csv.gz", b"", system="marketo")
    assert sorted(landing_state(tmp_path)) == ["marketo/activities_0007.csv.gz", "salesforce/Account.csv.gz"]
    assert is_fast("marketo/activities_0007.csv.gz") and not is_fast("salesforce/Account.csv.gz")


ROWS = (
    "Id,Email,LastName\n003000000000001AAA,kept@example.com,Kept\n003000000000002AAA,gone@example.com,Gone\n"
)
KEPT = ROWS.split("003000000000002AAA")[0]  # the header and the first contact


def forget_gone_then_rerun(warehouse, root: Path, packed: Path) -> None:
    """`forget gone@example.com` over the landing folder: the .gz loses that row and stays gzip,
    and the next run loads nothing again."""
    places = Places(landing=root, objects={CONTACT.table: (CONTACT, {})})
    forget(warehouse, ["gone@example.com"], origin="test", at=AS_OF, places=places)
    assert gzip.decompress(packed.read_bytes()).decode() == KEPT
    [again] = ingest_object(warehouse, root, CONTACT, {}, {}, AS_OF).files
    assert again.status == "already ingested"
    assert warehouse.fetchall("select email from raw_salesforce__contact") == [("kept@example.com",)]


def test_forget_rewrites_a_loaded_compressed_file_compressed(warehouse, tmp_path):
    """`forget` after the file was loaded: the landing file is rewritten without the person's row,
    still gzip, and the ledger knows its new rows, so the next run does not load it again."""
    packed = land(tmp_path, "Contact.csv.gz", gzip.compress(ROWS.encode()))
    assert ingest_object(warehouse, tmp_path, CONTACT, {}, {}, AS_OF).rows_ingested == 2
    forget_gone_then_rerun(warehouse, tmp_path, packed)


def test_forget_rewrites_a_compressed_copy_known_by_another_name(warehouse, tmp_path):
    """`Contact.csv` loaded, then replaced by `Contact.csv.gz` with the same rows ("already
    ingested": no ledger row of its own). `forget` rewrites the .gz; the ledger row of those bytes
    (under the plain name) learns the new checksum, so the .gz is not loaded again."""
    plain = land(tmp_path, "Contact.csv", ROWS.encode())
    assert ingest_object(warehouse, tmp_path, CONTACT, {}, {}, AS_OF).rows_ingested == 2
    plain.unlink()
    packed = land(tmp_path, "Contact.csv.gz", gzip.compress(ROWS.encode()))
    assert [f.status for f in ingest_object(warehouse, tmp_path, CONTACT, {}, {}, AS_OF).files] == [
        "already ingested"
    ]
    forget_gone_then_rerun(warehouse, tmp_path, packed)


@pytest.mark.parametrize(
    ("system", "name", "obj"),
    [
        ("salesforce", "accountData.csv", ("salesforce", "Account")),  # Latin-1, Data Loader headers
        ("marketo", "marketo_activity_merge_leads_data.csv", ("marketo", "activities")),  # BOM, Fivetran
        ("marketo", "activities_bulk_example.csv", ("marketo", "activities")),  # JSON attributes
    ],
)
def test_real_exports_compressed_load_what_they_load_plain(warehouse, tmp_path, system, name, obj):
    """Public exports nobody here wrote (fixtures/real, provenance in its README), gzip-compressed
    by the gzip tool's format (a file name in the header): the same raw rows as the plain file."""
    source, aliases = SOURCES[obj], {"marketoGUID": ["id"]} if system == "marketo" else {}
    original = (REAL / system / name).read_bytes()
    loaded = []
    for root, file_name, content in (
        (tmp_path / "plain", name, original),
        (tmp_path / "packed", name + ".gz", gzip_with_name(original, name)),
    ):
        land(root, file_name, content, system=system)
        report = ingest_object(warehouse, root, source, {file_name: obj[1]}, aliases, AS_OF)
        assert report.errors == [] and report.rows_ingested > 0, report.errors
        with warehouse.session() as session:
            kept = [c for c, _ in session.columns(source.table) if c != "_source_file"]
            loaded.append(
                session.fetchall(
                    f"select {', '.join(kept)} from {source.table} order by _source_batch, _source_row"
                )
            )
            session.execute(f"delete from {source.table}")
            session.execute("delete from ingested_files")
    assert loaded[0] == loaded[1]


def gzip_with_name(content: bytes, name: str) -> bytes:
    """What `gzip file` writes: the FNAME flag and the original name in the header."""
    buffer = io.BytesIO()
    with gzip.GzipFile(filename=name, mode="wb", fileobj=buffer, mtime=0) as packer:
        packer.write(content)
    return buffer.getvalue()
