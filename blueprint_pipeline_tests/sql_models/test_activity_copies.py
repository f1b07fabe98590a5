"""stg_marketo__activities keeps the first copy of each activity (marketoGUID) ingested, on both
warehouses, full and incremental: the copies are ranked on (guid, batch, row) and the later ones
left out by (batch, row), so the cases are a guid held once, twice in one batch, three times across
batches, with surrounding spaces, and a copy arriving in a later batch of one already staged.

Hand-worked answer, (batch, row) of each copy, the first by batch then row:
  batch 1: g1 (1,1) 'first'; g2 (1,2) 'early'; ' g2 ' (1,3) 'late'; g3 (1,4) 'only'
  batch 2: g1 (2,1) 'second'; g4 (2,2) 'new'; g4 (2,3) 'newer'
  full build over both: g1 first, g2 early, g3 only, g4 new (4 rows)
  built after batch 1, then batch 2 incrementally: the same 4 rows (g1's second copy is left out
  because g1 is already staged; g4's first copy wins within batch 2).
"""

from __future__ import annotations

from datetime import datetime

import pytest

from blueprint_pipeline.sql_models.project import load_project
from blueprint_pipeline.sql_models.runner import build_model, load_seed
from blueprint_pipeline.warehouse import Warehouse
from blueprint_pipeline_tests.conftest import FIXTURES

AS_OF = datetime(2026, 11, 25, 9, 30)
PROJECT = FIXTURES.parent.parent / "dbt_like_sql"
BATCH_1 = [("g1", 1, 1, "first"), ("g2", 1, 2, "early"), (" g2 ", 1, 3, "late"), ("g3", 1, 4, "only")]
BATCH_2 = [("g1", 2, 1, "second"), ("g4", 2, 2, "new"), ("g4", 2, 3, "newer")]
EXPECTED = [("g1", "first"), ("g2", "early"), ("g3", "only"), ("g4", "new")]


def _load(warehouse: Warehouse, rows: list[tuple], fresh: bool) -> None:
    with warehouse.transaction() as s:
        if fresh:
            s.execute("drop table if exists raw_marketo__activities")
            s.execute(
                "create table raw_marketo__activities (marketo_guid varchar, lead_id varchar, "
                "activity_date varchar, activity_type_id varchar, campaign_id varchar, "
                "primary_attribute_value_id varchar, primary_attribute_value varchar, attributes varchar, "
                "_source_file varchar, _source_row bigint, _ingested_at timestamp, _source_batch bigint)"
            )
            s.execute("drop table if exists raw_marketo__activity_types")
            s.execute(
                "create table raw_marketo__activity_types (activity_type_id varchar, name varchar, "
                "_source_file varchar, _source_row bigint, _ingested_at timestamp, _source_batch bigint)"
            )
        for guid, batch, row, value in rows:
            s.execute(
                "insert into raw_marketo__activities values ($g, '7', '2026-11-01T10:00:00Z', '1', "
                "null, null, $v, null, $f, $r, timestamp '2026-11-02 00:00:00', $b)",
                {"g": guid, "v": value, "f": f"activities_{batch}.csv", "r": row, "b": batch},
            )


def _build(warehouse: Warehouse, project, names: tuple[str, ...]) -> None:
    for name in names:
        build_model(warehouse, project, project.models[name], as_of=AS_OF, config_version="v1")


@pytest.mark.parametrize("incremental", [False, True], ids=["one-build", "two-builds"])
def test_first_copy_of_each_activity(warehouse, incremental):
    project = load_project(PROJECT)
    seed = "marketo_activity_types_standard"
    load_seed(warehouse, seed, PROJECT / "seeds" / f"{seed}.csv")
    models = ("stg_marketo__activity_types", "stg_marketo__activities")
    if incremental:
        _load(warehouse, BATCH_1, fresh=True)
        _build(warehouse, project, models)
        _load(warehouse, BATCH_2, fresh=False)
        _build(warehouse, project, models[-1:])
    else:
        _load(warehouse, BATCH_1 + BATCH_2, fresh=True)
        _build(warehouse, project, models)
    found = warehouse.fetchall(
        "select activity_id, primary_attribute_value from stg_marketo__activities order by activity_id"
    )
    assert found == EXPECTED
