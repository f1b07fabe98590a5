"""Two drops of hand-made landing files through ingestion and staging, on DuckDB and PostgreSQL
(and on Spark: test_two_drops_spark.py, a file of its own so that the test workers share them).

fixtures/landing_drops/drop1 then drop2 (files added beside the first ones). Worked answers:

drop 1
  Account.csv (Data Loader: BOM, CRLF, upper-case quoted headers, extra EXTRA__C column)
    001..1 Acme Corp, 100 employees, https://www.Acme.com/about -> acme.com
    001..2 Globex
    001..3 quarantined: NumberOfEmployees 'abc'          (record 3)
    001..4 quarantined: LastModifiedDate 'not-a-date'    (record 4)
  Contact.csv: 003..1 " Ann.Lee@Acme.com " -> ann.lee@acme.com; 003..2 its duplicate in capitals;
    003..3 no AccountId, opted out; line 5 has 10 fields for 9 columns -> quarantined, line 5
  Opportunity.csv has no Id column -> skipped, named in the summary; Campaign.csv is empty -> 0 rows
  Marketo: leads 100 (smsOptIn true via the configured alias), 101, 102; activities 1, 2, 3 and the
    legacy-format 10 (+0000 offset, attributes as name/value array -> object)
  LinkedIn: Dana (09-10-2026 1:05 PM -> 2026-09-10 13:05) and a test lead (9/13/2026 12:30 AM)
drop 2
  Account_2026-02-01.csv: 001..1 now 120 employees; 001..2 "Globex OLD" dated 2025-12-01 loses to
    the newer version already loaded (newest LastModifiedDate wins, not the later file); 001..3
    deleted; 001..4 valid now. This file has no BillingCountry column: fields a file lacks keep
    the value an earlier file gave (Acme stays US; Umbrella never had one)
  Contact_2026-02-01.csv: 003..2 deleted, merged into 003..1
  activities_2.csv: 3 again (duplicate), 4 = Merge Leads 101 into 100, 5 = Delete Lead 102
A third run with the same files changes nothing.
drop 3 (partial files, no LastModifiedDate: they count as modified when ingested, 2026-03-01)
  Contact_deletes.csv (Id, IsDeleted): 003..3 deleted
  Contact_titles.csv (Id, Title): 003..1's title set; its email and opt-out stay as they were
  excel_export.csv: no test_lead or dates; two people whose lead_id Excel mangled to 7.50339E+18
    stay two responses (ids become email|form|date|time); excel_export_week2.csv, the cumulative
    download a week later (Rene, Sam, Rita in another order), adds Sam only
  and Account_copy.csv, a byte copy of drop 1's Account.csv, is not ingested again
"""

from __future__ import annotations

import shutil
from datetime import datetime

import dagster as dg

from blueprint_pipeline.resources import ACTIVATION_DIR_ENV, MAILBOX_DIR_ENV, MODELS_DIR_ENV, REPORTS_DIR_ENV
from blueprint_pipeline.runtime.build import BuildOptions, run_build
from blueprint_pipeline_tests.conftest import FIXTURES

DROPS = FIXTURES / "landing_drops"


def build(landing, warehouse, monkeypatch, keep_config=False, select=None):
    monkeypatch.setenv("BLUEPRINT_LANDING_DIR", str(landing))
    # The build's files beside the landing folder, not in the checkout's data/: tests in other
    # workers build at the same as-of and wrote the same activation folders (FileExistsError).
    for env, folder in (
        (ACTIVATION_DIR_ENV, "activation"),
        (MAILBOX_DIR_ENV, "mailbox"),
        (MODELS_DIR_ENV, "models"),
        (REPORTS_DIR_ENV, "reports"),
    ):
        monkeypatch.setenv(env, str(landing.parent / "outputs" / folder))
    monkeypatch.setenv(
        "BLUEPRINT_WAREHOUSE_URL",
        warehouse.url if hasattr(warehouse, "url") else f"duckdb:///{warehouse.path}",
    )
    if hasattr(warehouse, "schema_name"):
        monkeypatch.setenv("BLUEPRINT_WAREHOUSE_SCHEMA", warehouse.schema_name)
    if not keep_config:
        monkeypatch.delenv("BLUEPRINT_CONFIG_DIR", raising=False)
    return run_build(
        BuildOptions(as_of="2026-03-01T00:00:00Z", select=select), instance=dg.DagsterInstance.ephemeral()
    )


def rows(warehouse, sql):
    return [
        tuple(v.isoformat(sep=" ") if isinstance(v, datetime) else v for v in row)
        for row in warehouse.fetchall(sql)
    ]


def test_two_drops(warehouse, tmp_path, monkeypatch, select=None):
    """`select`: the assets each build runs (all of them unless given)."""
    landing = tmp_path / "landing"
    shutil.copytree(DROPS / "drop1", landing)
    first = build(landing, warehouse, monkeypatch, select=select)
    assert first.success, first.render()
    assert first.skipped_files == ["salesforce/Opportunity.csv: missing required column 'Id'"]
    assert first.rows_quarantined == 3
    assert rows(
        warehouse,
        "select source_table, file, line, record_number, record_key, reason from quarantine order by file, record_number, line",
    ) == [
        (
            "raw_salesforce__account",
            "salesforce/Account.csv",
            None,
            3,
            "001000000000003AAA",
            "NumberOfEmployees: expected an integer, got abc",
        ),
        (
            "raw_salesforce__account",
            "salesforce/Account.csv",
            None,
            4,
            "001000000000004AAA",
            "LastModifiedDate: expected an ISO-8601 timestamp, got not-a-date",
        ),
        (
            "raw_salesforce__contact",
            "salesforce/Contact.csv",
            5,
            None,
            None,
            "TOO MANY COLUMNS: Expected Number of Columns: 9 Found: 10",
        ),
    ]
    assert rows(
        warehouse,
        "select account_id, account_name, employees, website_domain, billing_country from stg_salesforce__accounts order by 1",
    ) == [
        ("001000000000001AAA", "Acme Corp", 100, "acme.com", "US"),
        ("001000000000002AAA", "Globex", None, "globex.io", None),
    ]
    assert rows(
        warehouse,
        "select contact_id, account_id, email, email_domain, email_opt_out from stg_salesforce__contacts order by 1",
    ) == [
        ("003000000000001AAA", "001000000000001AAA", "ann.lee@acme.com", "acme.com", False),
        ("003000000000002AAA", "001000000000001AAA", "ann.lee@acme.com", "acme.com", False),
        ("003000000000003AAA", None, "bob@gmail.com", "gmail.com", True),
    ]
    assert warehouse.scalar("select count(*) from raw_salesforce__campaign") == 0
    assert rows(warehouse, "select file, rows_loaded from ingested_files where file like '%Campaign%'") == [
        ("salesforce/Campaign.csv", 0)
    ]
    assert rows(
        warehouse, "select lead_id, email, sms_consent, unsubscribed from stg_marketo__leads order by 1"
    ) == [
        (100, "ann.lee@acme.com", True, False),
        (101, "ann.lee@acme.com", False, False),
        (102, "carl@initech.com", False, True),
    ]
    legacy = warehouse.fetchall(
        "select activity_at, attributes, activity_type_name from stg_marketo__activities where activity_id = '10'"
    )
    assert str(legacy[0][0]) == "2013-09-26 06:56:35" and legacy[0][2] == "Visit Webpage"
    assert legacy[0][1].replace(" ", "") == '{"SourceType":"Webpagevisit"}'
    assert rows(
        warehouse, "select activity_type_name from stg_marketo__activities where activity_id = '2'"
    ) == [("Change Status In Progression",)]
    linkedin = rows(
        warehouse,
        "select email, is_test_lead, submitted_at, answers from stg_linkedin__lead_gen_responses order by 1",
    )
    assert [r[:3] for r in linkedin] == [
        ("dana.kim@acme.com", False, "2026-09-10 13:05:00"),
        ("test@linkedin.com", True, "2026-09-13 00:30:00"),
    ]
    assert '"I agree to be contacted"' in linkedin[0][3] and '"TRUE"' in linkedin[0][3]

    shutil.copytree(DROPS / "drop2", landing, dirs_exist_ok=True)
    second = build(landing, warehouse, monkeypatch, select=select)
    assert second.success, second.render()
    assert second.rows_quarantined == 0
    assert rows(
        warehouse,
        "select account_id, account_name, employees, billing_country from stg_salesforce__accounts order by 1",
    ) == [
        ("001000000000001AAA", "Acme Corp", 120, "US"),
        ("001000000000002AAA", "Globex", None, None),
        ("001000000000004AAA", "Umbrella", 50, None),
    ]
    assert rows(warehouse, "select contact_id from stg_salesforce__contacts order by 1") == [
        ("003000000000001AAA",),
        ("003000000000003AAA",),
    ]
    assert rows(
        warehouse,
        "select object_name, record_id, master_record_id from stg_salesforce__deleted_records order by 1, 2",
    ) == [
        ("Account", "001000000000003AAA", None),
        ("Contact", "003000000000002AAA", "003000000000001AAA"),
    ]
    assert rows(
        warehouse, "select activity_id from stg_marketo__activities order by cast(activity_id as integer)"
    ) == [
        ("1",),
        ("2",),
        ("3",),
        ("4",),
        ("5",),
        ("10",),
    ]
    assert rows(
        warehouse, "select surviving_lead_id, merged_lead_id, merged_at from stg_marketo__lead_merges"
    ) == [
        (100, 101, "2026-02-02 10:00:00"),
    ]
    assert rows(warehouse, "select lead_id, deleted_at from stg_marketo__lead_deletions") == [
        (102, "2026-02-03 10:00:00")
    ]
    assert rows(warehouse, "select lead_id from stg_marketo__leads") == [(100,)]
    assert warehouse.scalar("select count(*) from quarantine") == 3
    assert warehouse.scalar("select count(*) from ingested_files") == 10  # 7 from drop 1, 3 from drop 2

    tables = [
        t
        for (t,) in warehouse.fetchall(
            "select table_name from information_schema.tables where table_schema = current_schema() order by 1"
        )
    ]
    before = {
        t: sorted(map(str, warehouse.fetchall(f'select * from "{t}"')))
        for t in tables
        if not t.startswith("ingested")
    }
    third = build(landing, warehouse, monkeypatch, select=select)
    assert third.success
    after = {t: sorted(map(str, warehouse.fetchall(f'select * from "{t}"'))) for t in before}
    assert after == before
    assert warehouse.scalar("select count(*) from ingested_files") == 10

    shutil.copytree(DROPS / "drop3", landing, dirs_exist_ok=True)
    shutil.copy(DROPS / "drop1" / "salesforce" / "Account.csv", landing / "salesforce" / "Account_copy.csv")
    fourth = build(landing, warehouse, monkeypatch, select=select)
    assert fourth.success, fourth.render()
    assert fourth.copies_not_ingested == ["salesforce/Account_copy.csv: same bytes as salesforce/Account.csv"]
    assert rows(
        warehouse, "select contact_id, title, email, email_opt_out from stg_salesforce__contacts"
    ) == [
        ("003000000000001AAA", "VP Sales", "ann.lee@acme.com", False),
    ]
    assert rows(
        warehouse,
        "select record_id from stg_salesforce__deleted_records where object_name = 'Contact' order by 1",
    ) == [
        ("003000000000002AAA",),
        ("003000000000003AAA",),
    ]
    assert rows(
        warehouse,
        "select lead_gen_response_id, email from stg_linkedin__lead_gen_responses "
        "where email like 'r%' or email like 's%' order by 2",
    ) == [
        ("rene@acme.com|||", "rene@acme.com"),
        ("rita@acme.com|||", "rita@acme.com"),
        ("sam@acme.com|||", "sam@acme.com"),
    ]
