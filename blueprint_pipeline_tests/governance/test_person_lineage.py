"""The unified person fields' source fields are derived from the SQL (governance/lineage.py reads
sql_models/lineage.py), no longer written by hand. The hand map they replaced is kept here: the
derived lineage is that map, field for field, with the corrections listed below (places the
hand map missed, each with what in the SQL makes it so)."""

from __future__ import annotations

from blueprint_pipeline.core.paths import SQL_PROJECT_DIR
from blueprint_pipeline.governance.lineage import unified_sources
from blueprint_pipeline.sql_models.lineage import SourceFields
from blueprint_pipeline.sql_models.project import load_project

HAND_MAP = {
    "email": (
        "salesforce.Contact.Email",
        "salesforce.Lead.Email",
        "marketo.leads.email",
        "linkedin.lead_gen_responses.Email address",
    ),
    "first_name": (
        "salesforce.Contact.FirstName",
        "salesforce.Lead.FirstName",
        "marketo.leads.firstName",
        "linkedin.lead_gen_responses.First name",
    ),
    "last_name": (
        "salesforce.Contact.LastName",
        "salesforce.Lead.LastName",
        "marketo.leads.lastName",
        "linkedin.lead_gen_responses.Last name",
    ),
    "title": (
        "salesforce.Contact.Title",
        "salesforce.Lead.Title",
        "marketo.leads.title",
        "linkedin.lead_gen_responses.Job title",
    ),
    "department": ("salesforce.Contact.Department",),
    "country": (
        "salesforce.Contact.MailingCountry",
        "salesforce.Lead.Country",
        "marketo.leads.country",
        "linkedin.lead_gen_responses.Country/Region",
    ),
    "phone": ("salesforce.Contact.Phone", "salesforce.Contact.MobilePhone"),
    "company": (
        "salesforce.Lead.Company",
        "marketo.leads.company",
        "linkedin.lead_gen_responses.Company name",
    ),
    "email_opt_out": (
        "salesforce.Contact.HasOptedOutOfEmail",
        "salesforce.Lead.HasOptedOutOfEmail",
        "marketo.leads.unsubscribed",
    ),
    "custom_fields": (
        "salesforce.Contact.CustomFields",
        "salesforce.Lead.CustomFields",
        "marketo.leads.customFields",
        "linkedin.lead_gen_responses.answers",
    ),
}
_TURNED = "a name most records write the other way round is turned (unified_persons.sql, names)"
# Field -> (source fields the hand map missed, why).
CORRECTIONS = {
    "first_name": (set(HAND_MAP["last_name"]), _TURNED),
    "last_name": (set(HAND_MAP["first_name"]), _TURNED),
    "email_opt_out": ({"tracking.events.event"}, "an unsubscribe from a journey email is an opt-out"),
}
# Fields the hand map did not list, which labels may now name.
NEW_FIELDS = {
    "email_domain": {
        "salesforce.Contact.Email",
        "salesforce.Lead.Email",
        "marketo.leads.email",
        "linkedin.lead_gen_responses.Email address",
    },
    "email_bounced": {"tracking.events.event"},
    "sms_opt_in": {"marketo.leads.smsConsent"},
    "last_updated_at": {
        "salesforce.Contact.LastModifiedDate",
        "salesforce.Lead.LastModifiedDate",
        "marketo.leads.updatedAt",
        "linkedin.lead_gen_responses.created_date",
        "linkedin.lead_gen_responses.created_time",
    },
}


def test_the_derived_person_lineage_is_the_hand_map_with_its_corrections():
    derived = {
        name.removeprefix("unified_persons."): set(sources)
        for name, sources in unified_sources().items()
        if name.startswith("unified_persons.")
    }
    expected = {
        field: set(sources) | CORRECTIONS.get(field, (set(), ""))[0] for field, sources in HAND_MAP.items()
    }
    # The incremental build's fingerprint reads every field the person is unified from and the
    # records' ids; the name tie's flag reads the names.
    ids = {"salesforce.Contact.Id", "salesforce.Lead.Id", "marketo.leads.id"}
    ids |= {"linkedin.lead_gen_responses.lead_id", "linkedin.lead_gen_responses.form_id"}
    unified_from = set().union(*(v for k, v in (expected | NEW_FIELDS).items() if k != "custom_fields"))
    state = {
        "inputs_hash": unified_from | ids,
        "name_by_usage": set(HAND_MAP["first_name"]) | set(HAND_MAP["last_name"]),
    }
    assert derived == expected | NEW_FIELDS | state


def test_a_value_chosen_by_its_date_comes_from_the_value_not_the_date():
    # stg_salesforce__contacts takes each field's latest value (array_agg ... order by the
    # modification date): the date picks the row, it is not where the email comes from.
    fields = SourceFields(load_project(SQL_PROJECT_DIR))
    assert fields.of("stg_salesforce__contacts", "email") == {"salesforce.Contact.Email"}
    assert fields.of("stg_salesforce__contacts", "last_modified_at") == {
        "salesforce.Contact.LastModifiedDate"
    }
