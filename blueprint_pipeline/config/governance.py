"""Config section `governance`: how long data is kept, and which data may go where
(docs/governance.md).

Data-usage labels follow the B2B customer data platforms' scheme: contract labels C1-C12, identity
labels I1-I2, sensitive labels S1-S2, plus labels you define. Labels sit on source datasets (every
field of the dataset carries them) and on fields (a source field, `system.Object.Field`, or a
unified field, `unified_persons.email`). Destinations declare the marketing actions they perform;
a policy names a marketing action and the labels it may not touch. The lineage check
(blueprint_pipeline/governance/lineage.py) enforces them on every outbound path: activation
outputs are blocked when they run; journey nodes and sales-alert rules that would send forbidden
data refuse the config when it loads.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from blueprint_pipeline.config.base import StrictModel, checked_names, without_nulls

# Dataset -> what expiring means (the rows, the tables, the time that decides).
RETAINABLE = {
    "marketo_activities": "Marketo activities (raw and staged) older than the limit, by their activity time",
    "tracking_events": "tracking events (raw and staged) older than the limit, by when they happened",
    "journey_step_log": "journey steps older than the limit",
    "journey_outbox": "sent, held, bounced or failed messages older than the limit (pending ones stay), "
    "the journeys' and the sales alerts'",
    "sales_alert_log": "sales alert records older than the limit",
    "buying_group_snapshots": "daily buying-group snapshots (and their role rows) older than the limit",
}

CORE_LABELS = {
    "C1": "exported only in aggregate, without individual or device identifiers",
    "C2": "not exported to a third party",
    "C3": "not combined with directly identifiable data (I1)",
    "C4": "not used to target ads, on-site or cross-site",
    "C5": "not used for interest-based, cross-site targeting of content or ads",
    "C6": "not used to target ads on your own sites",
    "C7": "not used to target content on your own sites",
    "C8": "not used to measure your sites or apps",
    "C9": "not used in data science",
    "C10": "not used to activate stitched identities",
    "C11": "not shared with segment-match partners",
    "C12": "not exported in any way",
    "I1": "directly identifiable: a name, an email address, a phone number",
    "I2": "indirectly identifiable: a system, device or cookie id",
    "S1": "precise geolocation (latitude and longitude)",
    "S2": "broad geolocation (a geofence area)",
}

CORE_ACTIONS = {
    "data_export": "the data leaves the platform as a file or an API call",
    "export_to_third_party": "the data goes to another company (an ad network, a data partner)",
    "cross_site_targeting": "ads or content targeted on other companies' sites",
    "onsite_advertising": "ads targeted on your own sites",
    "onsite_personalization": "content personalised on your own sites",
    "email_targeting": "people chosen for emails, and the data the emails carry",
    "sms_targeting": "people chosen for text messages, and the data the messages carry",
    "crm_update": "the data chooses or fills records written back to the CRM",
    "sales_alert": "the data chooses or fills alerts to sales (they list the group's people)",
    "data_science": "data used to train or run models",
    "analytics": "data used to measure sites, apps and campaigns",
    "combine_with_pii": "data exported beside directly identifiable (I1) fields; added by the check itself "
    "to a path performing data_export that carries an I1 field",
}
DERIVED_ACTIONS = {"combine_with_pii"}  # the check adds it when a data_export carries an I1 field
# Activation outputs (blocked when they run) and journey channels (a journey sending to one that a
# policy forbids is refused when the config loads). Journey CRM updates go to `crm`, journey
# LinkedIn audiences to `linkedin`.
DESTINATIONS = ("linkedin", "marketo", "crm", "email", "sms", "sales_alert")


class Retention(StrictModel):
    older_than_days: int = Field(gt=0, description="rows older than this many days before the run expire")


class Policy(StrictModel):
    """An activation performing `marketing_action` may not touch data carrying `labels` (any one of
    them, or all of them together with `match: all`)."""

    description: str = ""
    marketing_action: str
    labels: list[str] = Field(min_length=1)
    match: Literal["any", "all"] = "any"
    enabled: bool = True


class GovernanceConfig(StrictModel):
    retention: dict[str, Retention | None] = Field(
        default_factory=dict, description="dataset -> how long it is kept; `null`: kept for ever"
    )
    custom_labels: dict[str, str] = Field(
        default_factory=dict, description="your own labels beside the core ones: name -> meaning"
    )
    dataset_labels: dict[str, list[str] | None] = Field(
        default_factory=dict, description="source dataset (system.Object) -> labels every field of it carries"
    )
    field_labels: dict[str, list[str] | None] = Field(
        default_factory=dict,
        description="source field (system.Object.Field) or unified field (unified_persons.email) -> labels",
    )
    custom_marketing_actions: dict[str, str] = Field(
        default_factory=dict, description="your own marketing actions: name -> meaning"
    )
    destinations: dict[str, list[str]] = Field(
        default_factory=dict, description="destination -> the marketing actions an activation to it performs"
    )
    policies: dict[str, Policy] = Field(default_factory=dict)

    _policy_names = field_validator("policies")(checked_names("policy"))
    _action_names = field_validator("custom_marketing_actions")(checked_names("marketing action"))

    @field_validator("retention")
    @classmethod
    def _known(cls, value: dict) -> dict:
        unknown = sorted(set(value) - set(RETAINABLE))
        if unknown:
            raise ValueError(f"datasets {unknown} have no retention; expected some of {sorted(RETAINABLE)}")
        return {name: rule for name, rule in value.items() if rule is not None}

    _removed = field_validator("dataset_labels", "field_labels")(without_nulls)

    @field_validator("custom_labels")
    @classmethod
    def _label_names(cls, value: dict[str, str]) -> dict[str, str]:
        clash = sorted(set(value) & set(CORE_LABELS))
        if clash:
            raise ValueError(f"labels {clash} are core labels: choose other names")
        bad = sorted(k for k in value if not k.replace("_", "").isalnum())
        if bad:
            raise ValueError(f"label names {bad} must be letters, digits and _")
        return value

    @model_validator(mode="after")
    def _references(self) -> GovernanceConfig:
        labels = set(CORE_LABELS) | set(self.custom_labels)
        actions = set(CORE_ACTIONS) | set(self.custom_marketing_actions)
        where = [(f"dataset_labels.{k}", v) for k, v in self.dataset_labels.items()]
        where += [(f"field_labels.{k}", v) for k, v in self.field_labels.items()]
        where += [(f"policies.{k}.labels", p.labels) for k, p in self.policies.items()]
        for key, used in where:
            unknown = sorted(set(used) - labels)
            if unknown:
                raise ValueError(f"{key}: unknown labels {unknown}; core labels are C1-C12, I1-I2, S1-S2, "
                                 "others go in custom_labels")  # fmt: skip
        for name, performed in self.destinations.items():
            if name not in DESTINATIONS:
                raise ValueError(f"destinations.{name}: unknown destination; expected one of {DESTINATIONS}")
            unknown = sorted(set(performed) - actions)
            if unknown:
                raise ValueError(f"destinations.{name}: unknown marketing actions {unknown} "
                                 f"({sorted(actions)}; yours go in custom_marketing_actions)")  # fmt: skip
        for name, policy in self.policies.items():
            if policy.marketing_action not in actions:
                raise ValueError(f"policies.{name}.marketing_action: {policy.marketing_action!r} is not a "
                                 f"marketing action ({sorted(actions)})")  # fmt: skip
        return self
