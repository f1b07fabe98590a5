"""The journey engine on a hand-made world, with the as-of time moved through
the journey's waits. Worked answer:

Journey `nurture` (live), entry: audience target_accounts = {A1, A2, A3}; exit when Sales Ready.
  intro: email Decision Makers and Champions -> wait2 (2 days) -> triage, a split by accounts:
    hot (group score >= 20) -> alert (sales alert) -> promote (stage -> Marketing Qualified) -> done
    mid (at least 1 Champion) -> people (split by people: Decision Makers -> dm_mail, email;
        the others -> bump, score +5) -> merged -> ab (variant split a 50 / b 50):
        a -> vip (add to list vip) -> done; b -> status ("nurturing") -> done
    other -> await_form (listen for a form fill, 3 days) -> alert; on timeout -> done
Accounts (data_platform groups): A1 score 25, stage Engaged, p11 Decision Maker, p12 Champion
(opted out of email); A2 score 5, stage Engaged, p21 Decision Maker, p22 Champion; A3 score 1,
stage Awareness, p31 Practitioner.

Run 1, Mon 2026-03-02 09:00: all three enter. intro: p11 queued, p12 held (opted out), p21 and
  p22 queued; A3 has neither role: no recipients. All wait until Wed 03-04 09:00.
Run 2, Wed 03-04 10:00: A1 is hot: a sales alert to sales@localhost, Engaged -> Marketing
  Qualified (allowed), done. A2 is mid: p21 goes to dm_mail, queued (1 email in the last 24 h is
  the limit, and the intro was 49 h ago; 2 of 3 in 7 days); p22 to bump (+5); then ab: A2's bucket
  is 80.60 (sha256 of "nurture", "A2"; see variant_bucket) >= 50 -> b: status "nurturing"; done.
  A3 falls to other: listening until 03-07 10:00.
Run 3, Thu 03-05 10:00: p31 filled a form at 08:00: heard -> alert -> promote: Awareness ->
  Marketing Qualified is not a move the standard model allows: refused, logged; done.
"""

from __future__ import annotations

from datetime import datetime

import pytest

from blueprint_pipeline.journeys.engine import JourneyRun, Settings
from blueprint_pipeline.journeys.world import World
from blueprint_pipeline.resources import load_config

JOURNEYS = """
templates:
  hello: {subject: "Hi {{ person.first_name }}", text: "{{ account.name }}: {{ unsubscribe_url }}"}
  alert: {subject: "{{ buying_group.name }} is ready", text: "score {{ buying_group.score }}"}
journeys:
  nurture:
    name: Nurture
    status: live
    solution_interest: data_platform
    entry: {audience: target_accounts}
    exit_when: {stage_reached: [Sales Ready]}
    start: intro
    nodes:
      intro: {type: send_email, template: hello, to: {members: roles, roles: [Decision Maker, Champion]}, next: wait2}
      wait2: {type: wait, days: 2, next: triage}
      triage:
        type: split_accounts
        paths:
          - {name: hot, when: {buying_group: {score_at_least: 20}}, next: alert}
          - {name: mid, when: {buying_group: {role_members: [{role: Champion, at_least: 1}]}}, next: people}
        other: await_form
      alert: {type: send_sales_alert, template: alert, next: promote}
      promote: {type: update_stage, to_stage: Marketing Qualified, next: done}
      people:
        type: split_people
        paths: [{name: dms, when: {roles: [Decision Maker]}, next: dm_mail}]
        other: bump
        merge: merged
      dm_mail: {type: send_email, template: hello, next: merged}
      bump: {type: change_score, points: 5, next: merged}
      merged: {type: merge, next: ab}
      ab: {type: variant_split, variants: [{name: a, percent: 50, next: vip}, {name: b, percent: 50, next: status}]}
      vip: {type: add_to_list, list: vip, next: done}
      status: {type: update_status, status: nurturing, next: done}
      await_form: {type: listen, event: {form_fill: true}, timeout_days: 3, on_timeout: done, next: alert}
      done: {type: exit}
"""


@pytest.fixture
def config(tmp_path):
    (tmp_path / "journeys.yaml").write_text(JOURNEYS)
    return load_config(tmp_path).config


def _person(first, opted_out=False):
    return {
        "first_name": first,
        "last_name": "X",
        "email": f"{first.lower()}@example.com",
        "email_domain": "example.com",
        "title": "",
        "phone": "",
        "department": "",
        "country": "",
        "seniority": "",
        "email_opt_out": opted_out,
        "sms_opt_in": False,
    }


def _world(at: datetime) -> World:
    world = World(at)
    for a in ("A1", "A2", "A3"):
        world.accounts[a] = {
            "id": a,
            "name": f"Acme {a}",
            "domain": "",
            "industry": "",
            "employees": 0,
            "country": "",
        }
    for a, score, stage in (("A1", 25.0, "Engaged"), ("A2", 5.0, "Engaged"), ("A3", 1.0, "Awareness")):
        world.groups[("data_platform", a)] = {
            "id": f"data_platform:{a}",
            "name": f"Data Platform for Acme {a}",
            "stage": stage,
            "score": score,
            "completeness": 0.5,
            "missing_roles": "",
            "members": 2,
            "status": "",
        }
    world.members = {
        "data_platform:A1": {"p11": "Decision Maker", "p12": "Champion"},
        "data_platform:A2": {"p21": "Decision Maker", "p22": "Champion"},
        "data_platform:A3": {"p31": "Practitioner"},
    }
    world.persons = {p: _person(p.upper(), opted_out=p == "p12") for p in ("p11", "p12", "p21", "p22", "p31")}
    world.account_persons = {"A1": ["p11", "p12"], "A2": ["p21", "p22"], "A3": ["p31"]}
    world.audiences = {"target_accounts": {"A1", "A2", "A3"}}
    world.activities = {"p31": [("form_fill", datetime(2026, 3, 5, 8))]}
    return world


def _run(config, at, enrolments, sent):
    world = _world(at)
    for (channel, person), times in sent.items():
        world.sent[(channel, person)].extend(times)
    interests = {
        "data_platform": {
            "name": "Data Platform",
            "description": "",
            "business_outcome": "",
            "stage_model": "standard",
        }
    }
    out = JourneyRun(
        world, config.journeys, interests, config.stages.models, Settings(), enrolments, {}, {}, {}
    ).run()
    for m in out.outbox:
        if m["status"] == "pending":
            sent.setdefault((m["channel"], m["person_id"]), []).append(m["created_at"])
    merged = {e["enrolment_id"]: e for e in enrolments} | out.enrolments
    return out, list(merged.values())


def test_a_journey_through_its_waits(config):
    sent: dict = {}
    t0, t1, t2 = datetime(2026, 3, 2, 9), datetime(2026, 3, 4, 10), datetime(2026, 3, 5, 10)
    out1, state = _run(config, t0, [], sent)
    assert [(m["person_id"], m["status"], m["hold_reason"]) for m in out1.outbox] == [
        ("p11", "pending", None),
        ("p12", "held", "opted out of email"),
        ("p21", "pending", None),
        ("p22", "pending", None),
    ]
    assert out1.outbox[0]["subject"] == "Hi P11"
    assert out1.outbox[0]["body_text"].startswith("Acme A1: http://127.0.0.1:8088/u/")
    assert [(s["account_id"], s["node"], s["outcome"]) for s in out1.steps if s["account_id"] == "A3"] == [
        ("A3", "intro", "entered"),
        ("A3", "intro", "no recipients"),
        ("A3", "wait2", "waiting"),
    ]
    assert {e["account_id"]: (e["node"], e["due_at"]) for e in state} == {
        a: ("wait2", datetime(2026, 3, 4, 9)) for a in ("A1", "A2", "A3")
    }

    out2, state = _run(config, t1, state, sent)
    outcomes = [(s["account_id"], s["node"], s["person_id"], s["outcome"]) for s in out2.steps]
    assert outcomes == [
        ("A1", "wait2", "", "waited"),
        ("A1", "triage", "", "path hot"),
        ("A1", "alert", "", "queued"),
        ("A1", "promote", "", "moved"),
        ("A1", "done", "", "finished"),
        ("A2", "wait2", "", "waited"),
        ("A2", "triage", "", "path mid"),
        ("A2", "people", "", "split people"),
        ("A2", "dm_mail", "p21", "queued"),
        ("A2", "bump", "p22", "score changed"),
        ("A2", "merged", "", "merged"),
        ("A2", "ab", "", "variant b"),
        ("A2", "status", "", "status set"),
        ("A2", "done", "", "finished"),
        ("A3", "wait2", "", "waited"),
        ("A3", "triage", "", "path other"),
        ("A3", "await_form", "", "listening"),
    ]
    assert [(m["channel"], m["to_address"]) for m in out2.outbox] == [
        ("sales_alert", "sales@localhost"),
        ("email", "p21@example.com"),
    ]
    assert [(m["from_stage"], m["to_stage"]) for m in out2.stage_moves] == [
        ("Engaged", "Marketing Qualified")
    ]
    assert [(c["person_id"], c["points"]) for c in out2.score_changes] == [("p22", 5.0)]
    assert [s["status"] for s in out2.statuses] == ["nurturing"]
    assert {e["account_id"]: e["status"] for e in state} == {
        "A1": "finished",
        "A2": "finished",
        "A3": "active",
    }

    out3, state = _run(config, t2, state, sent)
    assert [(s["node"], s["outcome"], s["detail"]) for s in out3.steps] == [
        ("await_form", "heard", "form_fill at 2026-03-05 08:00"),
        ("alert", "queued", ""),
        ("promote", "refused", "the model does not allow 'Awareness' -> 'Marketing Qualified'"),
        ("done", "finished", ""),
    ]
    assert len(out3.stage_refusals) == 1 and not out3.stage_moves
    keys = [s["step_key"] for o in (out1, out2, out3) for s in o.steps]
    assert len(keys) == len(set(keys))


SMALL = """
templates:
  hello: {subject: "Hi", text: "{{ person.first_name }} {{ unsubscribe_url }}"}
  text: {channel: sms, text: "Hi {{ person.first_name }}"}
journeys:
  j:
    name: J
    status: STATUS
    solution_interest: data_platform
    entry: ENTRY
    re_entry: RE_ENTRY
    exit_when: {opportunity_created: true}
    test_mode: {accounts: [A2], seed_emails: [qa@example.com, qa2@example.com]}
    start: mail
    nodes:
      mail: {type: send_email, template: hello, next: sms}
      sms: {type: send_sms, template: text, next: wait}
      wait: {type: wait, days: 1, next: done}
      done: {type: exit}
"""


def _small(tmp_path, status="live", entry="{audience: target_accounts}", re_entry="{mode: never}"):
    text = SMALL.replace("STATUS", status).replace("RE_ENTRY", re_entry).replace("ENTRY", entry)
    (tmp_path / "journeys.yaml").write_text(text)
    return load_config(tmp_path).config


def _go(config, world, enrolments=(), runs=None, values=None, attributes=None):
    interests = {
        "data_platform": {"name": "DP", "description": "", "business_outcome": "", "stage_model": "standard"}
    }
    out = JourneyRun(
        world,
        config.journeys,
        interests,
        config.stages.models,
        Settings(),
        list(enrolments),
        runs or {},
        values or {},
        attributes or {},
    ).run()
    return out, list(({e["enrolment_id"]: e for e in enrolments} | out.enrolments).values())


def test_consent_and_limits(tmp_path):
    """A1: p11 got 1 email 3 h ago (day limit 1): held; p12 opted in to SMS with a phone: the SMS
    goes, p11 has no SMS consent: held. A2: the account already had 10 messages today: held."""
    config = _small(tmp_path)
    world = _world(datetime(2026, 3, 2, 9))
    world.persons["p12"]["opt_out"] = False
    world.persons["p12"].update(email_opt_out=False, phone="+4911", sms_opt_in=True)
    world.sent[("email", "p11")].append(datetime(2026, 3, 2, 6))
    world.sent_to_account["A2"].extend([datetime(2026, 3, 2, 1)] * 10)
    out, _ = _go(config, world)
    got = [
        (m["person_id"], m["channel"], m["status"], m["hold_reason"])
        for m in out.outbox
        if m["account_id"] != "A3"
    ]
    assert got == [
        ("p11", "email", "held", "limit: 1 email per person per day"),
        ("p12", "email", "pending", None),
        ("p11", "sms", "held", "no phone number"),
        ("p12", "sms", "pending", None),
        ("p21", "email", "held", "limit: 10 messages per account per day"),
        ("p22", "email", "held", "limit: 10 messages per account per day"),
        ("p21", "sms", "held", "no phone number"),
        ("p22", "sms", "held", "no phone number"),
    ]


def test_test_mode_sends_to_seeds_only(tmp_path):
    """Status test: only A2 (the test account) enters; each message goes to the two seed
    addresses with A2's people's tokens; SMS has no seed phones: nothing."""
    config = _small(tmp_path, status="test")
    out, state = _go(config, _world(datetime(2026, 3, 2, 9)))
    assert {e["account_id"] for e in state} == {"A2"} and all(e["test"] for e in state)
    assert [(m["to_address"], m["body_text"].split()[0], m["test"]) for m in out.outbox] == [
        ("qa@example.com", "P21", True),
        ("qa2@example.com", "P21", True),
        ("qa@example.com", "P22", True),
        ("qa2@example.com", "P22", True),
    ]
    # Going live ends the test enrolment, and A2 may enter for real.
    live = _small(tmp_path, status="live")
    out, state = _go(live, _world(datetime(2026, 3, 3, 9)), state)
    ends = {(e["account_id"], e["test"]): (e["status"], e["end_reason"]) for e in state}
    assert ends[("A2", True)] == ("ended", "test over: the journey went live")
    assert ends[("A2", False)][0] == "active"


@pytest.mark.parametrize(
    ("re_entry", "day", "again"),
    [
        ("{mode: never}", 20, False),
        ("{mode: after_end, delay_days: 10, max_entries: 2}", 11, False),  # ended day 3: not until day 13
        ("{mode: after_end, delay_days: 10, max_entries: 2}", 13, True),
        ("{mode: after_start, delay_days: 5, max_entries: 2}", 7, True),  # entered day 2
        ("{mode: after_start, delay_days: 5, max_entries: 1}", 7, False),  # one entry in all
    ],
)
def test_re_entry(tmp_path, re_entry, day, again):
    """Enter on day 2, finish on day 3 (a 1-day wait), then try again on `day`."""
    config = _small(tmp_path, re_entry=re_entry)
    _, state = _go(config, _world(datetime(2026, 3, 2, 9)))
    _, state = _go(config, _world(datetime(2026, 3, 3, 9)), state)
    assert {e["status"] for e in state} == {"finished"}
    out, state = _go(config, _world(datetime(2026, 3, day, 9)), state)
    entered = {e["account_id"] for e in out.enrolments.values() if e["entry_no"] == 2}
    assert entered == ({"A1", "A2", "A3"} if again else set())


def test_entry_triggers(tmp_path):
    """A group reaching a stage enters once per move after the journey went live (and after the
    account's last entry); an attribute change enters on the second run that sees a new value."""
    config = _small(
        tmp_path, entry="{buying_group_stage: Engaged}", re_entry="{mode: after_end, max_entries: 5}"
    )
    world = _world(datetime(2026, 3, 2, 9))
    world.stage_moves = {
        "data_platform:A1": [("Engaged", datetime(2026, 2, 1))],  # before live: no
        "data_platform:A2": [("Engaged", datetime(2026, 3, 2, 8))],
    }
    runs = {"j": {"live_since": datetime(2026, 3, 1), "last_run_at": None}}
    out, _ = _go(config, world, runs=runs)
    assert {e["account_id"] for e in out.enrolments.values()} == {"A2"}

    config = _small(tmp_path, entry="{account_attribute_change: industry}")
    first, _ = _go(
        config, _world(datetime(2026, 3, 2)), attributes={"industry": {"A1": "Energy", "A2": "Retail"}}
    )
    assert not first.enrolments and first.attribute_values == {("j", "A1"): "Energy", ("j", "A2"): "Retail"}
    second, _ = _go(
        config,
        _world(datetime(2026, 3, 3)),
        values=first.attribute_values,
        attributes={"industry": {"A1": "Software", "A2": "Retail"}},
    )
    assert {e["account_id"] for e in second.enrolments.values()} == {"A1"}


def test_exit_on_opportunity(tmp_path):
    config = _small(tmp_path)
    _, state = _go(config, _world(datetime(2026, 3, 2, 9)))
    world = _world(datetime(2026, 3, 2, 20))
    world.opportunities = {"A1": [datetime(2026, 3, 2, 12)], "A2": [datetime(2026, 1, 1)]}  # A2's is older
    out, state = _go(config, world, state)
    assert {e["account_id"]: (e["status"], e["end_reason"]) for e in state if e["status"] != "active"} == {
        "A1": ("exited", "opportunity created")
    }


PEOPLE = """
templates:
  hello: {subject: "Hi", text: "{{ person.first_name }} {{ unsubscribe_url }}"}
journeys:
  j:
    name: J
    status: live
    solution_interest: data_platform
    entry: {audience: target_accounts}
    start: promote_active
    nodes:
      promote_active:
        type: assign_to_buying_group
        role: Influencer
        people: {member: false, activity: {kinds: [form_fill], within_days: 30, at_least: 1}}
        next: drop_quiet
      drop_quiet:
        type: remove_from_buying_group
        people: {roles: [Champion], activity: {kinds: [form_fill, email_open], within_days: 30, at_most: 0}}
        next: done
      done: {type: exit}
"""


def test_people_actions_and_conditions(tmp_path):
    """A1: p13 (not a member) filled a form 3 days ago -> Influencer; p12 (Champion) did nothing
    in 30 days -> removed; p11 (Decision Maker) is not a Champion: stays. A2: p22 (Champion)
    opened an email 40 days ago, outside the 30 days: removed too."""
    (tmp_path / "journeys.yaml").write_text(PEOPLE)
    config = load_config(tmp_path).config
    world = _world(datetime(2026, 3, 2, 9))
    world.persons["p13"] = _person("P13")
    world.account_persons["A1"].append("p13")
    world.activities = {
        "p13": [("form_fill", datetime(2026, 2, 27))],
        "p22": [("email_open", datetime(2026, 1, 21))],
    }
    out, _ = _go(config, world)
    assert [(m["buying_group_id"], m["person_id"], m["event"], m["role"]) for m in out.member_events] == [
        ("data_platform:A1", "p13", "added", "Influencer"),
        ("data_platform:A1", "p12", "removed", "Champion"),
        ("data_platform:A2", "p22", "removed", "Champion"),
    ]
    assert world.members["data_platform:A1"] == {"p11": "Decision Maker", "p13": "Influencer"}


def test_wait_arithmetic():
    """Friday 2026-03-06 15:00 UTC plus 1 day is Saturday 15:00; 'must end on Monday or Wednesday
    at 09:00 Berlin' moves it to Monday 03-09 09:00 CET = 08:00 UTC. After the switch to summer
    time (03-29) Monday 09:00 Berlin is 07:00 UTC. `until` ends at the date's midnight UTC."""
    from blueprint_pipeline.config.journeys import Wait
    from blueprint_pipeline.journeys.waits import wait_ends

    rule = {"weekdays": ["mon", "wed"], "time": "09:00", "time_zone": "Europe/Berlin"}
    wait = Wait.model_validate({"type": "wait", "days": 1, "must_end_on": rule, "next": "x"})
    assert wait_ends(wait, datetime(2026, 3, 6, 15)) == datetime(2026, 3, 9, 8)
    assert wait_ends(wait, datetime(2026, 3, 27, 15)) == datetime(2026, 3, 30, 7)
    assert wait_ends(wait, datetime(2026, 3, 8, 23, 30)) == datetime(
        2026, 3, 11, 8
    )  # +1 day: Tue 00:30 Berlin -> Wed
    until = Wait.model_validate({"type": "wait", "until": "2026-04-01", "next": "x"})
    assert wait_ends(until, datetime(2026, 3, 6, 15)) == datetime(2026, 4, 1)


MORE = """
templates:
  hello: {subject: "Hi", text: "{{ person.first_name }} {{ unsubscribe_url }}"}
journeys:
  j:
    name: J
    status: live
    solution_interest: data_platform
    entry: {audience: target_accounts}
    start: by_industry
    nodes:
      by_industry:
        type: split_accounts
        paths: [{name: energy, when: {account: {field: industry, op: eq, value: energy}}, next: linkedin}]
        other: listen
      linkedin: {type: add_to_linkedin_audience, audience: energy_retargeting, next: crm}
      crm: {type: update_crm_field, field: Journey_Stage__c, value: nurture, next: vip}
      vip: {type: add_to_list, list: vip, next: unvip}
      unvip: {type: remove_from_list, list: vip, next: done}
      listen: {type: listen, event: {activity_kind: email_click}, timeout_days: 2, on_timeout: nobody_path, next: done}
      nobody_path:
        type: split_accounts
        paths: [{name: big, when: {buying_group: {score_at_least: 100}}, next: done}]
      done: {type: exit}
"""


def test_account_actions_listen_timeout_and_no_path(tmp_path):
    """A1 is in Energy (the account filter, run in the warehouse, is given as its result): LinkedIn
    audience, a CRM field update, added to and removed from the vip list. A2 and A3 listen for a
    click for 2 days; none comes: the timeout path is a split whose only path (score >= 100)
    neither takes, and without an `other` path they leave the journey."""
    (tmp_path / "journeys.yaml").write_text(MORE)
    config = load_config(tmp_path).config
    split = config.journeys.journeys["j"].nodes["by_industry"]
    world = _world(datetime(2026, 3, 2, 9))
    world.account_matches = {id(split.paths[0].when.account): {"A1"}}
    out, state = _go(config, world)
    assert [(r["audience"], r["account_id"]) for r in out.linkedin] == [("energy_retargeting", "A1")]
    assert [(r["field"], r["value"]) for r in out.crm_updates] == [("Journey_Stage__c", "nurture")]
    assert [(r["list_name"], r["action"]) for r in out.list_events] == [("vip", "add"), ("vip", "remove")]
    world = _world(datetime(2026, 3, 4, 10))
    world.account_matches = {id(split.paths[0].when.account): {"A1"}}
    out, state = _go(config, world, state)
    assert [(s["account_id"], s["node"], s["outcome"]) for s in out.steps] == [
        ("A2", "listen", "timed out"), ("A2", "nobody_path", "no path"),
        ("A3", "listen", "timed out"), ("A3", "nobody_path", "no path"),
    ]  # fmt: skip
    assert {e["account_id"]: e["end_reason"] for e in state} == {
        "A1": "exit node done", "A2": "no path at nobody_path", "A3": "no path at nobody_path",
    }  # fmt: skip


def test_variants_split_each_way_and_stay_put(tmp_path):
    """Buckets for journey `j` (sha256 of journey and account, mod 10,000 / 100): A1 89.43,
    A2 66.45, A3 57.94. With a 70 / 30 split A2 and A3 (under 70) take `a`, A1 takes `b`."""
    text = (
        SMALL.replace("STATUS", "live")
        .replace("RE_ENTRY", "{mode: never}")
        .replace("ENTRY", "{audience: target_accounts}")
    )
    text = text.replace(
        "      mail: {type: send_email, template: hello, next: sms}",
        "      mail: {type: variant_split, variants: [{name: a, percent: 70, next: sms}, {name: b, percent: 30, next: wait}]}",
    )
    (tmp_path / "journeys.yaml").write_text(text)
    out, _ = _go(load_config(tmp_path).config, _world(datetime(2026, 3, 2, 9)))
    taken = {s["account_id"]: s["outcome"] for s in out.steps if s["node"] == "mail"}
    assert taken == {"A1": "variant b", "A2": "variant a", "A3": "variant a"}


READINESS = """
journeys:
  j:
    name: J
    status: live
    solution_interest: data_platform
    entry: {audience: target_accounts}
    start: by_readiness
    nodes:
      by_readiness:
        type: split_accounts
        paths:
          - {name: now, when: {buying_group: {readiness_tiers: [fast_track]}}, next: fast}
          - {name: soon, when: {buying_group: {readiness_tiers: [nurture, long_term]}}, next: slow}
      fast: {type: add_to_list, list: fast, next: done}
      slow: {type: add_to_list, list: slow, next: done}
      done: {type: exit}
"""


def test_a_split_on_readiness_tiers(tmp_path):
    """readiness_scores gives A1 fast_track and A2 nurture; A3 has no score: it matches no tier and,
    without an `other` path, leaves the journey."""
    (tmp_path / "journeys.yaml").write_text(READINESS)
    config = load_config(tmp_path).config
    world = _world(datetime(2026, 3, 2, 9))
    world.groups[("data_platform", "A1")]["readiness_tier"] = "fast_track"
    world.groups[("data_platform", "A2")]["readiness_tier"] = "nurture"
    out, state = _go(config, world)
    assert [(r["list_name"], r["account_id"]) for r in out.list_events] == [("fast", "A1"), ("slow", "A2")]
    assert {e["account_id"]: e["end_reason"] for e in state}["A3"] == "no path at by_readiness"


def test_the_engine_has_a_branch_for_every_node_type():
    """The engine dispatches on the node classes of config/journeys.py (`match node: case
    Wait(): ...`); a node type added to the union without a branch in `_execute` fails here, not
    on the first account that reaches it."""
    import ast
    import inspect
    import textwrap
    from typing import get_args

    from blueprint_pipeline.config.journeys import Node
    from blueprint_pipeline.journeys.engine import JourneyRun

    tree = ast.parse(textwrap.dedent(inspect.getsource(JourneyRun._execute)))
    branches = {p.cls.id for p in ast.walk(tree) if isinstance(p, ast.MatchClass)}
    node_types = {cls.__name__ for cls in get_args(get_args(Node)[0])}
    assert node_types - branches == set()
    assert branches - node_types == set()
