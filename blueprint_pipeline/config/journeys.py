"""Config section `journeys`: account journeys, message templates and communication limits
(docs/journeys.md).

A journey is a graph of named nodes, each with a `type`. Checks that need only this section (node
names, unreachable nodes, cycles without a wait, template channels, split percentages) run here;
those that need other sections (audiences, roles, stages) and the template tokens run in
`blueprint_pipeline/journeys/validate.py`, called by the loader.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator, model_validator

from blueprint_pipeline.config.alerts import email_address
from blueprint_pipeline.config.audiences import Filter
from blueprint_pipeline.config.base import NAME, StrictModel, checked_names

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
PERSON_FIELDS = ("title", "department", "country", "seniority", "email_domain")


# --- conditions -------------------------------------------------------------------------------


class RoleCount(StrictModel):
    role: str
    at_least: int = Field(default=1, ge=0)


class BuyingGroupCondition(StrictModel):
    """About the account's buying group for the journey's solution interest; all given must hold."""

    stages: list[str] = Field(default_factory=list, description="its current stage is one of these")
    completeness_at_least: float | None = Field(default=None, ge=0, le=1)
    score_at_least: float | None = Field(default=None, ge=0)
    score_below: float | None = Field(default=None, gt=0)
    role_members: list[RoleCount] = Field(default_factory=list, description="e.g. at least 3 decision makers")
    readiness_tiers: list[Literal["fast_track", "nurture", "long_term"]] = Field(
        default_factory=list,
        description="its readiness tier (readiness_scores) is one of these; an unscored group matches none",
    )


class AccountCondition(StrictModel):
    """`account`: an audience filter tree over the account's fields; `buying_group`: about its group."""

    account: Filter | None = None
    buying_group: BuyingGroupCondition | None = None

    @model_validator(mode="after")
    def _something(self) -> AccountCondition:
        if self.account is None and self.buying_group is None:
            raise ValueError("give account, buying_group or both")
        return self


class PersonField(StrictModel):
    field: Literal[PERSON_FIELDS]  # type: ignore[valid-type]
    op: Literal["eq", "ne", "in", "not_in", "contains"]
    value: str | list[str]


class ActivityCondition(StrictModel):
    """At least `at_least` (or, for inactivity, at most `at_most`) activities of `kinds` in the
    `within_days` before now."""

    kinds: list[str] = Field(min_length=1)
    within_days: int = Field(gt=0, le=3650)
    at_least: int | None = Field(default=None, ge=1)
    at_most: int | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _one(self) -> ActivityCondition:
        if (self.at_least is None) == (self.at_most is None):
            raise ValueError("give exactly one of at_least or at_most (at_most: 0 means inactive)")
        return self


class PersonCondition(StrictModel):
    """All given must hold: fields of the unified person, their activity, their role in the group."""

    fields: list[PersonField] = Field(default_factory=list)
    activity: ActivityCondition | None = None
    roles: list[str] = Field(default_factory=list, description="member of the group in one of these roles")
    member: bool | None = Field(default=None, description="true: members only; false: non-members only")


class Recipients(StrictModel):
    """Who of the account gets a message: all buying-group members, members in given roles, or
    members of under-engaged roles (person score below `under_engaged_below`)."""

    members: Literal["all", "roles", "under_engaged"] = "all"
    roles: list[str] = Field(default_factory=list)
    under_engaged_below: float = Field(default=5, ge=0)

    @model_validator(mode="after")
    def _roles(self) -> Recipients:
        if self.members == "roles" and not self.roles:
            raise ValueError("members: roles needs a list of roles")
        return self


# --- nodes ------------------------------------------------------------------------------------


class _Step(StrictModel):
    next: str = Field(description="the node that follows")

    def targets(self) -> list[str]:
        return [self.next]


class SendEmail(_Step):
    type: Literal["send_email"]
    template: str
    to: Recipients = Field(default_factory=Recipients)


class SendSms(_Step):
    type: Literal["send_sms"]
    template: str
    to: Recipients = Field(default_factory=Recipients)


class SendSalesAlert(_Step):
    """The standard alert (docs/alerts.md), routed by config `alerts.routing`; a `template`'s text
    goes at its top as a note, and its subject replaces the standard one."""

    type: Literal["send_sales_alert"]
    template: str | None = None


class UpdateStage(_Step):
    type: Literal["update_stage"]
    to_stage: str


class UpdateStatus(_Step):
    type: Literal["update_status"]
    status: str = Field(min_length=1, max_length=80)


class ListAction(_Step):
    type: Literal["add_to_list", "remove_from_list"]
    list: str = Field(pattern=NAME.pattern)


class AddToLinkedInAudience(_Step):
    type: Literal["add_to_linkedin_audience"]
    audience: str = Field(pattern=NAME.pattern)


class UpdateCrmField(_Step):
    type: Literal["update_crm_field"]
    field: str = Field(pattern=r"[A-Za-z][A-Za-z0-9_]{0,79}")
    value: str


class AssignToBuyingGroup(_Step):
    type: Literal["assign_to_buying_group"]
    role: str
    people: PersonCondition = Field(description="the account's persons to assign")


class RemoveFromBuyingGroup(_Step):
    type: Literal["remove_from_buying_group"]
    people: PersonCondition


class ChangeScore(_Step):
    type: Literal["change_score"]
    points: float = Field(description="added to each person's score (negative to lower it)")
    people: PersonCondition = Field(default_factory=PersonCondition)
    reason: str = Field(default="", max_length=200)


class Event(StrictModel):
    """Exactly one: an activity of a kind by a member, the group reaching a stage, its score
    reaching a value, a form fill."""

    activity_kind: str | None = None
    stage_reached: str | None = None
    score_at_least: float | None = Field(default=None, ge=0)
    form_fill: bool | None = None

    @model_validator(mode="after")
    def _one(self) -> Event:
        given = [k for k, v in self.model_dump().items() if v not in (None, False)]
        if len(given) != 1:
            raise ValueError(
                "give exactly one of activity_kind, stage_reached, score_at_least, form_fill "
                f"(got {given or 'none'})"
            )
        return self


class Listen(_Step):
    type: Literal["listen"]
    event: Event
    timeout_days: float | None = Field(default=None, gt=0, description="no event by then: on_timeout")
    on_timeout: str | None = None

    @model_validator(mode="after")
    def _timeout(self) -> Listen:
        if (self.timeout_days is None) != (self.on_timeout is None):
            raise ValueError("timeout_days and on_timeout go together")
        return self

    def targets(self) -> list[str]:
        return [self.next, *([self.on_timeout] if self.on_timeout else [])]


class Path(StrictModel):
    name: str = Field(pattern=NAME.pattern)
    next: str


class AccountPath(Path):
    when: AccountCondition


class PersonPath(Path):
    when: PersonCondition


class _Split(StrictModel):
    other: str | None = Field(default=None, description="where the rest go; none: they leave the journey")

    def targets(self) -> list[str]:
        return [p.next for p in self.paths] + ([self.other] if self.other else [])  # type: ignore[attr-defined]

    @model_validator(mode="after")
    def _names(self):
        names = [p.name for p in self.paths]  # type: ignore[attr-defined]
        if len(set(names)) != len(names):
            raise ValueError(f"path names {names} repeat")
        return self


class SplitAccounts(_Split):
    type: Literal["split_accounts"]
    paths: list[AccountPath] = Field(min_length=1, description="the first path whose condition holds")


class SplitPeople(_Split):
    """People go down the first path whose condition holds; each path holds only actions on
    people and reaches `merge`, where the account goes on as one."""

    type: Literal["split_people"]
    paths: list[PersonPath] = Field(min_length=1)
    merge: str


class Variant(StrictModel):
    name: str = Field(pattern=NAME.pattern)
    percent: float = Field(gt=0, le=100)
    next: str


class VariantSplit(StrictModel):
    type: Literal["variant_split"]
    variants: list[Variant] = Field(min_length=2)

    @model_validator(mode="after")
    def _hundred(self) -> VariantSplit:
        total = sum(v.percent for v in self.variants)
        if abs(total - 100) > 1e-9:
            raise ValueError(f"variant percentages add up to {total:g}, not 100")
        return self

    def targets(self) -> list[str]:
        return [v.next for v in self.variants]


class EndOn(StrictModel):
    """A wait that would end at another time is stretched to the next allowed weekday and time."""

    weekdays: list[Literal[WEEKDAYS]] = Field(min_length=1)  # type: ignore[valid-type]
    time: dt.time = Field(default=dt.time(9, 0))
    time_zone: str = "UTC"

    @field_validator("time_zone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not an IANA time zone (e.g. Europe/Berlin)") from None
        return value


class Wait(_Step):
    type: Literal["wait"]
    days: float | None = Field(default=None, ge=0)
    hours: float | None = Field(default=None, ge=0)
    until: dt.date | None = None
    must_end_on: EndOn | None = None

    @model_validator(mode="after")
    def _one(self) -> Wait:
        if self.until is not None and (self.days is not None or self.hours is not None):
            raise ValueError("give a duration (days, hours) or until, not both")
        if self.until is None and self.days is None and self.hours is None:
            raise ValueError("give days, hours or until")
        return self


class Merge(_Step):
    type: Literal["merge"]


class Exit(StrictModel):
    type: Literal["exit"]

    def targets(self) -> list[str]:
        return []


# Node kinds by what the engine does with them (classes, so code dispatches on types, not strings).
PEOPLE_ACTIONS = (SendEmail, SendSms, AssignToBuyingGroup, RemoveFromBuyingGroup, ChangeScore)
WAITING = (Wait, Listen)


def type_names(classes: tuple[type, ...]) -> list[str]:
    """The `type` values of node classes, as a config file writes them."""
    return [name for c in classes for name in get_args(c.model_fields["type"].annotation)]


Node = Annotated[
    SendEmail
    | SendSms
    | SendSalesAlert
    | UpdateStage
    | UpdateStatus
    | ListAction
    | AddToLinkedInAudience
    | UpdateCrmField
    | AssignToBuyingGroup
    | RemoveFromBuyingGroup
    | ChangeScore
    | Listen
    | SplitAccounts
    | SplitPeople
    | VariantSplit
    | Wait
    | Merge
    | Exit,
    Field(discriminator="type"),
]


# --- journeys ---------------------------------------------------------------------------------


class Entry(StrictModel):
    """Exactly one trigger."""

    audience: str | None = Field(default=None, description="accounts in this audience")
    account_list: str | None = Field(default=None, description="accounts a journey added to this list")
    buying_group_created: bool | None = Field(
        default=None, description="a new group of the solution interest"
    )
    buying_group_stage: str | None = Field(default=None, description="the group reaching this stage")
    account_attribute_change: str | None = Field(default=None, description="an account field changing")

    @model_validator(mode="after")
    def _one(self) -> Entry:
        given = [k for k, v in self.model_dump().items() if v not in (None, False)]
        if len(given) != 1:
            raise ValueError(f"give exactly one entry trigger (got {given or 'none'})")
        return self


class ReEntry(StrictModel):
    """`never`; or again `delay_days` after the last entry ended (`after_end`) or started
    (`after_start`), at most `max_entries` times in all."""

    mode: Literal["never", "after_end", "after_start"] = "never"
    delay_days: float = Field(default=0, ge=0)
    max_entries: int = Field(default=1, ge=1)


class ExitCriteria(StrictModel):
    """An enrolled account leaves as soon as one holds (checked before every step)."""

    stage_reached: list[str] = Field(default_factory=list)
    opportunity_created: bool = False
    opted_out: bool = Field(default=True, description="every member opted out of email")


class TestMode(StrictModel):
    """With status `test`: only these accounts enter, and their messages go to the seed addresses."""

    accounts: list[str] = Field(min_length=1)
    seed_emails: list[str] = Field(default_factory=list)
    seed_phones: list[str] = Field(default_factory=list)


class Journey(StrictModel):
    name: str = Field(min_length=1)
    description: str = ""
    status: Literal["draft", "test", "live", "closed", "aborted", "finished"] = "draft"
    solution_interest: str = Field(description="the buying groups the journey reads and acts on")
    entry: Entry
    re_entry: ReEntry = Field(default_factory=ReEntry)
    exit_when: ExitCriteria = Field(default_factory=ExitCriteria)
    test_mode: TestMode | None = None
    start: str
    nodes: dict[str, Node] = Field(min_length=1)

    _node_names = field_validator("nodes")(checked_names("node"))

    @model_validator(mode="after")
    def _graph(self) -> Journey:
        if self.status == "test" and self.test_mode is None:
            raise ValueError("status test needs test_mode (accounts and seed addresses)")
        for name, node in [("start", None), *self.nodes.items()]:
            targets = [self.start] if node is None else node.targets()
            if isinstance(node, SplitPeople):
                targets.append(node.merge)
            unknown = sorted({t for t in targets if t not in self.nodes})
            if unknown:
                where = "start" if node is None else f"nodes.{name}"
                raise ValueError(f"{where}: goes to unknown nodes {unknown}")
        unreachable = sorted(set(self.nodes) - self.reachable())
        if unreachable:
            raise ValueError(f"nodes {unreachable} cannot be reached from start {self.start!r}")
        cycle = self._cycle_without_wait()
        if cycle:
            raise ValueError(f"nodes {cycle} form a cycle without a wait or listen node")
        for name, node in self.nodes.items():
            if isinstance(node, SplitPeople):
                self._check_people_paths(name, node)
        return self

    def reachable(self) -> set[str]:
        seen, todo = {self.start}, [self.start]
        while todo:
            for target in self.nodes[todo.pop()].targets():
                if target not in seen:
                    seen.add(target)
                    todo.append(target)
        return seen

    def _cycle_without_wait(self) -> list[str]:
        """Nodes of a cycle none of whose nodes waits (strongly connected, scipy), or []."""
        from scipy.sparse import csr_matrix
        from scipy.sparse.csgraph import connected_components

        names = [n for n, node in self.nodes.items() if not isinstance(node, WAITING)]
        index = {n: i for i, n in enumerate(names)}
        edges = [(index[n], index[t]) for n in names for t in self.nodes[n].targets() if t in index]
        if not edges:
            return []
        rows, cols = zip(*edges, strict=True)
        graph = csr_matrix(([1] * len(edges), (rows, cols)), shape=(len(names), len(names)))
        _, labels = connected_components(graph, directed=True, connection="strong")
        for label in set(labels):
            members = [names[i] for i in range(len(names)) if labels[i] == label]
            if len(members) > 1 or (members[0], members[0]) in {(names[r], names[c]) for r, c in edges}:
                return sorted(members)
        return []

    def _check_people_paths(self, name: str, split: SplitPeople) -> None:
        starts = [p.next for p in split.paths] + ([split.other] if split.other else [])
        for start in starts:
            node_name, seen = start, set()
            while node_name != split.merge:
                node = self.nodes[node_name]
                if not isinstance(node, PEOPLE_ACTIONS) or node_name in seen:
                    raise ValueError(
                        f"nodes.{name}: a path of split_people may hold only actions on people "
                        f"({', '.join(type_names(PEOPLE_ACTIONS))}) and must reach its merge "
                        f"{split.merge!r}; "
                        f"{node_name!r} is {node.type}"
                    )
                seen.add(node_name)
                node_name = node.next
        if self.nodes[split.merge].type != "merge":
            raise ValueError(f"nodes.{name}: merge {split.merge!r} is a {self.nodes[split.merge].type} node")


class Template(StrictModel):
    """Jinja text (rendered in a sandbox); tokens: account.*, person.*, buying_group.*,
    solution_interest.*, journey.*, unsubscribe_url (docs/journeys.md lists them)."""

    channel: Literal["email", "sms"] = "email"
    subject: str = ""
    text: str = Field(min_length=1)
    html: str | None = None

    @model_validator(mode="after")
    def _email_has_subject(self) -> Template:
        if self.channel == "email" and not self.subject:
            raise ValueError("an email template needs a subject")
        if self.channel == "sms" and (self.subject or self.html):
            raise ValueError("an sms template has text only")
        return self


class Limits(StrictModel):
    """Messages per recipient, counted across all journeys; `null` for no limit."""

    email_per_person_per_day: int | None = Field(default=1, ge=1)
    email_per_person_per_7_days: int | None = Field(default=3, ge=1)
    sms_per_person_per_day: int | None = Field(default=1, ge=1)
    sms_per_person_per_7_days: int | None = Field(default=2, ge=1)
    messages_per_account_per_day: int | None = Field(default=10, ge=1)
    messages_per_buying_group_per_day: int | None = Field(default=5, ge=1)


class Delivery(StrictModel):
    from_address: str = "marketing@localhost"
    tracking_base_url: str = Field(
        default="http://127.0.0.1:8088",
        description="where the tracking endpoint answers (links, unsubscribe)",
    )
    sales_alert_to: str = "sales@localhost"

    _addresses = field_validator("from_address", "sales_alert_to")(lambda value: email_address(value))


class JourneysConfig(StrictModel):
    journeys: dict[str, Journey] = Field(default_factory=dict)
    templates: dict[str, Template] = Field(default_factory=dict)
    limits: Limits = Field(default_factory=Limits)
    delivery: Delivery = Field(default_factory=Delivery)

    _journey_names = field_validator("journeys")(checked_names("journey"))
    _template_names = field_validator("templates")(checked_names("template"))
