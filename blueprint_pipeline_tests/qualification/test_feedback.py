"""Sales feedback: each decision checked, merged accounts followed, unusable
rows kept with their problem; the KPI `kpi_mqa_acceptance` worked by hand. Both warehouses.

Decisions (stg_sales__feedback), as-of 2026-06-30:
- f1 A1 data_platform "accepted"  2026-06-01 (Mon, week 2026-06-01)            used
- f2 Z9 data_platform "rejected"  2026-06-02 "No budget" -> Z9 merged into A1  used
- f3 A2 data_platform "reject"    2026-06-03 "no budget " (spelt differently)   used, rejected
- f4 A2 data_platform "rejected"  2026-06-04 "Wrong contact"                    used
- f5 A1 data_platform "maybe"                                                   problem: decision
- f6 A3 data_platform "accepted"  (A3 is not in the CRM)                        problem: account
- f7 A1 security      "accepted"  (no such interest)                            problem: interest
- f8 A2 data_platform "rejected"  no reason                                     problem: reason
- f9 A1 data_platform "accepted"  2026-07-02, after the as-of time              problem: decided_at
- f10 A2 security_add_on "accepted" 2026-06-09 (week 2026-06-08)                used
KPI: week 2026-06-01, data_platform: 4 decisions, 1 accepted, 3 rejected, rate 0.25, top reason
"no budget" (2 of 3, case and spaces aside); week 2026-06-08, security_add_on: 1, 1, 0, 1.0, "".
"""

from __future__ import annotations

import dagster as dg
import pandas as pd

from blueprint_pipeline.core.run_facts import AS_OF_TAG
from blueprint_pipeline.defs.qualification.feedback import sales_feedback
from blueprint_pipeline.defs.reporting.kpis import kpis
from blueprint_pipeline.resources import BlueprintConfigResource

D = pd.Timestamp


def _stage(warehouse) -> None:
    rows = [
        ("f1", "A1", "data_platform", "accepted", None, D("2026-06-01 09:00")),
        ("f2", "Z9", "data_platform", "rejected", "No budget", D("2026-06-02")),
        ("f3", "A2", "data_platform", "reject", "no budget ", D("2026-06-03")),
        ("f4", "A2", "data_platform", "rejected", "Wrong contact", D("2026-06-04")),
        ("f5", "A1", "data_platform", "maybe", None, D("2026-06-05")),
        ("f6", "A3", "data_platform", "accepted", None, D("2026-06-05")),
        ("f7", "A1", "security", "accepted", None, D("2026-06-05")),
        ("f8", "A2", "data_platform", "rejected", None, D("2026-06-05")),
        ("f9", "A1", "data_platform", "accepted", None, D("2026-07-02")),
        ("f10", "A2", "security_add_on", "accepted", None, D("2026-06-09")),
    ]
    frame = pd.DataFrame(
        rows, columns=["feedback_id", "account_id", "solution_interest", "decision", "reason", "decided_at"]
    ).assign(decided_by="rep@ourcompany.example", source_file="feedback.csv", source_row=range(2, 12))
    with warehouse.transaction() as session:
        session.replace_table("stg_sales__feedback", frame)
        session.replace_table(
            "account_aliases", pd.DataFrame({"alias_account_id": ["Z9"], "account_id": ["A1"]})
        )
        session.replace_table("unified_accounts", pd.DataFrame({"account_id": ["A1", "A2"]}))


def test_decisions_checked_and_counted(warehouse, tmp_path):
    _stage(warehouse)
    result = dg.materialize(
        [sales_feedback, kpis],
        selection=["sales_feedback", "kpi_mqa_acceptance"],
        resources={
            "warehouse": warehouse,
            "blueprint_config": BlueprintConfigResource(config_dir=str(tmp_path)),
        },
        tags={AS_OF_TAG: "2026-06-30T00:00:00"},
    )
    assert result.success
    with warehouse.session() as session:
        rows = session.fetch_df("select * from sales_feedback").set_index("feedback_id")
        kpi = session.fetch_df("select * from kpi_mqa_acceptance order by week, solution_interest")
        week_type = dict(session.columns("kpi_mqa_acceptance"))["week"]
    # A timestamp, as every KPI's week (it was once text here).
    assert week_type.lower().startswith("timestamp"), week_type
    assert len(rows) == 10  # no row lost
    assert rows.loc["f2", "account_id"] == "A1" and rows.loc["f3", "decision"] == "rejected"
    problems = rows["problem"].to_dict()
    assert {k for k, v in problems.items() if v == ""} == {"f1", "f2", "f3", "f4", "f10"}
    assert problems["f5"] == "field decision: expected accepted or rejected"
    assert problems["f6"] == "field account_id: not a CRM account"
    assert problems["f7"] == "field solution_interest: not a solution interest"
    assert problems["f8"] == "field reason: a rejection needs a reason"
    assert problems["f9"] == "field decided_at: after the run's as-of time"
    # The KPI's own checks (its primary key, reporting.yml) ran too: this is the feedback's.
    [check] = [
        c for c in result.get_asset_check_evaluations() if c.asset_key == dg.AssetKey("sales_feedback")
    ]
    assert not check.passed and check.metadata["failing_rows"].value == 5
    assert "feedback.csv record 6: field decision" in check.metadata["failed"].value
    assert kpi.assign(week=kpi["week"].astype(str)).to_dict("records") == [
        {"week": "2026-06-01", "solution_interest": "data_platform", "decisions": 4, "accepted": 1,
         "rejected": 3, "acceptance_rate": 0.25, "top_rejection_reason": "no budget"},
        {"week": "2026-06-08", "solution_interest": "security_add_on", "decisions": 1, "accepted": 1,
         "rejected": 0, "acceptance_rate": 1.0, "top_rejection_reason": ""},
    ]  # fmt: skip
