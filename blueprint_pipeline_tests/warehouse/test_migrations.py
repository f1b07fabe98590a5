"""Stateful tables upgrade in place, on both warehouses, from the previous release.

The previous release created the file ledger with one unique index (checksum, raw table) and no
version row. The upgrade adds the unique (raw table, batch) index (version 2) and the
`redacted_checksum` column (version 3), keeps every row, and does nothing the second
time. A ledger whose rows break the new rule stops the run with a message naming the table and the
step, and everything is left as it was.
"""

from __future__ import annotations

import pytest

from blueprint_pipeline.core.errors import WarehouseError
from blueprint_pipeline.warehouse.migrations import STEPS, latest, migrate
from blueprint_pipeline.warehouse.stateful import create

# The previous release's statements (blueprint_pipeline/ingestion/raw_load.py before versions).
PREVIOUS = (
    "create table ingested_files (batch_id bigint, file varchar, checksum varchar, source_table varchar, "
    "rows_loaded bigint, rows_quarantined bigint, ingested_at timestamp)",
    "create unique index ingested_files_once on ingested_files (checksum, source_table)",
    "insert into ingested_files values (1, 'salesforce/Account.csv', 'a1', 'raw_salesforce__account', 40, 0, "
    "'2026-11-01'), (2, 'salesforce/Contact.csv', 'c1', 'raw_salesforce__contact', 400, 2, '2026-11-01'), "
    "(3, 'salesforce/Account_2.csv', 'a2', 'raw_salesforce__account', 2, 0, '2026-11-02')",
    "create table journey_runs (journey_id varchar, status varchar, live_since timestamp, last_run_at timestamp)",
)


def _previous_release(warehouse, *statements: str) -> None:
    """The tables as a previous release left them: `statements` run in one transaction."""
    with warehouse.transaction() as session:
        for statement in statements:
            session.execute(statement)


def _versions(warehouse) -> dict[str, int]:
    return dict(
        warehouse.fetchall("select table_name, max(version) from schema_versions group by table_name")
    )


def test_the_previous_ledger_is_upgraded_in_place_once(warehouse):
    _previous_release(warehouse, *PREVIOUS)
    columns = "batch_id, file, checksum, source_table, rows_loaded, rows_quarantined, ingested_at"
    rows = sorted(warehouse.fetchall(f"select {columns} from ingested_files"))

    done = migrate(warehouse)
    steps = STEPS["ingested_files"]
    assert done == [
        f"ingested_files: version 1 -> 2 ({steps[0].why})",
        f"ingested_files: version 2 -> 3 ({steps[1].why})",
        f"ingested_files: version 3 -> 4 ({steps[2].why})",
    ]
    versions = _versions(warehouse)
    assert (versions["ingested_files"], versions["journey_runs"]) == (4, 1)
    assert versions == {table: latest(table) for table in STEPS}  # the others: created in their latest shape
    assert sorted(warehouse.fetchall(f"select {columns} from ingested_files")) == rows
    assert warehouse.fetchall("select distinct redacted_checksum from ingested_files") == [(None,)]
    # No size or time known for the files of before: each is read once more, then remembered.
    assert warehouse.fetchall("select distinct file_size, file_mtime_ns from ingested_files") == [
        (None, None)
    ]
    with pytest.raises(Exception, match="(?i)duplicate|unique|constraint"):  # the new rule holds
        warehouse.execute(
            f"insert into ingested_files ({columns}) values (3, 'salesforce/Account_3.csv', 'a3', "
            "'raw_salesforce__account', 1, 0, '2026-11-03')"
        )
    assert migrate(warehouse) == []  # nothing the second time
    # A row per table, and one more for each of the ledger's steps after its first.
    assert warehouse.scalar("select count(*) from schema_versions") == len(STEPS) + 2
    assert latest("ingested_files") == 4


def test_an_upgrade_that_cannot_apply_stops_with_its_reason(warehouse):
    _previous_release(  # two files of one table with one batch number: a race of the previous release
        warehouse,
        *PREVIOUS[:2],
        "insert into ingested_files values (1, 'a.csv', 'x', 'raw_t', 1, 0, '2026-11-01'), "
        "(1, 'b.csv', 'y', 'raw_t', 1, 0, '2026-11-01')",
    )
    with pytest.raises(WarehouseError, match="upgrading table ingested_files from version 1 to 2"):
        migrate(warehouse)
    with warehouse.session() as session:
        assert not session.table_exists("schema_versions")  # all or nothing: not even the versions table
    assert warehouse.scalar("select count(*) from ingested_files") == 2


def test_person_id_history_gets_its_cause_column(warehouse):
    """The previous release's person_id_history has no cause. Its creations came from
    new records; what merged or split persons then is unknown (null)."""
    _previous_release(
        warehouse,
        "create table person_id_history (event varchar, person_id varchar, other_person_id varchar, "
        "happened_at timestamp, config_version varchar)",
        "insert into person_id_history values ('created', 'p_1', null, '2026-11-01', 'v1'), "
        "('created', 'p_2', null, '2026-11-01', 'v1'), ('merged', 'p_2', 'p_1', '2026-11-02', 'v1')",
    )
    done = migrate(warehouse)
    assert f"person_id_history: version 1 -> 2 ({STEPS['person_id_history'][0].why})" in done
    assert sorted(warehouse.fetchall("select event, person_id, cause from person_id_history")) == [
        ("created", "p_1", "records"),
        ("created", "p_2", "records"),
        ("merged", "p_2", None),
    ]
    assert _versions(warehouse)["person_id_history"] == 2
    assert migrate(warehouse) == []


def test_snapshots_before_the_weighted_figure_gain_both_completeness_figures(warehouse):
    # The previous release's snapshot shape, cut to the columns that matter here.
    _previous_release(
        warehouse,
        "create table buying_group_snapshots (snapshot_date date, buying_group_id varchar, "
        "completeness_score double)",
        "insert into buying_group_snapshots values ('2026-11-02', 'g1', 0.5)",
    )
    assert migrate(warehouse) == [
        f"buying_group_snapshots: version 1 -> 2 ({STEPS['buying_group_snapshots'][0].why})"
    ]
    assert warehouse.fetchall(
        "select buying_group_id, completeness_score, suites_completeness, weighted_completeness "
        "from buying_group_snapshots"
    ) == [("g1", 0.5, None, None)]  # earlier dates have no figures: they were never computed
    assert migrate(warehouse) == []


def test_score_adjustments_journeys_made_move_to_their_own_table(warehouse):
    """Before journeys had their own effect table they appended to person_score_adjustments; the
    upgrade keeps those rows in journey_score_adjustments, which scoring copies from now on."""
    _previous_release(
        warehouse,
        "create table person_score_adjustments (step_key varchar, person_id varchar, points double, "
        "journey_id varchar, node varchar, reason varchar, happened_at timestamp)",
        "insert into person_score_adjustments values ('k1', 'p1', 5, 'j', 'bonus', 'webinar', '2026-11-02')",
    )
    done = migrate(warehouse)
    assert f"person_score_adjustments: version 1 -> 2 ({STEPS['person_score_adjustments'][0].why})" in done
    assert warehouse.fetchall("select step_key, person_id, points from journey_score_adjustments") == [
        ("k1", "p1", 5.0)
    ]
    assert migrate(warehouse) == []


def test_membership_history_gains_the_journeys_step_keys(warehouse):
    _previous_release(
        warehouse,
        "create table buying_group_member_events (event_seq bigint, buying_group_id varchar, "
        "person_id varchar, event varchar, role varchar, actor varchar, matched_condition varchar, "
        "happened_at timestamp, config_version varchar)",
        "insert into buying_group_member_events values (1, 'g1', 'p1', 'added', 'User', 'journey', "
        "'journey j, node n', '2026-11-02', 'v1')",
    )
    done = migrate(warehouse)
    assert (
        f"buying_group_member_events: version 1 -> 2 ({STEPS['buying_group_member_events'][0].why})" in done
    )
    # Changes journeys wrote before keep no key: they are in the history already, never applied again.
    assert warehouse.fetchall("select person_id, actor, request_key from buying_group_member_events") == [
        ("p1", "journey", None)
    ]
    assert migrate(warehouse) == []


def test_sales_alerts_in_the_journeys_outbox_move_to_their_own(warehouse):
    """Before the sales alerts had their own outbox they queued their messages in journey_outbox:
    the upgrade moves the standing rules' alerts (step keys alert/...) to sales_alert_outbox, as
    they were (status, attempts, message id), and leaves the journeys' messages, their own sales
    alert nodes' included. Delivery then sends from both; nothing is sent again."""
    with warehouse.transaction() as session:
        create(session, "journey_outbox")
        session.execute(
            "insert into journey_outbox (message_id, step_key, journey_id, channel, to_address, status, "
            "created_at, attempts) values "
            "('<m1@x>', 'j/e1/intro/1', 'j', 'email', 'p1@example.com', 'sent', '2026-11-02', 1), "
            "('<m2@x>', 'j/e2/alert/1', 'j', 'sales_alert', 'rep@example.com', 'pending', '2026-11-02', 0), "
            "('<a1@x>', 'alert/group_qualified/g1/2026-11-02T00:00:00', 'rule:group_qualified', 'sales_alert', "
            "'rep@example.com', 'sent', '2026-11-02', 1)"
        )
    done = migrate(warehouse)
    assert f"journey_outbox: version 1 -> 2 ({STEPS['journey_outbox'][0].why})" in done
    assert warehouse.fetchall("select message_id from journey_outbox order by message_id") == [
        ("<m1@x>",),
        ("<m2@x>",),
    ]
    assert warehouse.fetchall(
        "select message_id, journey_id, channel, to_address, status, attempts from sales_alert_outbox"
    ) == [("<a1@x>", "rule:group_qualified", "sales_alert", "rep@example.com", "sent", 1)]
    assert migrate(warehouse) == []
