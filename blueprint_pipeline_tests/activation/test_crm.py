"""CRM write-back on hand-made tables, DuckDB and PostgreSQL. Build 1: two
groups, both in the delta (nothing written back before). Build 2: G2 moved to Marketing Qualified
and a journey set Journey_Stage__c on A1: the delta holds G2 alone; the Account update file holds
A1's field; the full upsert file still holds both groups."""

from __future__ import annotations

import csv
from datetime import datetime

import dagster as dg
import pandas as pd

from blueprint_pipeline.core.run_facts import AS_OF_TAG
from blueprint_pipeline.defs.activation.crm import crm_buying_group_writeback
from blueprint_pipeline.resources import ActivationResource, BlueprintConfigResource

HEADER = [
    "Blueprint_Id__c", "Account__c", "Solution_Interest__c", "Stage__c", "Completeness__c", "Engagement_Score__c",
    "Roles_Filled__c", "Roles_Missing__c", "Last_Stage_Change__c",
]  # fmt: skip


def _tables(stage_g2: str, entered_g2: datetime) -> dict[str, pd.DataFrame]:
    return {
        "buying_groups": pd.DataFrame(
            {"buying_group_id": ["G1", "G2"], "account_id": ["A1", "A2"], "solution_interest": "data_platform",
             "completeness_score": [0.5, 1.0], "missing_required_roles": ["Champion; Practitioner", ""]}
        ),
        "buying_group_stages": pd.DataFrame(
            {"buying_group_id": ["G1", "G2"], "stage": ["Awareness", stage_g2],
             "entered_at": [datetime(2026, 3, 1), entered_g2]}
        ),
        "buying_group_engagement": pd.DataFrame({"buying_group_id": ["G1", "G2"], "score": [1.234, 22.0]}),
        "buying_group_roles": pd.DataFrame(
            {"buying_group_id": ["G1", "G1", "G1", "G2"],
             "role": ["Decision Maker", "Influencer", "Champion", "Decision Maker"], "assigned": [1, 1, 0, 2]}
        ),
    }  # fmt: skip


def _build(warehouse, tmp_path, tables, at):
    with warehouse.transaction() as session:
        for name, frame in tables.items():
            session.replace_table(name, frame)
    result = dg.materialize(
        [crm_buying_group_writeback],
        resources={"warehouse": warehouse, "blueprint_config": BlueprintConfigResource(config_dir=str(tmp_path)),
                   "activation": ActivationResource(path=str(tmp_path / "out"))},
        tags={AS_OF_TAG: at},
    )  # fmt: skip
    assert result.success
    return tmp_path / "out" / "crm" / at.replace("-", "").replace(":", "")


def _rows(path):
    with path.open(newline="") as handle:
        return list(csv.reader(handle))


def test_writeback_delta_and_journey_updates(warehouse, tmp_path):
    first = _build(warehouse, tmp_path, _tables("Engaged", datetime(2026, 3, 1)), "2026-03-02T00:00:00")
    upsert = _rows(first / "buying_groups_upsert.csv")
    assert upsert[0] == HEADER
    assert upsert[1] == [
        "G1",
        "A1",
        "data_platform",
        "Awareness",
        "0.5",
        "1.23",
        "Decision Maker; Influencer",  # roles filled and missing, both joined with "; " (docs/figures.md)
        "Champion; Practitioner",
        "2026-03-01T00:00:00Z",
    ]
    assert len(_rows(first / "buying_groups_delta.csv")) == 3  # header + both groups
    with warehouse.transaction() as session:
        session.replace_table(
            "crm_field_updates",
            pd.DataFrame({"step_key": ["k1"], "account_id": ["A1"], "field": ["Journey_Stage__c"], "value": ["nurture"],
                          "journey_id": ["j"], "happened_at": [datetime(2026, 3, 2, 12)]}),
        )  # fmt: skip
    second = _build(
        warehouse, tmp_path, _tables("Marketing Qualified", datetime(2026, 3, 2, 6)), "2026-03-03T00:00:00"
    )
    assert [r[0] for r in _rows(second / "buying_groups_delta.csv")[1:]] == ["G2"]
    assert len(_rows(second / "buying_groups_upsert.csv")) == 3
    assert _rows(second / "account_updates.csv") == [["Id", "Journey_Stage__c"], ["A1", "nurture"]]
    assert warehouse.fetchall("select buying_group_id, stage from crm_buying_group_writeback order by 1") == [
        ("G1", "Awareness"), ("G2", "Marketing Qualified"),
    ]  # fmt: skip
    third = _build(
        warehouse, tmp_path, _tables("Marketing Qualified", datetime(2026, 3, 2, 6)), "2026-03-04T00:00:00"
    )
    assert len(_rows(third / "buying_groups_delta.csv")) == 1 and not (third / "account_updates.csv").exists()
