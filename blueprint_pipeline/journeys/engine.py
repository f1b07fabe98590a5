"""One journey run at an as-of time: new entries, then every active enrolment stepped through its
nodes until it waits, listens or ends. Pure Python over a World and the previous state; the
caller writes what it returns in one transaction (docs/journeys.md).

Every step gets an idempotency key (enrolment, step number, node, person) and every message a
Message-ID derived from it, so a run that is repeated after a crash writes the same rows and a
message is never queued twice.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from blueprint_pipeline.config.journeys import (
    AddToLinkedInAudience,
    AssignToBuyingGroup,
    ChangeScore,
    Exit,
    Journey,
    JourneysConfig,
    ListAction,
    Listen,
    Merge,
    Node,
    RemoveFromBuyingGroup,
    SendEmail,
    SendSalesAlert,
    SendSms,
    SplitAccounts,
    SplitPeople,
    UpdateCrmField,
    UpdateStage,
    UpdateStatus,
    VariantSplit,
    Wait,
)
from blueprint_pipeline.config.stages import StageModel
from blueprint_pipeline.journeys.conditions import (
    account_holds,
    exit_reason,
    heard,
    person_holds,
    recipients,
)
from blueprint_pipeline.journeys.render import Rendered, render
from blueprint_pipeline.journeys.waits import wait_ends
from blueprint_pipeline.journeys.world import World
from blueprint_pipeline.tracking.links import tracked_html, unsubscribe_url

ACTIVE = "active"
MAX_STEPS = 500  # per enrolment and run; a graph without wait-free cycles never gets near it


@dataclass
class Settings:
    from_address: str = "marketing@localhost"
    tracking_base_url: str = "http://127.0.0.1:8088"
    sales_alert_to: str = "sales@localhost"
    tracking_secret: str = "not-a-secret"  # the asset passes resources.tracking_secret()


@dataclass
class Effects:
    enrolments: dict[str, dict] = field(default_factory=dict)  # changed or new, by id
    steps: list[dict] = field(default_factory=list)
    outbox: list[dict] = field(default_factory=list)
    list_events: list[dict] = field(default_factory=list)
    linkedin: list[dict] = field(default_factory=list)
    crm_updates: list[dict] = field(default_factory=list)
    statuses: list[dict] = field(default_factory=list)
    stage_moves: list[dict] = field(default_factory=list)
    stage_refusals: list[dict] = field(default_factory=list)
    member_events: list[dict] = field(default_factory=list)
    score_changes: list[dict] = field(default_factory=list)
    runs: dict[str, dict] = field(default_factory=dict)
    attribute_values: dict[tuple[str, str], str] = field(default_factory=dict)  # (journey, account) -> value


def stable_id(*parts: object, length: int = 24) -> str:
    return hashlib.sha256("\x1f".join(map(str, parts)).encode()).hexdigest()[:length]


def tracking_token(message_id: str) -> str:
    """The part of a Message-ID that tracking links carry (it names the message, nothing else)."""
    return message_id.strip("<>").split("@")[0]


def variant_bucket(journey_id: str, account_id: str) -> float:
    """0 <= bucket < 100, the same for an account every run (A/B splits are deterministic)."""
    return int(stable_id(journey_id, account_id, length=8), 16) % 10_000 / 100


class JourneyRun:
    def __init__(
        self,
        world: World,
        config: JourneysConfig,
        interests: dict[str, dict],
        models: dict[str, StageModel],
        settings: Settings,
        enrolments: list[dict],
        runs: dict[str, dict],
        attribute_values: dict[tuple[str, str], str],
        attributes: dict[str, dict[str, str]],
    ):
        """`interests`: solution interest -> {name, description, business_outcome, stage_model};
        `enrolments`: every earlier enrolment; `runs`: journey -> {live_since, last_run_at};
        `attribute_values`: the account field values the last run saw, per journey;
        `attributes`: field -> account -> its value now (for attribute-change entries)."""
        self.world, self.config, self.interests, self.models = world, config, interests, models
        self.settings, self.runs, self.attributes = settings, runs, attributes
        self.previous_values = attribute_values
        self.by_journey: dict[str, list[dict]] = {}
        for e in enrolments:
            self.by_journey.setdefault(e["journey_id"], []).append(dict(e))
        self.out = Effects()
        self.as_of = world.as_of

    # --- the run ---------------------------------------------------------------------------

    def run(self) -> Effects:
        for journey_id, journey in sorted(self.config.journeys.items()):
            if journey.status in ("draft", "finished"):
                continue
            enrolments = self.by_journey.get(journey_id, [])
            if journey.status == "aborted":
                for e in enrolments:
                    if e["status"] == ACTIVE:
                        self._end(e, "aborted", "journey aborted")
                continue
            run = self.runs.get(journey_id) or {"live_since": self.as_of, "last_run_at": None}
            self.out.runs[journey_id] = {**run, "last_run_at": self.as_of, "status": journey.status}
            for e in sorted(enrolments, key=lambda e: e["enrolment_id"]):
                if e["status"] != ACTIVE:
                    continue
                if e["test"] and journey.status == "live":
                    self._end(e, "ended", "test over: the journey went live")
                    continue
                self._advance(journey_id, journey, e)
            if journey.status in ("live", "test"):
                for e in self._entries(journey_id, journey, enrolments, run["live_since"]):
                    self._advance(journey_id, journey, e)
        return self.out

    # --- entries ---------------------------------------------------------------------------

    def _entries(
        self, journey_id: str, journey: Journey, enrolments: list[dict], live_since: datetime
    ) -> list[dict]:
        entry, interest = journey.entry, journey.solution_interest
        every: dict[str, list[dict]] = {}  # per account: all its entries; `history` without tests
        for e in enrolments:
            every.setdefault(e["account_id"], []).append(e)
        history = {a: [e for e in entries if not e["test"]] for a, entries in every.items()}
        if entry.audience:
            candidates = self.world.audiences.get(entry.audience, set())
        elif entry.account_list:
            candidates = self.world.lists.get(entry.account_list, set())
        elif entry.account_attribute_change:
            candidates = self._attribute_changes(journey_id, entry.account_attribute_change)
        else:
            candidates = set()
            for (group_interest, account), group in self.world.groups.items():
                if group_interest != interest:
                    continue
                last = max((e["entered_at"] for e in history.get(account, [])), default=None)
                since = max(live_since, last) if last else live_since
                if entry.buying_group_created:
                    created = self.world.group_created.get(group["id"])
                    if created is not None and since <= created <= self.as_of and last is None:
                        candidates.add(account)
                elif any(
                    s == entry.buying_group_stage
                    and since <= at <= self.as_of
                    and (last is None or at > last)
                    for s, at in self.world.stage_moves.get(group["id"], [])
                ):
                    candidates.add(account)
        test = journey.status == "test"
        if test:
            candidates = set(candidates) & set(journey.test_mode.accounts)
        new = []
        for account in sorted(candidates):
            if account not in self.world.accounts:
                continue
            past = every.get(account, []) if test else history.get(account, [])
            if not self._may_enter(journey, past):
                continue
            group = self.world.groups.get((interest, account))
            entry_no = len(every.get(account, [])) + 1
            e = {
                "enrolment_id": f"{journey_id}:{account}:{entry_no}",
                "journey_id": journey_id,
                "account_id": account,
                "buying_group_id": group["id"] if group else None,
                "entry_no": entry_no,
                "status": ACTIVE,
                "node": journey.start,
                "step_no": 0,
                "waiting_since": None,
                "due_at": None,
                "entered_at": self.as_of,
                "ended_at": None,
                "end_reason": None,
                "test": test,
            }
            enrolments.append(e)
            self._log(e, journey.start, "entry", "", "entered", self._entry_text(journey))
            self.out.enrolments[e["enrolment_id"]] = e
            new.append(e)
        return new

    @staticmethod
    def _entry_text(journey: Journey) -> str:
        given = {k: v for k, v in journey.entry.model_dump().items() if v not in (None, False)}
        return ", ".join(f"{k}: {v}" for k, v in given.items())

    def _may_enter(self, journey: Journey, past: list[dict]) -> bool:
        if any(e["status"] == ACTIVE for e in past):
            return False
        if not past:
            return True
        rule = journey.re_entry
        if rule.mode == "never" or len(past) >= rule.max_entries:
            return False
        last = max(past, key=lambda e: e["entered_at"])
        since = last["ended_at"] if rule.mode == "after_end" else last["entered_at"]
        return since is not None and self.as_of >= since + timedelta(days=rule.delay_days)

    def _attribute_changes(self, journey_id: str, field_name: str) -> set[str]:
        changed = set()
        for account, value in self.attributes.get(field_name, {}).items():
            before = self.previous_values.get((journey_id, account))
            if before is not None and before != value:
                changed.add(account)
            self.out.attribute_values[(journey_id, account)] = value
        return changed

    # --- stepping --------------------------------------------------------------------------

    def _advance(self, journey_id: str, journey: Journey, e: dict) -> None:
        account = e["account_id"]
        interest = journey.solution_interest
        for _ in range(MAX_STEPS):
            group = self.world.groups.get((interest, account))
            reason = exit_reason(self.world, journey.exit_when, account, group, e["entered_at"])
            if reason:
                self._log(e, e["node"], "exit", "", "exited", reason)
                self._end(e, "exited", reason)
                return
            node_name = e["node"]
            node = journey.nodes[node_name]
            target = self._execute(journey_id, journey, e, node_name, node, group)
            if target is None:  # waiting, listening, or ended
                return
            self._move(e, target)
        raise RuntimeError(
            f"journey {journey_id}: enrolment {e['enrolment_id']} took {MAX_STEPS} steps in one run"
        )

    def _move(self, e: dict, target: str) -> None:
        e.update(node=target, waiting_since=None, due_at=None, step_no=e["step_no"] + 1)
        self.out.enrolments[e["enrolment_id"]] = e

    def _end(self, e: dict, status: str, reason: str) -> None:
        e.update(status=status, ended_at=self.as_of, end_reason=reason, due_at=None)
        self.out.enrolments[e["enrolment_id"]] = e

    def _execute(
        self, journey_id, journey: Journey, e: dict, name: str, node: Node, group: dict | None
    ) -> str | None:
        """Run one node; the node to go to next, or None while waiting or once ended."""
        kind = node.type  # as the step log names it
        match node:
            case Wait():
                return self._wait(e, name, node)
            case Listen():
                return self._listen(e, name, node, group)
            case Exit():
                self._log(e, name, kind, "", "finished", "")
                self._end(e, "finished", f"exit node {name}")
                return None
            case Merge():
                self._log(e, name, kind, "", "merged", "")
                return node.next
            case SplitAccounts():
                for path in node.paths:
                    if account_holds(self.world, path.when, e["account_id"], group):
                        self._log(e, name, kind, "", f"path {path.name}", "")
                        return path.next
                return self._other(e, name, kind, node.other)
            case VariantSplit():
                bucket, total = variant_bucket(journey_id, e["account_id"]), 0.0
                for variant in node.variants:
                    total += variant.percent
                    if bucket < total or variant is node.variants[-1]:
                        self._log(e, name, kind, "", f"variant {variant.name}", f"bucket {bucket:.2f}")
                        return variant.next
            case SplitPeople():
                return self._split_people(journey_id, journey, e, name, node, group)
            case SendEmail() | SendSms() | AssignToBuyingGroup() | RemoveFromBuyingGroup() | ChangeScore():
                self._people_action(journey_id, journey, e, name, node, group, people=None)
                return node.next
            case (
                SendSalesAlert() | ListAction() | AddToLinkedInAudience() | UpdateCrmField() | UpdateStatus()
                | UpdateStage()
            ):  # fmt: skip
                self._account_action(journey_id, journey, e, name, node, group)
                return node.next
        raise AssertionError(f"no branch for node type {kind}")

    def _wait(self, e: dict, name: str, node: Wait) -> str | None:
        if e["waiting_since"] is None:
            due = wait_ends(node, self.as_of)
            e.update(waiting_since=self.as_of, due_at=due)
            self.out.enrolments[e["enrolment_id"]] = e
            self._log(e, name, node.type, "", "waiting", f"until {due:%Y-%m-%d %H:%M} UTC", tag="arrived")
        if e["due_at"] > self.as_of:
            return None
        self._log(e, name, node.type, "", "waited", "", tag="left")
        return node.next

    def _listen(self, e: dict, name: str, node: Listen, group: dict | None) -> str | None:
        kind = node.type
        if e["waiting_since"] is None:
            due = self.as_of + timedelta(days=node.timeout_days) if node.timeout_days else None
            e.update(waiting_since=self.as_of, due_at=due)
            self.out.enrolments[e["enrolment_id"]] = e
            self._log(
                e,
                name,
                kind,
                "",
                "listening",
                f"until {due:%Y-%m-%d %H:%M} UTC" if due else "",
                tag="arrived",
            )
        found = heard(self.world, node.event, e["account_id"], group, e["waiting_since"])
        if found:
            self._log(e, name, kind, "", "heard", found, tag="left")
            return node.next
        if e["due_at"] is not None and e["due_at"] <= self.as_of:
            self._log(e, name, kind, "", "timed out", "", tag="left")
            return node.on_timeout
        return None

    def _other(self, e: dict, name: str, kind: str, other: str | None) -> str | None:
        if other:
            self._log(e, name, kind, "", "path other", "")
            return other
        self._log(
            e, name, kind, "", "no path", "no path matched and there is no other path: the account leaves"
        )
        self._end(e, "finished", f"no path at {name}")
        return None

    def _split_people(
        self, journey_id, journey: Journey, e: dict, name: str, node: SplitPeople, group
    ) -> str:
        persons = sorted(self.world.account_persons.get(e["account_id"], []))
        taken: dict[str, list[str]] = {}
        for person in persons:
            path = next((p for p in node.paths if person_holds(self.world, p.when, person, group)), None)
            key = path.next if path else node.other
            if key:
                taken.setdefault(key, []).append(person)
        counts = []
        for path in node.paths:
            counts.append(f"{path.name} {len(taken.get(path.next, []))}")
        if node.other:
            counts.append(f"other {len(taken.get(node.other, []))}")
        self._log(e, name, node.type, "", "split people", ", ".join(counts))
        for start, people in taken.items():
            current = start
            while current != node.merge:
                action = journey.nodes[current]
                self._people_action(journey_id, journey, e, current, action, group, people=people)
                current = action.next
        return node.merge

    # --- actions ---------------------------------------------------------------------------

    def _people_action(self, journey_id, journey: Journey, e: dict, name: str, node, group, people) -> None:
        kind = node.type
        account = e["account_id"]
        if isinstance(node, SendEmail | SendSms):
            chosen = recipients(self.world, node.to, group)
            if people is not None:
                chosen = [p for p in chosen if p in people]
            if not chosen:
                self._log(e, name, kind, "", "no recipients", "")
            channel = "email" if isinstance(node, SendEmail) else "sms"
            for person in chosen:
                self._message(journey_id, journey, e, name, channel, node.template, group, person)
            return
        candidates = people if people is not None else sorted(self.world.account_persons.get(account, []))
        chosen = [p for p in candidates if person_holds(self.world, node.people, p, group)]
        if isinstance(node, ChangeScore):
            for person in chosen:
                key = self._log(e, name, kind, person, "score changed", f"{node.points:+g}")
                self.out.score_changes.append(
                    {
                        "step_key": key,
                        "person_id": person,
                        "points": float(node.points),
                        "journey_id": journey_id,
                        "node": name,
                        "reason": node.reason,
                        "happened_at": self.as_of,
                    }
                )
                self.world.person_scores[person] = self.world.person_scores.get(person, 0.0) + node.points
            return
        if group is None:
            self._log(
                e, name, kind, "", "skipped", "the account has no buying group for the solution interest"
            )
            return
        members = self.world.members.setdefault(group["id"], {})
        for person in chosen:
            was = members.get(person)
            if isinstance(node, AssignToBuyingGroup):
                if was == node.role:
                    continue
                event, role = ("changed" if was else "added"), node.role
                members[person] = role
            else:
                if was is None:
                    continue
                event, role = "removed", was
                del members[person]
            key = self._log(e, name, kind, person, event, role)
            self.out.member_events.append(
                {
                    "step_key": key,
                    "buying_group_id": group["id"],
                    "person_id": person,
                    "event": event,
                    "role": role,
                    "matched_condition": f"journey {journey_id}, node {name}",
                    "happened_at": self.as_of,
                }
            )

    def _account_action(self, journey_id, journey: Journey, e: dict, name: str, node, group) -> None:
        kind, account = node.type, e["account_id"]
        if isinstance(node, SendSalesAlert):
            self._message(journey_id, journey, e, name, "sales_alert", node.template, group, None)
            return
        if isinstance(node, ListAction):
            action = "add" if node.type == "add_to_list" else "remove"
            members = self.world.lists.setdefault(node.list, set())
            if (account in members) == (action == "add"):
                self._log(
                    e,
                    name,
                    kind,
                    "",
                    "unchanged",
                    f"already {'in' if action == 'add' else 'not in'} {node.list}",
                )
                return
            (members.add if action == "add" else members.discard)(account)
            key = self._log(e, name, kind, "", f"{action}ed", node.list)
            self.out.list_events.append(
                {
                    "step_key": key,
                    "list_name": node.list,
                    "account_id": account,
                    "action": action,
                    "journey_id": journey_id,
                    "happened_at": self.as_of,
                }
            )
            return
        if isinstance(node, AddToLinkedInAudience):
            key = self._log(e, name, kind, "", "added", node.audience)
            self.out.linkedin.append(
                {
                    "step_key": key,
                    "audience": node.audience,
                    "account_id": account,
                    "journey_id": journey_id,
                    "happened_at": self.as_of,
                }
            )
            return
        if isinstance(node, UpdateCrmField):
            key = self._log(e, name, kind, "", "queued", f"{node.field} = {node.value}")
            self.out.crm_updates.append(
                {
                    "step_key": key,
                    "account_id": account,
                    "field": node.field,
                    "value": node.value,
                    "journey_id": journey_id,
                    "happened_at": self.as_of,
                }
            )
            return
        if group is None:
            self._log(
                e, name, kind, "", "skipped", "the account has no buying group for the solution interest"
            )
            return
        if isinstance(node, UpdateStatus):
            key = self._log(e, name, kind, "", "status set", node.status)
            group["status"] = node.status
            self.out.statuses.append(
                {
                    "step_key": key,
                    "buying_group_id": group["id"],
                    "status": node.status,
                    "journey_id": journey_id,
                    "happened_at": self.as_of,
                }
            )
            return
        if isinstance(node, UpdateStage):
            model_name = self.interests[journey.solution_interest]["stage_model"]
            refusal = self.models[model_name].refusal(group["stage"], node.to_stage)
            if refusal:
                key = self._log(e, name, kind, "", "refused", refusal)
                self.out.stage_refusals.append(
                    {
                        "step_key": key,
                        "account_id": account,
                        "solution_interest": journey.solution_interest,
                        "buying_group_id": group["id"],
                        "from_stage": group["stage"],
                        "to_stage": node.to_stage,
                        "actor_name": journey_id,
                        "reason": refusal,
                        "refused_at": self.as_of,
                    }
                )
                return
            key = self._log(e, name, kind, "", "moved", f"{group['stage']} -> {node.to_stage}")
            self.out.stage_moves.append(
                {
                    "step_key": key,
                    "buying_group_id": group["id"],
                    "stage_model": model_name,
                    "from_stage": group["stage"],
                    "to_stage": node.to_stage,
                    "actor_name": journey_id,
                    "reason": f"journey {journey_id}, node {name}",
                    "changed_at": self.as_of,
                }
            )
            self.world.stage_moves.setdefault(group["id"], []).append((node.to_stage, self.as_of))
            group["stage"] = node.to_stage
            return
        raise AssertionError(kind)

    # --- messages --------------------------------------------------------------------------

    def _message(
        self,
        journey_id,
        journey: Journey,
        e: dict,
        name: str,
        channel: str,
        template_name: str,
        group,
        person_id: str | None,
    ) -> None:
        template = self.config.templates.get(template_name) if template_name else None
        person = self.world.persons.get(person_id, {}) if person_id else {}
        if e["test"]:  # every message of a test entry, sales alerts too, goes to the seeds only
            seeds = journey.test_mode.seed_phones if channel == "sms" else journey.test_mode.seed_emails
            targets = list(seeds)
        elif channel == "sales_alert":
            targets = [self.settings.sales_alert_to]
        else:
            targets = [person.get("email" if channel == "email" else "phone", "")]
        for target in targets:
            tag = f"message {target}" if e["test"] else "message"
            key = self._log(
                e, name, journey.nodes[name].type, person_id or "", "", target if e["test"] else "", tag
            )
            hold = (
                None
                if e["test"] or channel == "sales_alert"
                else self._hold_reason(channel, person, person_id, e, group)
            )
            message_id = f"<{stable_id(key, length=32)}@{self.settings.from_address.rpartition('@')[2]}>"
            unsubscribe, html = "", None
            tracking = (
                self.settings.tracking_base_url,
                self.settings.tracking_secret,
                tracking_token(message_id),
            )
            tracked_person = "test-seed" if e["test"] else person_id  # test sends never track the person
            if channel == "email":
                unsubscribe = unsubscribe_url(*tracking, tracked_person)
            # A sales alert's content is filled in after the run (alerts/send.py); a template adds a note.
            text = (
                render(template, self._tokens(journey, e, group, person, unsubscribe)) if template else None
            )
            text = text or Rendered(subject="", text="", html=None)
            if text.html and channel == "email":
                html = tracked_html(text.html, *tracking, tracked_person)
            self.out.outbox.append(
                {
                    "message_id": message_id,
                    "step_key": key,
                    "journey_id": journey_id,
                    "enrolment_id": e["enrolment_id"],
                    "account_id": e["account_id"],
                    "buying_group_id": group["id"] if group else None,
                    "person_id": person_id or "",
                    "channel": channel,
                    "to_address": target,
                    "subject": text.subject,
                    "body_text": text.text,
                    "body_html": html,
                    "unsubscribe_url": unsubscribe or None,
                    "status": "held" if hold else "pending",
                    "hold_reason": hold,
                    "test": bool(e["test"]),
                    "created_at": self.as_of,
                }
            )
            self.out.steps[-1]["outcome"] = f"held: {hold}" if hold else "queued"
            if not hold and not e["test"] and channel != "sales_alert":
                self.world.sent[(channel, person_id)].append(self.as_of)
                self.world.sent_to_account[e["account_id"]].append(self.as_of)
                if group:
                    self.world.sent_to_group[group["id"]].append(self.as_of)

    def _hold_reason(self, channel: str, person: dict, person_id: str, e: dict, group) -> str | None:
        limits = self.config.limits
        if channel == "email":
            if not person.get("email"):
                return "no email address"
            if person.get("email_opt_out"):
                return "opted out of email"
            if person.get("email_bounced"):
                return "email bounced"
        else:
            if not person.get("phone"):
                return "no phone number"
            if not person.get("sms_opt_in"):
                return "no SMS consent"
        day, week = self.as_of - timedelta(days=1), self.as_of - timedelta(days=7)
        sent = self.world.sent[(channel, person_id)]
        per_day = getattr(limits, f"{channel}_per_person_per_day")
        per_week = getattr(limits, f"{channel}_per_person_per_7_days")
        if per_day is not None and sum(at > day for at in sent) >= per_day:
            return f"limit: {per_day} {channel} per person per day"
        if per_week is not None and sum(at > week for at in sent) >= per_week:
            return f"limit: {per_week} {channel} per person per 7 days"
        account_limit = limits.messages_per_account_per_day
        if (
            account_limit is not None
            and sum(at > day for at in self.world.sent_to_account[e["account_id"]]) >= account_limit
        ):
            return f"limit: {account_limit} messages per account per day"
        group_limit = limits.messages_per_buying_group_per_day
        if (
            group
            and group_limit is not None
            and sum(at > day for at in self.world.sent_to_group[group["id"]]) >= group_limit
        ):
            return f"limit: {group_limit} messages per buying group per day"
        return None

    def _tokens(self, journey: Journey, e: dict, group, person: dict, unsubscribe: str) -> dict:
        interest = self.interests[journey.solution_interest]
        return {
            "account": self.world.accounts[e["account_id"]],
            "person": person,
            "buying_group": {
                "name": group["name"] if group else "",
                "stage": (group or {}).get("stage") or "",
                "status": (group or {}).get("status", ""),
                "completeness": f"{group['completeness']:.0%}" if group else "",
                "score": f"{group['score']:.1f}" if group else "",
                "missing_roles": (group or {}).get("missing_roles") or "none",
                "members": (group or {}).get("members", 0),
                "readiness_tier": (group or {}).get("readiness_tier") or "unscored",
            },
            "solution_interest": {k: interest[k] for k in ("name", "description", "business_outcome")},
            "journey": {"name": journey.name},
            "unsubscribe_url": unsubscribe,
        }

    # --- the log ---------------------------------------------------------------------------

    def _log(
        self, e: dict, node: str, node_type: str, person: str, outcome: str, detail: str, tag: str = ""
    ) -> str:
        """Appends a step; its key (enrolment, step number, node, person, and what happened:
        entered, waiting, done, exit, a message's target) is unique within the log."""
        key = f"{e['enrolment_id']}/{e['step_no']}/{node}/{person or '-'}/{tag or outcome}"
        self.out.steps.append(
            {
                "step_key": key,
                "enrolment_id": e["enrolment_id"],
                "journey_id": e["journey_id"],
                "account_id": e["account_id"],
                "node": node,
                "node_type": node_type,
                "person_id": person,
                "outcome": outcome,
                "detail": detail,
                "happened_at": self.as_of,
            }
        )
        return key
