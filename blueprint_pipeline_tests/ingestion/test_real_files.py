"""Real public exports (fixtures/real, provenance in its README) load, on DuckDB and PostgreSQL.

Facts checked by hand against the files:
  accountData.csv: 423 accounts, Latin-1 bytes on line 72, upper-case quoted Data Loader headers,
    38 columns of which 15 are in our contract; BILLINGCOUNTRY mixes 'US' and 'United States'.
  opportunityData.csv: 38 opportunities, all ACCOUNTIDs join an account; stages Prospecting 9,
    Closed Won 8, Value Proposition 8, Negotiation/Review 4, Id. Decision Makers 4,
    Proposal/Price Quote 4, Needs Analysis 1.
  The bulk-extract example: 4 activities of type 104; New Status On List, Attended, Attended, Member.
  Fivetran per-type tables (BOM, snake_case headers, attributes flattened into columns):
    100 Merge Leads rows, one with empty merge_ids -> 99 merges; 100 Open Email; 31 Delete Lead
    from SFDC (type 29); the lead table: 100 leads, none merged away or deleted in these samples.
  lwc-recipes' Accounts-Contacts.csv is a report export without Ids: skipped with a clear reason.
"""

from __future__ import annotations

import shutil

from blueprint_pipeline_tests.conftest import FIXTURES
from blueprint_pipeline_tests.ingestion.test_two_drops import build, rows

REAL = FIXTURES / "real"
CONFIG = """
file_names:
  salesforce: {accountData.csv: Account, opportunityData.csv: Opportunity, Accounts-Contacts.csv: Contact}
  marketo:
    marketo_lead_data.csv: leads
    marketo_activity_merge_leads_data.csv: activities
    marketo_activity_open_email_data.csv: activities
    marketo_activity_delete_lead_data.csv: activities
header_aliases:
  marketo: {activities: {marketoGUID: [id]}}
"""


def test_real_exports_load(warehouse, tmp_path, monkeypatch):
    landing = tmp_path / "landing"
    shutil.copytree(REAL, landing, ignore=shutil.ignore_patterns("*.md"))
    (landing / "marketo" / "programs_export.csv").write_text("id,name\n1,x\n")  # claimed by no object
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "sources.yaml").write_text(CONFIG)
    monkeypatch.setenv("BLUEPRINT_CONFIG_DIR", str(tmp_path / "config"))
    summary = build(landing, warehouse, monkeypatch, keep_config=True)
    assert summary.success, summary.render()
    assert summary.skipped_files == ["salesforce/Accounts-Contacts.csv: missing required column 'Id'"]
    assert summary.rows_quarantined == 0
    assert summary.unmatched_files == ["marketo/programs_export.csv"]
    assert warehouse.scalar("select count(*) from stg_salesforce__accounts") == 423
    assert (
        warehouse.scalar(
            "select count(*) from stg_salesforce__accounts where billing_country = 'United States'"
        )
        == 5
    )
    assert rows(
        warehouse,
        "select stage_name, count(*) from stg_salesforce__opportunities group by 1 order by 2 desc, 1",
    ) == [
        ("Prospecting", 9),
        ("Closed Won", 8),
        ("Value Proposition", 8),
        ("Id. Decision Makers", 4),
        ("Negotiation/Review", 4),
        ("Proposal/Price Quote", 4),
        ("Needs Analysis", 1),
    ]
    orphans = "select count(*) from stg_salesforce__opportunities o where not exists (select 1 from stg_salesforce__accounts a where a.account_id = o.account_id)"
    assert warehouse.scalar(orphans) == 0
    assert rows(
        warehouse, "select activity_type_id, count(*) from stg_marketo__activities group by 1 order by 1"
    ) == [
        (10, 100),
        (29, 31),
        (32, 100),
        (104, 4),
    ]
    attended = "select count(*) from stg_marketo__activities where json_extract_string(cast(attributes as json), '$.\"New Status\"') = 'Attended'"
    assert warehouse.scalar(attended) == 2
    assert warehouse.scalar("select count(*) from stg_marketo__lead_merges") == 99
    assert warehouse.scalar("select count(*) from stg_marketo__leads") == 100
