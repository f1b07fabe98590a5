"""Journey definitions are checked at load: each mistake is an error naming the file and key."""

from __future__ import annotations

import pytest

from blueprint_pipeline.core.errors import ConfigError
from blueprint_pipeline.core.paths import PROJECT_DIR
from blueprint_pipeline.resources import load_config

EXAMPLES = PROJECT_DIR / "examples" / "config"
BASE = """
templates:
  hello: {subject: "Hi {{ person.first_name }}", text: "{{ account.name }} {{ unsubscribe_url }}"}
  note: {channel: sms, text: "Hi {{ person.first_name }}"}
  alert: {subject: "{{ buying_group.name }}", text: "{{ buying_group.score }}"}
journeys:
  j:
    name: J
    solution_interest: data_platform
    entry: {audience: target_accounts}
    start: a
    nodes:
      a: {type: send_email, template: hello, next: w}
      w: {type: wait, days: 1, next: z}
      z: {type: exit}
"""


def _load(tmp_path, text):
    (tmp_path / "journeys.yaml").write_text(text)
    return load_config(tmp_path)


def test_the_example_journey_and_a_small_one_load(tmp_path):
    (tmp_path / "journeys.yaml").write_text((EXAMPLES / "journeys.yaml").read_text())
    assert load_config(tmp_path).config.journeys.journeys["platform_nurture"].status == "live"
    assert _load(tmp_path, BASE).config.journeys.journeys["j"].start == "a"


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("next: w}", "next: x}", "journeys.j': nodes.a: goes to unknown nodes ['x']"),
        ("      z: {type: exit}", "      z: {type: exit}\n      lost: {type: exit}", "nodes ['lost'] cannot be reached"),
        ("{type: wait, days: 1, next: z}",
         "{type: variant_split, variants: [{name: x, percent: 50, next: a}, {name: y, percent: 50, next: z}]}",
         "nodes ['a', 'w'] form a cycle without a wait"),
        ("template: hello, next: w", "template: nope, next: w", "'journeys.j.nodes.a.template': 'nope' is not a template"),
        ("template: hello, next: w", "template: note, next: w", "'note' is a sms template; send_email needs email"),
        ("{{ account.name }}", "{{ account.nam }}", "'templates.hello.text': unknown token 'account.nam'"),
        ("{{ account.name }}", "{{ accnt }}", "unknown token 'accnt'"),
        ("{{ account.name }}", "{{ account.name ", "not a valid template"),
        ("template: hello, next: w", "template: hello, to: {members: roles, roles: [Boss]}, next: w",
         "'Boss' is not a role of template 'standard'"),
        ("{audience: target_accounts}", "{audience: nobody}", "'journeys.j.entry.audience': 'nobody' is not an audience"),
        ("{audience: target_accounts}", "{buying_group_stage: Hot}", "'Hot' is not a stage of model 'standard'"),
        ("{audience: target_accounts}", "{audience: target_accounts, buying_group_created: true}", "give exactly one entry trigger"),
        ("{type: wait, days: 1, next: z}", "{type: wait, days: 1, until: 2026-03-01, next: z}", "not both"),
        ("{type: wait, days: 1, next: z}", "{type: wait, days: 1, must_end_on: {weekdays: [mon], time_zone: Mars/Base}, next: z}",
         "'Mars/Base' is not an IANA time zone"),
        ("{type: wait, days: 1, next: z}", "{type: variant_split, variants: [{name: a, percent: 60, next: z}, {name: b, percent: 30, next: z}]}",
         "add up to 90, not 100"),
        ("{type: wait, days: 1, next: z}", "{type: listen, event: {activity_kind: telepathy}, next: z}",
         "'telepathy' is not an activity kind"),
        ("{type: wait, days: 1, next: z}", "{type: send_sales_alert, template: hello, next: z}",
         "a sales alert goes to sales, not to a person"),
        ("solution_interest: data_platform", "solution_interest: nope", "'nope' is not a solution interest"),
        ("name: J", "name: J\n    status: test", "status test needs test_mode"),
    ],
)  # fmt: skip
def test_mistakes_are_clear_errors(tmp_path, old, new, message):
    assert old in BASE
    with pytest.raises(ConfigError, match="journeys.yaml") as error:
        _load(tmp_path, BASE.replace(old, new, 1))
    assert message in str(error.value)


def test_split_people_paths_hold_only_people_actions(tmp_path):
    text = BASE.replace(
        "      a: {type: send_email, template: hello, next: w}",
        "      a: {type: split_people, paths: [{name: p, when: {member: true}, next: b}], merge: m}\n"
        "      b: {type: wait, days: 1, next: m}\n"
        "      m: {type: merge, next: w}",
    )
    with pytest.raises(ConfigError, match="a path of split_people may hold only actions on people"):
        _load(tmp_path, text)
