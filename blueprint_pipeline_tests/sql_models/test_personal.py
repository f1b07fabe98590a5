"""What is personal data is said once, in the column catalogue's `meta.personal`, and the preview
reads only that (sql_models/published.py). The name rule the preview used before stays here as a
guard: a column whose name it would call personal but which the catalogue marks not personal must
be listed below with the reason, so a new one is a decision someone wrote down. Person ids (and
the step keys that embed them) are personal: pseudonymous, yet the UI's event log keeps them for
ever and forget cannot reach it (governance/test_forget.py searches the instance's files)."""

from __future__ import annotations

import re

import pandas as pd

from blueprint_pipeline.core.paths import SQL_PROJECT_DIR
from blueprint_pipeline.sql_models.project import load_project
from blueprint_pipeline.sql_models.published import preview_columns, published

NAME_RULE = re.compile(
    r"(^|_)(email|emails|first_name|last_name|firstname|lastname|phone|mobile_phone|title|department|"
    r"to_address|subject|body_text|body_html|unsubscribe_url|raw_record|detail|evidence|clue|answers|"
    r"custom_fields|user_agent|person_id|other_person_id|source_key|other_key|source_keys|source_records|"
    r"record_id|record_key|contact_id|lead_id|who_id|key|url|primary_attribute_value|attributes|company|"
    r"name|reason|value|matched_condition|decided_by)($|_)"
)

_ACCOUNT_NAME = "a company's name, not a person's"
_MATCHED_CONDITION = "the journey and node that made the change, from the journey's configuration"
_CODE = "a value from a closed list the platform or the source system defines"
_CONFIG_TEXT = "text from the configuration (a journey node's, a list's), never typed about a person"
_CONSENT = "a yes/no or a count about the person's records: it identifies no one"
_BUSINESS_NAME = "the name of a business object (a campaign, an opportunity, a buying group)"
_ACCOUNT_KEYS = "the source keys of CRM accounts, which are companies"

# table.column -> why a column whose name sounds personal holds nothing about a person.
NOT_PERSONAL = {
    "dashboard_accounts.account_name": _ACCOUNT_NAME,
    "dashboard_buying_groups.account_name": _ACCOUNT_NAME,
    "dashboard_sales_handoff.account_name": _ACCOUNT_NAME,
    "journey_member_events.matched_condition": _MATCHED_CONDITION,
    "account_aliases.reason": _CODE,
    "buying_groups.buying_group_name": _BUSINESS_NAME,
    "identity_shared_mailboxes.reason": _CODE,
    "int_account_activity.activity_type_name": _CODE,
    "int_identity_edges.link_reason": _CODE,
    "int_identity_nodes.object_name": _CODE,
    "journey_account_lists.list_name": _CONFIG_TEXT,
    "journey_enrolments.end_reason": _CONFIG_TEXT,
    "journey_score_adjustments.reason": _CONFIG_TEXT,
    "person_score_adjustments.reason": _CONFIG_TEXT,
    "person_account_review.reason": _CODE,
    "qualification_models.reason": "why a model did not pass or was not trained: about the model",
    "qualification_training_set.n_email_open": "a count of activities",
    "qualification_training_set.n_email_click": "a count of activities",
    "stg_marketo__activities.activity_type_name": _CODE,
    "stg_marketo__activities.primary_attribute_value_id": "the id of a marketing asset (an email, a form)",
    "stg_marketo__activity_types.activity_type_name": _CODE,
    "stg_salesforce__accounts.account_name": _ACCOUNT_NAME,
    "unified_accounts.account_name": _ACCOUNT_NAME,
    "unified_accounts.source_keys": _ACCOUNT_KEYS,
    "unified_persons.name_by_usage": _CONSENT,
    "stg_salesforce__campaigns.campaign_name": _BUSINESS_NAME,
    "stg_salesforce__deleted_records.object_name": _CODE,
    "stg_salesforce__opportunities.opportunity_name": _BUSINESS_NAME,
    "stg_salesforce__opportunities.stage_name": _CODE,
    "unified_persons.email_opt_out": _CONSENT,
    "unified_persons.email_bounced": _CONSENT,
    "unified_persons.email_source": _CODE,
    "unified_persons.source_records": _CONSENT,
    "stg_salesforce__contacts.email_opt_out": _CONSENT,
    "stg_salesforce__leads.email_opt_out": _CONSENT,
    "sales_alert_log.reason": "the alert rule's reason in words, from the group's figures",
    "person_match_scoring.reason": "why the model scored in full or in part",
    "journey_attribute_values.value": "an account attribute's value, about a company",
    "journey_outbox.hold_reason": _CODE,
    "activation_members.list_name": _CONFIG_TEXT,
    "activation_completed.list_name": _CONFIG_TEXT,
    "journey_stage_moves.actor_name": _CONFIG_TEXT,
    "journey_stage_moves.reason": _MATCHED_CONDITION,
    "journey_stage_refusals.actor_name": _CONFIG_TEXT,
    "journey_stage_refusals.reason": "the stage model's rule that refused the move, from the configuration",
    "marketo_activity_types_standard.name": _CODE,
    "sales_alert_outbox.hold_reason": _CODE,
    "sales_alert_outbox.step_key": "the alert's key: its rule, buying group and time, no person",
}


def test_every_column_the_name_rule_calls_personal_is_personal_or_listed_with_its_reason():
    disagreements = {
        f"{table}.{name}"
        for table, columns in load_project(SQL_PROJECT_DIR).column_docs().items()
        for name, doc in columns.items()
        if NAME_RULE.search(name) and not doc.personal
    }
    assert disagreements - set(NOT_PERSONAL) == set(), "mark them personal or list them with a reason"
    assert set(NOT_PERSONAL) - disagreements == set(), "no longer a disagreement: take them off"


def test_the_preview_shows_only_what_the_catalogue_says_is_not_personal():
    # unified_persons: email is personal, email_opt_out is not, `shoe_size` is not in the catalogue.
    shown = preview_columns(["person_id", "email", "email_opt_out", "shoe_size"], "unified_persons")
    assert shown == ["email_opt_out"]
    assert preview_columns(["email_opt_out"], "no_such_table") == []


def test_a_preview_of_a_listed_column_shows_it(duckdb_warehouse):
    with duckdb_warehouse.transaction() as session:
        session.replace_table(
            "dashboard_accounts",
            pd.DataFrame({"account_name": ["Orion Labs"], "contact_email": ["ann@orion.com"]}),
        )
    preview = published(duckdb_warehouse, "dashboard_accounts")["preview"].value
    assert "Orion Labs" in preview and "ann@orion.com" not in preview
    assert "1 column(s) that may identify a person are not shown" in preview
