"""Where an activation's data comes from, and the policies it would break (docs/governance.md).

Lineage runs source dataset > source field > unified field > audience or buying group > list >
destination. It is read from config (the audience filters, the role conditions, the scoring
sources) and from the SQL of each exported column (activation/linkedin.py), so a violation is known
before anything is written. A label travels along every edge; a policy is broken when an
activation performing its marketing action is reached by its labels.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import sqlglot
from sqlglot import exp

from blueprint_pipeline.activation.linkedin import COMPANY_SQL, CONTACT_SQL, MARKETO_SQL, SQL_ALIASES
from blueprint_pipeline.config.audiences import AllOf, AnyOf, EngagementFilter, FieldFilter, NotOf
from blueprint_pipeline.config.governance import DERIVED_ACTIONS
from blueprint_pipeline.config.models import BlueprintConfig
from blueprint_pipeline.errors import ConfigError

# Unified field -> the source fields it is chosen or combined from (dbt_like_sql/identity/
# unified_persons.sql, identity/accounts_and_links.py). test_lineage checks every name.
_PERSON = {
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
_ACCOUNT = {
    "account_id": ("salesforce.Account.Id",),
    "account_name": ("salesforce.Account.Name",),
    "domain": ("salesforce.Account.Website",),
    "industry": ("salesforce.Account.Industry",),
    "employees": ("salesforce.Account.NumberOfEmployees",),
    "annual_revenue": ("salesforce.Account.AnnualRevenue",),
    "billing_country": ("salesforce.Account.BillingCountry",),
    "billing_state": ("salesforce.Account.BillingState",),
    "account_type": ("salesforce.Account.Type",),
    "parent_account_id": ("salesforce.Account.ParentId",),
    "ultimate_parent_id": ("salesforce.Account.ParentId",),
    "hierarchy_level": ("salesforce.Account.ParentId",),
}
UNIFIED_SOURCES: dict[str, tuple[str, ...]] = {
    **{f"unified_persons.{k}": v for k, v in _PERSON.items()},
    **{f"unified_accounts.{k}": v for k, v in _ACCOUNT.items()},
}
# What links a person to an account (identity/links.py): CRM and Marketo ids, email domains,
# company names.
LINK_SOURCES = (
    "salesforce.Contact.AccountId",
    "salesforce.Lead.ConvertedAccountId",
    "marketo.leads.sfdcAccountId",
    "unified_persons.email",
    "unified_persons.company",
)
# Role conditions -> the person field they test.
CONDITION_FIELDS = {
    "personas": "title",
    "title_patterns": "title",
    "seniorities": "title",
    "departments": "department",
    "countries": "country",
    "custom_fields": "custom_fields",
}
# The CRM write-back's columns -> the unified field or derived node they come from.
WRITEBACK_SOURCES = {"account_id": "unified_accounts.account_id"}


@dataclass(frozen=True)
class Trail:
    """One label reaching an activation, and the way it came (first: where it was set)."""

    label: str
    path: tuple[str, ...]

    def via(self, node: str) -> Trail:
        return Trail(self.label, (*self.path, node))

    @property
    def field(self) -> str:
        """The field the label is on: the first field of the path (a dataset label is on every field)."""
        return next((p for p in self.path if not p.startswith("dataset ")), self.path[0])


@dataclass(frozen=True)
class Activation:
    destination: str
    name: str  # the list, or `write-back`
    exported: list[Trail]  # labels reaching the exported columns
    selected: list[Trail]  # labels reaching who is in it (the audience, the buying group)


@dataclass(frozen=True)
class Violation:
    destination: str
    activation: str
    policy: str
    marketing_action: str
    label: str
    field: str
    path: tuple[str, ...]

    def describe(self) -> str:
        return (
            f"{self.destination} {self.activation}: label {self.label} on {self.field} breaks policy "
            f"{self.policy} ({self.marketing_action}); path: {' > '.join(self.path)}"
        )


class Lineage:
    def __init__(self, config: BlueprintConfig):
        self.config = config
        self.governance = config.governance

    def _own(self, node: str) -> list[Trail]:
        return [Trail(label, (node,)) for label in self.governance.field_labels.get(node, [])]

    def dataset(self, name: str) -> list[Trail]:
        return [Trail(label, (f"dataset {name}",)) for label in self.governance.dataset_labels.get(name, [])]

    def source_field(self, name: str) -> list[Trail]:
        system, obj, _ = name.split(".", 2)
        return [t.via(name) for t in self.dataset(f"{system}.{obj}")] + self._own(name)

    def field(self, name: str) -> list[Trail]:
        """A unified field: its own labels and those of every source field it comes from."""
        trails = self._own(name)
        for source in UNIFIED_SOURCES.get(name, ()):
            trails += [t.via(name) for t in self.source_field(source)]
        return trails

    def links(self) -> list[Trail]:
        trails = [
            t
            for name in LINK_SOURCES
            for t in (self.field(name) if name in UNIFIED_SOURCES else self.source_field(name))
        ]
        return [t.via("person_account_links") for t in trails]

    def engagement(self) -> list[Trail]:
        """The activity datasets scoring reads (config scoring.activity_kinds)."""
        kinds = self.config.scoring.activity_kinds
        datasets = [
            dataset
            for dataset, used in (
                ("marketo.activities", kinds.marketo_activity_types or kinds.marketo_program_statuses),
                ("salesforce.CampaignMember", kinds.crm_campaign_member_statuses),
                ("linkedin.lead_gen_responses", kinds.linkedin_form_response),
                ("tracking.events", kinds.tracking_events),
            )
            if used
        ]
        return [t.via("engagement scores") for d in datasets for t in self.dataset(d)]

    def audience(self, name: str) -> list[Trail]:
        definition = self.config.audiences.audiences[name]
        trails = []
        for leaf in _leaves(definition.filter):
            if isinstance(leaf, FieldFilter):
                trails += self.field(f"unified_accounts.{leaf.field}")
            else:  # account engagement counts Marketo activities
                trails += [t.via("account engagement") for t in self.dataset("marketo.activities")]
        return [t.via(f"audience {name}") for t in trails]

    def buying_group(self, interest: str) -> list[Trail]:
        """Who is in a solution interest's buying groups: the audience's accounts, the links of
        persons to accounts, and the person fields its role conditions test."""
        definition = self.config.buying_groups.solution_interests[interest]
        template = self.config.buying_groups.role_templates[definition.role_template]
        tested = sorted(
            {CONDITION_FIELDS[key] for role in template.roles for key, value in role.conditions if value}
        )
        trails = self.audience(definition.audience)
        trails += self.links()
        trails += [t for f in tested for t in self.field(f"unified_persons.{f}")]
        return [t.via(f"buying group {interest}") for t in trails]

    def exported(self, columns: dict[str, str]) -> list[Trail]:
        """The labels on the unified fields each exported column's SQL reads."""
        return [
            t.via(f"column {name}")
            for name, sql in columns.items()
            for used in _columns_read(sql)
            for t in self.field(used)
        ]

    def activations(self) -> Iterator[Activation]:
        """Every configured activation with the labels reaching it."""
        activation = self.config.activation
        for name, company in activation.linkedin.company_lists.items():
            selected = (
                self.audience(company.audience)
                if company.audience
                else [t.via("missing roles") for t in self.buying_group(company.missing_roles_of)]
            )
            yield Activation("linkedin", name, self.exported(COMPANY_SQL), selected)
        for name, contact in activation.linkedin.contact_lists.items():
            selected = (
                self.buying_group(contact.members_of)
                if contact.members_of
                else [t.via("form visitors") for t in self.dataset("marketo.activities")]
            )
            yield Activation("linkedin", name, self.exported(CONTACT_SQL), selected)
        for name, static in activation.marketo.static_lists.items():
            selected = (
                self.buying_group(static.members_of)
                if static.members_of
                else self.audience(static.audience) + self.links()
            )
            yield Activation("marketo", name, self.exported(MARKETO_SQL), selected)
        groups = [
            t
            for interest in self.config.buying_groups.solution_interests
            for t in self.buying_group(interest)
        ]
        groups += self.engagement()
        exported = [t.via(f"column {c}") for c, f in WRITEBACK_SOURCES.items() for t in self.field(f)]
        yield Activation("crm", "write-back", exported, groups)


def _leaves(node) -> Iterator[FieldFilter | EngagementFilter]:
    if node is None:
        return
    if isinstance(node, AllOf | AnyOf):
        for child in node.all if isinstance(node, AllOf) else node.any:
            yield from _leaves(child)
    elif isinstance(node, NotOf):
        yield from _leaves(node.not_)
    else:
        yield node


def _columns_read(sql: str) -> list[str]:
    """`table.column` for every column an export's SQL expression reads (aliases resolved)."""
    return sorted({f"{SQL_ALIASES[c.table]}.{c.name}" for c in sqlglot.parse_one(sql).find_all(exp.Column)})


def violations(config: BlueprintConfig, destination: str) -> dict[str, list[Violation]]:
    """Per activation to `destination` (a list, or `write-back`), the policies it would break."""
    governance = config.governance
    found: dict[str, list[Violation]] = {}
    for activation in Lineage(config).activations():
        if activation.destination != destination:
            continue
        actions = set(governance.destinations.get(activation.destination, []))
        if any(t.label == "I1" for t in activation.exported):
            actions |= DERIVED_ACTIONS
        trails = activation.exported + activation.selected
        present = {t.label for t in trails}
        broken = []
        for name, policy in sorted(governance.policies.items()):
            if not policy.enabled or policy.marketing_action not in actions:
                continue
            if policy.match == "all" and not set(policy.labels) <= present:
                continue
            broken += [
                Violation(
                    activation.destination,
                    activation.name,
                    name,
                    policy.marketing_action,
                    t.label,
                    t.field,
                    (*t.path, f"{activation.destination} list {activation.name}"),
                )
                for t in trails
                if t.label in policy.labels
            ]
        found[activation.name] = _unique(broken)
    return found


def _unique(items: list[Violation]) -> list[Violation]:
    return list(dict.fromkeys(items))


def check_labels(config: BlueprintConfig, objects, config_file: str) -> None:
    """Raise ConfigError when a label sits on a dataset or field that does not exist: a label on a
    misspelt name would protect nothing, silently."""
    fields = {f"{o.system}.{o.name}.{c}" for o in objects for c in o.columns}
    datasets = {f"{o.system}.{o.name}" for o in objects}
    governance = config.governance
    for name in governance.dataset_labels:
        if name not in datasets:
            raise ConfigError(
                f"{config_file}: key 'dataset_labels.{name}': unknown dataset; expected system.Object, "
                f"one of {', '.join(sorted(datasets))}"
            )
    for name in governance.field_labels:
        if name not in fields and name not in UNIFIED_SOURCES:
            raise ConfigError(
                f"{config_file}: key 'field_labels.{name}': unknown field; expected a source field "
                "(system.Object.Field, as in dbt_like_sql/sources.yml) or a unified field "
                f"({', '.join(sorted(UNIFIED_SOURCES))})"
            )
