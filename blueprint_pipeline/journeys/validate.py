"""Journey checks that need other config sections (audiences, roles, stages, activity kinds) and
the template tokens: every name a journey uses must exist, and every token a template uses must be
one we fill, so a message never goes out with a blank where a name should be."""

from __future__ import annotations

from collections.abc import Iterator

from jinja2 import TemplateSyntaxError, nodes
from jinja2.sandbox import SandboxedEnvironment

from blueprint_pipeline.config.audiences import ACCOUNT_FIELDS
from blueprint_pipeline.config.journeys import (
    PEOPLE_ACTIONS,
    AccountCondition,
    AssignToBuyingGroup,
    Journey,
    JourneysConfig,
    Listen,
    PersonCondition,
    SendEmail,
    SendSalesAlert,
    SendSms,
    SplitAccounts,
    SplitPeople,
    UpdateStage,
)

CHANNELS = {SendEmail: "email", SendSalesAlert: "email", SendSms: "sms"}  # a node's template channel

# Where a token's value comes from, for the lineage check (governance/lineage.py, which follows
# each to the labels of its data): a unified field (`table.column`), a buying group (its accounts,
# members and the person fields its roles test), a buying group's scores (stage, score, readiness:
# the engagement behind them too), or the config alone (no data).
BUYING_GROUP = "buying group"
SCORED_BUYING_GROUP = "buying group scores"
CONFIG = "config"

# The one list of template tokens: what templates may use and where the renderer fills each from
# (journeys/engine.py `_tokens`, from journeys/world.py). Validation accepts exactly these and the
# lineage check refuses any token it has no source for, so a token cannot be added without saying
# which data it carries.
TOKEN_SOURCES: dict[str, str] = {
    "account.id": "unified_accounts.account_id",
    "account.name": "unified_accounts.account_name",
    "account.domain": "unified_accounts.domain",
    "account.industry": "unified_accounts.industry",
    "account.employees": "unified_accounts.employees",
    "account.country": "unified_accounts.billing_country",
    **{f"person.{f}": f"unified_persons.{f}" for f in ("first_name", "last_name", "email", "title", "phone")},
    "buying_group.name": BUYING_GROUP,
    "buying_group.stage": SCORED_BUYING_GROUP,
    "buying_group.status": BUYING_GROUP,
    "buying_group.completeness": BUYING_GROUP,
    "buying_group.score": SCORED_BUYING_GROUP,
    "buying_group.missing_roles": BUYING_GROUP,
    "buying_group.members": BUYING_GROUP,
    "buying_group.readiness_tier": SCORED_BUYING_GROUP,
    "solution_interest.name": CONFIG,
    "solution_interest.description": CONFIG,
    "solution_interest.business_outcome": CONFIG,
    "journey.name": CONFIG,
    "unsubscribe_url": CONFIG,  # signed from the message token and the person's id, no field
}


def _by_head(tokens) -> dict[str, tuple[str, ...]]:
    heads: dict[str, tuple[str, ...]] = {}
    for token in tokens:
        head, _, attr = token.partition(".")
        heads[head] = heads.get(head, ()) + ((attr,) if attr else ())
    return heads


# Name -> its fields (empty: a token without fields), for the messages of token_errors.
TOKENS: dict[str, tuple[str, ...]] = _by_head(TOKEN_SOURCES)
SANDBOX = SandboxedEnvironment(autoescape=False)


def template_tokens(source: str) -> Iterator[str]:
    """`name` or `name.attr` for every variable the template reads (raises TemplateSyntaxError)."""
    tree = SANDBOX.parse(source)
    attributes = set()
    for node in tree.find_all(nodes.Getattr):
        if isinstance(node.node, nodes.Name):
            attributes.add(id(node.node))
            yield f"{node.node.name}.{node.attr}"
    for node in tree.find_all(nodes.Name):
        if node.ctx == "load" and id(node) not in attributes:
            yield node.name


def token_errors(config: JourneysConfig) -> list[tuple[str, str]]:
    errors = []
    for name, template in config.templates.items():
        for part in ("subject", "text", "html"):
            source = getattr(template, part)
            if not source:
                continue
            try:
                used = sorted(set(template_tokens(source)))
            except TemplateSyntaxError as exc:
                errors.append(
                    (f"templates.{name}.{part}", f"not a valid template: {exc.message} (line {exc.lineno})")
                )
                continue
            for token in used:
                head, _, attr = token.partition(".")
                if head not in TOKENS:
                    errors.append(
                        (f"templates.{name}.{part}", f"unknown token {token!r}; tokens are {sorted(TOKENS)}")
                    )
                elif attr and attr not in TOKENS[head]:
                    errors.append(
                        (
                            f"templates.{name}.{part}",
                            f"unknown token {token!r}; {head} has {list(TOKENS[head])}",
                        )
                    )
                elif not attr and TOKENS[head]:
                    errors.append(
                        (
                            f"templates.{name}.{part}",
                            f"token {head!r} needs a field, e.g. {head}.{TOKENS[head][0]}",
                        )
                    )
                elif head == "unsubscribe_url" and template.channel != "email":
                    errors.append((f"templates.{name}.{part}", "unsubscribe_url is for email templates"))
    return errors


def reference_errors(config) -> list[tuple[str, str, str]]:
    """(section, key path, message) for each name a journey uses that is not defined; `config` is
    the whole BlueprintConfig."""
    journeys: JourneysConfig = config.journeys
    errors = [("journeys", key, message) for key, message in token_errors(journeys)]
    kinds = _activity_kinds(config)
    for name, journey in journeys.journeys.items():
        for key, message in _journey_errors(config, journey, kinds):
            errors.append(("journeys", f"journeys.{name}.{key}", message))
    return errors


def _activity_kinds(config) -> set[str]:
    found = config.scoring.activity_kinds
    kinds = {
        k
        for mapping in (
            found.marketo_activity_types,
            found.marketo_program_statuses,
            found.crm_campaign_member_statuses,
            found.tracking_events,
        )
        for k in mapping.values()
        if k
    }
    return kinds | ({found.linkedin_form_response} if found.linkedin_form_response else set())


def _journey_errors(config, journey: Journey, kinds: set[str]) -> Iterator[tuple[str, str]]:
    interest = config.buying_groups.solution_interests.get(journey.solution_interest)
    if interest is None:
        yield (
            "solution_interest",
            (
                f"{journey.solution_interest!r} is not a solution interest "
                f"({sorted(config.buying_groups.solution_interests)})"
            ),
        )
        return
    roles = [r.name for r in config.buying_groups.role_templates[interest.role_template].roles]
    model = config.stages.models.get(interest.stage_model)
    stages = list(model.stage_types) if model else []
    templates = config.journeys.templates

    def role(key: str, value: str):
        if value not in roles:
            yield key, f"{value!r} is not a role of template {interest.role_template!r} ({roles})"

    def stage(key: str, value: str):
        if value not in stages:
            yield key, f"{value!r} is not a stage of model {interest.stage_model!r} ({stages})"

    def kind(key: str, value: str):
        if value not in kinds:
            yield key, f"{value!r} is not an activity kind in scoring.yaml ({sorted(kinds)})"

    entry = journey.entry
    if entry.audience and entry.audience not in config.audiences.audiences:
        yield (
            "entry.audience",
            f"{entry.audience!r} is not an audience ({sorted(config.audiences.audiences)})",
        )
    if entry.buying_group_stage:
        yield from stage("entry.buying_group_stage", entry.buying_group_stage)
    if entry.account_attribute_change and entry.account_attribute_change not in ACCOUNT_FIELDS:
        yield (
            "entry.account_attribute_change",
            (f"{entry.account_attribute_change!r} is not an account field ({sorted(ACCOUNT_FIELDS)})"),
        )
    for value in journey.exit_when.stage_reached:
        yield from stage("exit_when.stage_reached", value)

    for name, node in journey.nodes.items():
        at = f"nodes.{name}"
        channel = CHANNELS.get(type(node))
        if channel and node.template is not None:
            template = templates.get(node.template)
            if template is None:
                yield f"{at}.template", f"{node.template!r} is not a template ({sorted(templates)})"
            elif template.channel != channel:
                yield (
                    f"{at}.template",
                    f"{node.template!r} is a {template.channel} template; {node.type} needs {channel}",
                )
        if isinstance(node, SendSalesAlert) and node.template in templates:
            template = templates[node.template]
            used = {
                t
                for part in (template.subject, template.text, template.html or "")
                for t in template_tokens(part)
            }
            personal = sorted(t for t in used if t.startswith("person.") or t == "unsubscribe_url")
            if personal:
                yield (
                    f"{at}.template",
                    f"a sales alert goes to sales, not to a person: {personal} cannot be used",
                )
        if isinstance(node, SendEmail | SendSms):
            for value in node.to.roles:
                yield from role(f"{at}.to.roles", value)
        if isinstance(node, UpdateStage):
            yield from stage(f"{at}.to_stage", node.to_stage)
        if isinstance(node, AssignToBuyingGroup):
            yield from role(f"{at}.role", node.role)
        if isinstance(node, Listen):
            if node.event.stage_reached:
                yield from stage(f"{at}.event.stage_reached", node.event.stage_reached)
            if node.event.activity_kind:
                yield from kind(f"{at}.event.activity_kind", node.event.activity_kind)
        conditions: list[tuple[str, AccountCondition | PersonCondition]] = []
        if isinstance(node, SplitAccounts | SplitPeople):
            conditions = [(f"{at}.paths.{p.name}.when", p.when) for p in node.paths]
        elif isinstance(node, PEOPLE_ACTIONS) and not isinstance(node, SendEmail | SendSms):
            conditions = [(f"{at}.people", node.people)]
        for key, condition in conditions:
            if isinstance(condition, AccountCondition) and condition.buying_group:
                for value in condition.buying_group.stages:
                    yield from stage(f"{key}.buying_group.stages", value)
                for count in condition.buying_group.role_members:
                    yield from role(f"{key}.buying_group.role_members", count.role)
            if isinstance(condition, PersonCondition):
                for value in condition.roles:
                    yield from role(f"{key}.roles", value)
                for value in condition.activity.kinds if condition.activity else []:
                    yield from kind(f"{key}.activity.kinds", value)
