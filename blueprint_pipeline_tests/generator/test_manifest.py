"""The generator's manifest: the day its data ends, and the rows it spoils on
purpose, counted from the files themselves; `blueprint generate` ends the data today by default."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import duckdb

from blueprint_pipeline.generator.manifest import MANIFEST_FILE, deliberate_defects
from blueprint_pipeline.runtime.cli import main

CONTACTS_CHECK = "stg_salesforce__contacts.relationships__account_id__stg_salesforce__accounts"
PARENTS_CHECK = "stg_salesforce__accounts.relationships__parent_account_id__stg_salesforce__accounts"


def _count(sql: str) -> int:
    return duckdb.sql(sql).fetchall()[0][0]


def test_the_manifest_counts_the_rows_spoiled_on_purpose(tmp_path):
    landing = tmp_path / "landing"
    assert main(["generate", "--scale", "demo", "--end", "2026-06-01", "--out", str(landing)]) == 0
    body = json.loads((landing / MANIFEST_FILE).read_text())
    assert body["data_ends"] == "2026-06-01T00:00:00" and body["seed"] == 7
    sf = landing / "salesforce"
    deleted = (
        f"(select ID from read_csv('{sf}/Account_2026-06-01.csv', all_varchar=true) where ISDELETED = 'true')"
    )
    contacts = f"read_csv('{sf}/Contact.csv', all_varchar=true)"
    accounts = f"read_csv('{sf}/Account.csv', all_varchar=true)"
    feedback = f"read_csv('{landing}/sales/feedback.csv', all_varchar=true)"
    expected = {
        CONTACTS_CHECK: _count(f"select count(*) from {contacts} where IsDeleted = 'false' and AccountId in {deleted}"),
        PARENTS_CHECK: _count(f"select count(*) from {accounts} where ParentId in {deleted} and Id not in {deleted}"),
        "sales_feedback.every_decision_usable": _count(
            f"select count(*) from {feedback} where decision not in ('Accepted', 'Rejected') "
            "or (decision = 'Rejected' and coalesce(reason, '') = '')"
        ),
    }  # fmt: skip
    assert expected["sales_feedback.every_decision_usable"] == 2  # a made-up decision, a bare rejection
    assert expected[CONTACTS_CHECK] > 0
    found = {check: defect.rows for check, defect in deliberate_defects(landing).items()}
    assert found == {check: rows for check, rows in expected.items() if rows}  # none listed at 0 rows


def test_generate_ends_the_data_today_unless_told(tmp_path, capsys):
    landing = tmp_path / "landing"
    assert main(["generate", "--scale", "tiny", "--out", str(landing)]) == 0
    today = datetime.now(UTC).date()
    assert json.loads((landing / MANIFEST_FILE).read_text())["data_ends"] == f"{today}T00:00:00"
    assert (landing / "salesforce" / f"Account_{today}.csv").exists()  # the later drop, dated that day
    assert f"the data ending {today}" in capsys.readouterr().out
    assert main(["generate", "--end", "1 June", "--out", str(tmp_path / "other")]) == 2
    assert "--end '1 June': expected a date, e.g. 2026-11-20" in capsys.readouterr().err


def test_no_manifest_no_defects(tmp_path):
    assert deliberate_defects(tmp_path) == {}  # real landing folders come without one
    (tmp_path / MANIFEST_FILE).write_text("{not json")
    assert deliberate_defects(tmp_path) == {}
