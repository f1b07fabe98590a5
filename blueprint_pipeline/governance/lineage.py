"""Where an outbound path's data comes from, and the policies it would break (docs/governance.md).

Lineage runs source dataset > source field > unified field > audience or buying group > list,
journey step or write-back > destination. It is read from config (the audience filters, the role
conditions, the scoring sources, the journeys' entries, splits and templates) and from the SQL of
each exported column (activation/linkedin.py), so a violation is known before anything is written
or sent. A label travels along every edge; a policy is broken when an outbound path performing
its marketing action is reached by its labels.

Two kinds of outbound path, one check: activation outputs (LinkedIn and Marketo lists, the CRM
write-back) are blocked when they run (defs/activation/checks.py); what sends messages or queues
updates from config (journey steps: email, SMS, sales alert, CRM field update, LinkedIn audience;
standing sales-alert rules) refuses the config when it loads (`sender_errors`, called by
resources.load_config), before anything is sent.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache

import sqlglot
from sqlglot import exp

from blueprint_pipeline.activation.linkedin import COMPANY_SQL, CONTACT_SQL, MARKETO_SQL, SQL_ALIASES
from blueprint_pipeline.config import journeys as nodes
from blueprint_pipeline.config.audiences import AllOf, AnyOf, EngagementFilter, FieldFilter, NotOf
from blueprint_pipeline.config.governance import DERIVED_ACTIONS
from blueprint_pipeline.config.journeys import PEOPLE_ACTIONS, Journey
from blueprint_pipeline.config.models import BlueprintConfig
from blueprint_pipeline.core.errors import ConfigError
from blueprint_pipeline.core.paths import SQL_PROJECT_DIR
from blueprint_pipeline.sql_models.lineage import SourceFields
from blueprint_pipeline.sql_models.project import load_project

# Unified account field -> the source fields it comes from (identity/accounts_and_links.py builds
# the table in Python, so its lineage is not derived). The person fields' are (person_sources).
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


@cache
def person_sources() -> dict[str, tuple[str, ...]]:
    """Unified person field -> the source fields its value is chosen or combined from, derived
    from the SQL (unified_persons.sql; the custom fields audiences filter on are
    int_person_custom_fields.fields), in the contract's order."""
    project = load_project(SQL_PROJECT_DIR)
    fields = SourceFields(project)
    order = {
        f"{o.system}.{o.name}.{c}": (i, j)
        for i, o in enumerate(project.sources.values())
        for j, c in enumerate(o.columns)
    }
    found = {c: fields.of("unified_persons", c) for c in fields.columns("unified_persons")}
    found["custom_fields"] = fields.of("int_person_custom_fields", "fields")
    return {c: tuple(sorted(s, key=order.__getitem__)) for c, s in found.items() if s}


@cache
def unified_sources() -> dict[str, tuple[str, ...]]:
    """Every unified field a label or a trail may name -> its source fields."""
    return {
        **{f"unified_persons.{k}": v for k, v in person_sources().items()},
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
    "functions": "title",
    "seniorities": "title",
    "levels": "title",
    "departments": "department",
    "countries": "country",
    "custom_fields": "custom_fields",
}
# The CRM write-back's columns -> the unified field or derived node they come from.
WRITEBACK_SOURCES = {"account_id": "unified_accounts.account_id"}

# Journey node type -> the destination (governance.yaml `destinations`) whose marketing actions
# it performs. Other nodes act inside the platform (stages, statuses, lists, scores).
NODE_DESTINATIONS = {
    nodes.SendEmail: "email",
    nodes.SendSms: "sms",
    nodes.SendSalesAlert: "sales_alert",
    nodes.UpdateCrmField: "crm",
    nodes.AddToLinkedInAudience: "linkedin",
}
# Journeys that act (journeys/engine.py): a draft or finished one does nothing, an aborted one
# only ends its enrolments.
ACTING = ("test", "live", "closed")
# The address each channel sends to.
ADDRESS_FIELDS = {
    "email": "unified_persons.email",
    "sms": "unified_persons.phone",
    "sales_alert": "salesforce.User.Email",  # the account owner (alerts.routing)
}
# A journey person condition's field (config/journeys.py PERSON_FIELDS) -> the unified person
# field it is read or derived from.
PERSON_CONDITION_FIELDS = {
    "title": "title",
    "seniority": "title",
    "department": "department",
    "country": "country",
    "email_domain": "email",
}
# What the standard sales alert lists (alerts/content.py): the account, the owner, the group's
# most engaged members; its stage, score and activities come with the scored group.
SALES_ALERT_FIELDS = (
    "unified_accounts.account_name",
    "unified_accounts.domain",
    "unified_accounts.industry",
    "unified_accounts.billing_country",
    "unified_persons.first_name",
    "unified_persons.last_name",
    "unified_persons.email",
    "unified_persons.title",
    "salesforce.User.Name",
)


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
    """An outbound path: a list, the CRM write-back, or a journey node that sends."""

    destination: str
    name: str  # the list, `write-back`, or `journey <id> node <name>`
    exported: list[Trail]  # labels reaching what it carries (columns, template tokens, the address)
    selected: list[Trail]  # labels reaching who is in it (audience, buying group, entry, splits)
    reached: str = ""  # how a path ends here; default `<destination> list <name>`
    config_key: tuple[str, str] | None = None  # (section, key) of a sender refused at load

    @property
    def subject(self) -> str:
        """How a report names it: `linkedin members`, `email, journey nurture node intro`."""
        return self.reached if self.config_key else f"{self.destination} {self.name}"

    @property
    def end(self) -> str:
        return self.reached or f"{self.destination} list {self.name}"


@dataclass(frozen=True)
class Violation:
    destination: str
    activation: str
    policy: str
    marketing_action: str
    label: str
    field: str
    path: tuple[str, ...]
    subject: str = ""

    def describe(self) -> str:
        return (
            f"{self.subject or f'{self.destination} {self.activation}'}: label {self.label} on {self.field} "
            f"breaks policy {self.policy} ({self.marketing_action}); path: {' > '.join(self.path)}"
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
        for source in unified_sources().get(name, ()):
            trails += [t.via(name) for t in self.source_field(source)]
        return trails

    def links(self) -> list[Trail]:
        trails = [
            t
            for name in LINK_SOURCES
            for t in (self.field(name) if name in unified_sources() else self.source_field(name))
        ]
        return [t.via("person_account_links") for t in trails]

    def activities(self) -> list[Trail]:
        """The activity datasets scoring reads (config scoring.activity_kinds): the activity kinds
        journeys listen for and count are these."""
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
        return [t for d in datasets for t in self.dataset(d)]

    def engagement(self) -> list[Trail]:
        return [t.via("engagement scores") for t in self.activities()]

    def account_filter(self, node) -> list[Trail]:
        """The labels an audience filter tree tests: account fields; engagement counts Marketo activities."""
        trails = []
        for leaf in _leaves(node):
            if isinstance(leaf, FieldFilter):
                trails += self.field(f"unified_accounts.{leaf.field}")
            else:
                trails += [t.via("account engagement") for t in self.dataset("marketo.activities")]
        return trails

    def audience(self, name: str) -> list[Trail]:
        definition = self.config.audiences.audiences[name]
        return [t.via(f"audience {name}") for t in self.account_filter(definition.filter)]

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

    def scored_group(self, interest: str) -> list[Trail]:
        """A buying group's stage, score or readiness: the group and the engagement behind them."""
        return self.buying_group(interest) + [t.via(f"buying group {interest}") for t in self.engagement()]

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
        # The write-back also carries the journeys' CRM field updates (account_updates.csv).
        groups += [
            t.via(node.end)
            for node in self.journey_nodes()
            if node.destination == "crm"
            for t in node.selected
        ]
        exported = [t.via(f"column {c}") for c, f in WRITEBACK_SOURCES.items() for t in self.field(f)]
        yield Activation("crm", "write-back", exported, groups, reached="crm write-back")

    # --- journeys -------------------------------------------------------------------------------

    def journey_nodes(self) -> Iterator[Activation]:
        """Every node of an acting journey that sends something out, with the labels reaching it."""
        for journey_id, journey in self.config.journeys.journeys.items():
            if journey.status not in ACTING:
                continue
            for name, node in journey.nodes.items():
                if type(node) in NODE_DESTINATIONS:
                    yield self._journey_node(journey_id, journey, name)

    def _journey_node(self, journey_id: str, journey: Journey, name: str) -> Activation:
        node, interest = journey.nodes[name], journey.solution_interest
        destination = NODE_DESTINATIONS[type(node)]
        selected = self.journey_selected(journey_id, journey, name, frozenset())
        exported: list[Trail] = []
        if isinstance(node, nodes.SendEmail | nodes.SendSms):
            under = node.to.members == "under_engaged"
            recipients = self.scored_group(interest) if under else self.buying_group(interest)
            selected += [t.via("recipients") for t in recipients]
        if isinstance(node, nodes.SendSalesAlert):
            exported += self.standard_alert()
            exported += [t.via("standard alert") for t in self.scored_group(interest)]
            selected += self.routing()
        if getattr(node, "template", None):
            exported += self.template(node.template, interest)
        if destination in ADDRESS_FIELDS:
            exported += [t.via("address") for t in self.any_field(ADDRESS_FIELDS[destination])]
        if isinstance(node, nodes.UpdateCrmField | nodes.AddToLinkedInAudience):
            exported += [t.via("account id") for t in self.field("unified_accounts.account_id")]
        return Activation(
            destination,
            f"journey {journey_id} node {name}",
            exported,
            selected,
            reached=f"{destination}, journey {journey_id} node {name}",
            config_key=("journeys", f"journeys.{journey_id}.nodes.{name}"),
        )

    def alert_rules(self) -> Iterator[Activation]:
        """Every standing sales-alert rule: the groups it watches (their stage, score and
        completeness) and the standard alert it sends, routed like a journey's."""
        interests = self.config.buying_groups.solution_interests
        for name, rule in self.config.alerts.rules.items():
            watched = [t for i in (rule.solution_interests or interests) for t in self.scored_group(i)]
            selected = [t.via(f"alert rule {name}") for t in watched] + self.routing()
            exported = self.standard_alert()
            exported += [t.via("address") for t in self.any_field(ADDRESS_FIELDS["sales_alert"])]
            yield Activation(
                "sales_alert",
                f"alert rule {name}",
                exported,
                selected,
                reached=f"sales_alert, alert rule {name}",
                config_key=("alerts", f"rules.{name}"),
            )

    def standard_alert(self) -> list[Trail]:
        """What the standard sales alert lists (the account, the owner, the group's people)."""
        return [t.via("standard alert") for f in SALES_ALERT_FIELDS for t in self.any_field(f)]

    def routing(self) -> list[Trail]:
        """The account fields the alert territories test (they choose who gets an alert)."""
        territories = self.config.alerts.routing.territories
        return [
            t.via(f"territory {terr.name}") for terr in territories for t in self.account_filter(terr.when)
        ]

    def any_field(self, name: str) -> list[Trail]:
        return self.field(name) if name in unified_sources() else self.source_field(name)

    def template(self, name: str, interest: str) -> list[Trail]:
        """The labels on the fields a message template fills (subject, text and HTML), each token
        followed to its source in journeys/validate.TOKEN_SOURCES, the renderer's one list."""
        from blueprint_pipeline.journeys.validate import (
            BUYING_GROUP,
            CONFIG,
            SCORED_BUYING_GROUP,
            TOKEN_SOURCES,
            template_tokens,
        )

        template = self.config.journeys.templates[name]
        used = sorted(
            {
                t
                for part in (template.subject, template.text, template.html or "")
                for t in template_tokens(part)
            }
        )
        trails = []
        for token in used:
            source = TOKEN_SOURCES.get(token)
            if source == BUYING_GROUP:
                filled = self.buying_group(interest)
            elif source == SCORED_BUYING_GROUP:
                filled = self.scored_group(interest)
            elif source == CONFIG:
                filled = []
            elif source in unified_sources():
                filled = self.field(source)
            else:  # a token nobody said the data of: never passed unchecked
                raise ConfigError(
                    f"templates.{name}: token {token!r} has no known source ({source!r}); "
                    "journeys/validate.py TOKEN_SOURCES names the data each token is filled from"
                )
            trails += [t.via(f"token {token}") for t in filled]
        return [t.via(f"template {name}") for t in trails]

    def journey_selected(self, journey_id: str, journey: Journey, name: str, seen: frozenset) -> list[Trail]:
        """What decides that an account reaches node `name`: the entry trigger, the exit criteria,
        and the conditions of every node on a way to it (splits, listens, and the people actions
        that change the group and scores later nodes read). Static, like the rest: every way counts."""
        trails = [
            t.via(f"entry of journey {journey_id}") for t in self._entry(journey, seen | {(journey_id, name)})
        ]
        trails += [t.via(f"exit criteria of journey {journey_id}") for t in self._exit(journey)]
        for before in sorted(_ancestors(journey, name)):
            trails += [
                t.via(f"node {before} of journey {journey_id}") for t in self._conditions(journey, before)
            ]
        return trails

    def _entry(self, journey: Journey, seen: frozenset) -> list[Trail]:
        entry, interest = journey.entry, journey.solution_interest
        if entry.audience:
            return self.audience(entry.audience)
        if entry.account_list:  # the accounts other journeys' add_to_list nodes put there
            return [
                t.via(f"node {name} of journey {other_id}").via(f"account list {entry.account_list}")
                for other_id, other in self.config.journeys.journeys.items()
                if other.status in ACTING
                for name, node in other.nodes.items()
                if isinstance(node, nodes.ListAction)
                and node.type == "add_to_list"
                and node.list == entry.account_list
                and (other_id, name) not in seen
                for t in self.journey_selected(other_id, other, name, seen)
            ]
        if entry.buying_group_stage:
            return self.scored_group(interest)
        if entry.account_attribute_change:
            return self.field(f"unified_accounts.{entry.account_attribute_change}")
        return self.buying_group(interest)  # buying_group_created

    def _exit(self, journey: Journey) -> list[Trail]:
        """Stage and opportunity exits; the opt-out exit is consent, which no label can forbid honouring."""
        trails = self.scored_group(journey.solution_interest) if journey.exit_when.stage_reached else []
        if journey.exit_when.opportunity_created:
            trails += self.dataset("salesforce.Opportunity")
        return trails

    def _conditions(self, journey: Journey, name: str) -> list[Trail]:
        node, interest = journey.nodes[name], journey.solution_interest
        conditions = []
        if isinstance(node, nodes.SplitAccounts | nodes.SplitPeople):
            conditions = [p.when for p in node.paths]
        elif isinstance(node, PEOPLE_ACTIONS) and not isinstance(node, nodes.SendEmail | nodes.SendSms):
            conditions = [node.people]
        trails = []
        for condition in conditions:
            if isinstance(condition, nodes.AccountCondition):
                trails += self.account_filter(condition.account)
                if condition.buying_group:
                    trails += self._group_condition(condition.buying_group, interest)
            elif isinstance(condition, nodes.PersonCondition):
                trails += [
                    t
                    for f in condition.fields
                    for t in self.field(f"unified_persons.{PERSON_CONDITION_FIELDS[f.field]}")
                ]
                trails += [t.via("activities") for t in self.activities()] if condition.activity else []
                trails += (
                    self.buying_group(interest) if condition.roles or condition.member is not None else []
                )
        if isinstance(node, nodes.Listen):
            event = node.event
            if event.activity_kind or event.form_fill:
                trails += [t.via("activities") for t in self.activities()]
            if event.stage_reached or event.score_at_least is not None:
                trails += self.scored_group(interest)
        return trails

    def _group_condition(self, condition: nodes.BuyingGroupCondition, interest: str) -> list[Trail]:
        scored = condition.stages or condition.readiness_tiers or condition.score_at_least is not None
        scored = scored or condition.score_below is not None
        return self.scored_group(interest) if scored else self.buying_group(interest)


def _ancestors(journey: Journey, name: str) -> set[str]:
    """The nodes from which `name` can be reached (not itself, unless on a cycle)."""
    before: dict[str, set[str]] = {}
    for source, node in journey.nodes.items():
        for target in [*node.targets(), *([node.merge] if isinstance(node, nodes.SplitPeople) else [])]:
            before.setdefault(target, set()).add(source)
    found, todo = set(), [name]
    while todo:
        for source in before.get(todo.pop(), ()):
            if source not in found:
                found.add(source)
                todo.append(source)
    return found


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
    return {
        activation.name: broken(config, activation)
        for activation in Lineage(config).activations()
        if activation.destination == destination
    }


def sender_violations(config: BlueprintConfig) -> dict[tuple[str, str], list[Violation]]:
    """Per journey node that sends something out and per standing alert rule, keyed by (config
    section, key), the policies it would break (only those that break one)."""
    lineage = Lineage(config)
    senders = [*lineage.journey_nodes(), *lineage.alert_rules()]
    found = {sender.config_key: broken(config, sender) for sender in senders}
    return {key: violations for key, violations in found.items() if violations}


def broken(config: BlueprintConfig, activation: Activation) -> list[Violation]:
    """The policies an outbound path breaks: an enabled policy on one of the marketing actions its
    destination performs, reached by its labels. An export (data_export) carrying an I1 field also
    performs combine_with_pii; an email, SMS or alert is not an export unless you say so."""
    governance = config.governance
    actions = set(governance.destinations.get(activation.destination, []))
    if "data_export" in actions and any(t.label == "I1" for t in activation.exported):
        actions |= DERIVED_ACTIONS
    trails = activation.exported + activation.selected
    present = {t.label for t in trails}
    found = []
    for name, policy in sorted(governance.policies.items()):
        if not policy.enabled or policy.marketing_action not in actions:
            continue
        if policy.match == "all" and not set(policy.labels) <= present:
            continue
        found += [
            Violation(
                activation.destination,
                activation.name,
                name,
                policy.marketing_action,
                t.label,
                t.field,
                (*t.path, activation.end),
                activation.subject,
            )
            for t in trails
            if t.label in policy.labels
        ]
    return _unique(found)


def sender_errors(config: BlueprintConfig) -> list[tuple[str, str, str]]:
    """A config error when a policy forbids what a journey node or an alert rule sends: (section
    and key of the first one refused, the report of every violation), so nothing is sent until
    the journey, the rule, the labels or the policy change."""
    found = sender_violations(config)
    if not found:
        return []
    section, key = next(iter(found))
    lines = [v.describe() for vs in found.values() for v in vs]
    message = (
        f"refused by governance.yaml: a policy forbids what {len(found)} journey node(s) or alert "
        f"rule(s) would send ({', '.join(k for _, k in found)}); change them, the labels or the policy. "
        f"{len(lines)} violation(s):\n" + "\n".join(f"  - {line}" for line in lines)
    )
    return [(section, key, message)]


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
        if name not in fields and name not in unified_sources():
            raise ConfigError(
                f"{config_file}: key 'field_labels.{name}': unknown field; expected a source field "
                "(system.Object.Field, as in dbt_like_sql/sources.yml) or a unified field "
                f"({', '.join(sorted(unified_sources()))})"
            )
