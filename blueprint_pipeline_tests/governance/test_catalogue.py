"""Forget reads each column's role from the column catalogue (governance/catalogue.py): the
append-only logs it redacts and the message tables it scrubs for names, worked out by hand."""

from __future__ import annotations

from blueprint_pipeline.governance.catalogue import mention_tables, redacted_columns


def test_the_logs_forget_redacts_and_the_columns_it_empties():
    assert {t: sorted(c) for t, c in redacted_columns().items()} == {
        "buying_group_member_events": ["matched_condition", "person_id"],
        "journey_member_events": ["matched_condition", "person_id"],
        "journey_outbox": sorted(
            ["person_id", "to_address", "subject", "body_text", "body_html", "unsubscribe_url", "last_error"]
        ),
        "sales_alert_outbox": sorted(
            ["person_id", "to_address", "subject", "body_text", "body_html", "unsubscribe_url", "last_error"]
        ),
        "journey_score_adjustments": ["person_id"],
        "journey_step_log": ["detail", "person_id"],
        "person_id_history": ["other_person_id", "person_id"],
        "person_score_adjustments": ["person_id"],
    }


def test_the_platforms_messages_are_scrubbed_for_names():
    assert mention_tables() == {"journey_outbox", "sales_alert_outbox", "sales_alert_log"}
