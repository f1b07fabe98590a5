"""Account audiences on the identity_unified fixture (docs/identity.md has its accounts and
persons), on DuckDB and PostgreSQL. As-of 2026-03-01. Worked by hand:

  big_software   employees >= 100 and industry in [" SOFTWARE "] (case and spaces ignored): IN1
                 (Initech, 300); Beta Labs has 50.
  engaged        >= 2 "Fill Out Form" activities by >= 2 persons in 30 days: Globex GL1 (Carol
                 twice, Zed once; Zed's December fill is too old). Ann filled one form for AC1: no.
  not_partner    account_type ne Partner: all six accounts (none has a type; ne keeps empties).
  hostile        account_name eq "x' or '1'='1": a value, bound as a parameter: nobody.
  top_level      not hierarchy_level > 0: all but GL2 (Globex EMEA, level 1).
  vip            static list vip.csv: AC2 (merged into AC1) -> AC1, IN1, and an unknown id (dropped,
                 reported).
  percent        account_name contains "%": nobody (no name has a percent sign; not a wildcard).
  glob           account_name contains "GLOB": Globex and Globex EMEA.
Drop 2 lowers Initech to 50 employees: IN1 leaves big_software, recorded once in the history.
"""

from __future__ import annotations

import shutil

from blueprint_pipeline_tests.conftest import FIXTURES
from blueprint_pipeline_tests.ingestion.test_two_drops import build

AC1, BT1, GL1, GL2, GM1, IN1 = (f"001000000000{x}AAA" for x in ("AC1", "BT1", "GL1", "GL2", "GM1", "IN1"))
MINE = ("big_software", "engaged", "not_partner", "hostile", "top_level", "vip", "percent", "glob")

AUDIENCES = """
audiences:
  big_software:
    filter: {all: [{field: employees, op: gte, value: 100}, {field: industry, op: in, value: [" SOFTWARE "]}]}
  engaged:
    filter: {engagement: {activity_types: [Fill Out Form], within_days: 30, min_activities: 2, min_persons: 2}}
  not_partner:
    filter: {field: account_type, op: ne, value: Partner}
  hostile:
    filter: {field: account_name, op: eq, value: "x' or '1'='1"}
  top_level:
    filter: {not: {field: hierarchy_level, op: gt, value: 0}}
  vip:
    static_list: vip.csv
  percent:
    filter: {field: account_name, op: contains, value: "%"}
  glob:
    filter: {field: account_name, op: contains, value: "GLOB"}
"""


def members(warehouse) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {name: [] for name in MINE}
    for audience, account in warehouse.fetchall(
        "select audience_id, account_id from account_audience_members order by 1, 2"
    ):
        if audience in found:
            found[audience].append(account)
    return found


def test_audiences_and_their_history(warehouse, tmp_path, monkeypatch):
    landing = tmp_path / "landing"
    shutil.copytree(FIXTURES / "identity_unified", landing)
    config = tmp_path / "config"
    config.mkdir()
    (config / "audiences.yaml").write_text(AUDIENCES)
    (config / "vip.csv").write_text(f"account_id\n001000000000AC2AAA\n{IN1}\n001000000000ZZZAAA\n")
    monkeypatch.setenv("BLUEPRINT_CONFIG_DIR", str(config))

    assert build(landing, warehouse, monkeypatch, keep_config=True).success
    assert members(warehouse) == {
        "big_software": [IN1],
        "engaged": [GL1],
        "not_partner": sorted([AC1, BT1, GL1, GL2, GM1, IN1]),
        "hostile": [],
        "top_level": sorted([AC1, BT1, GL1, GM1, IN1]),
        "vip": sorted([AC1, IN1]),
        "percent": [],  # % is a character to find, not a wildcard
        "glob": sorted([GL1, GL2]),
    }
    assert warehouse.scalar("select count(*) from unified_accounts") == 6  # the hostile value changed nothing
    joined = warehouse.scalar("select count(*) from account_audience_history where event = 'joined'")
    assert joined == warehouse.scalar("select count(*) from account_audience_members")

    assert build(landing, warehouse, monkeypatch, keep_config=True).success  # same data: no events
    assert warehouse.scalar("select count(*) from account_audience_history where event = 'left'") == 0

    shutil.copytree(FIXTURES / "audiences_drop2", landing, dirs_exist_ok=True)
    assert build(landing, warehouse, monkeypatch, keep_config=True).success
    assert members(warehouse)["big_software"] == []
    left = warehouse.fetchall(
        "select audience_id, account_id, cast(happened_at as varchar) from account_audience_history "
        "where event = 'left'"
    )
    assert [(a, b) for a, b, _ in left] == [("big_software", IN1)]
    assert left[0][2].startswith("2026-03-01")
