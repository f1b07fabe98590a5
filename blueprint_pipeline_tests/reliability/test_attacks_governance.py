"""Governance: every outbound path is checked against the labels of the
data that selected and filled it, and a journey a policy blocks is refused when the config loads.

Hand-made config directories (tmp_path) throughout; one end-to-end `blueprint run` shows that a
refused journey stops the run before anything is sent.

The config of item 6: `salesforce.Account.BillingCountry` labelled C12 (never exported), the
shipped policy `restrict_export` (C12 on data_export), an audience `emea` filtering on
`billing_country`, and a live journey entering that audience whose node `flag` updates a CRM
field. The CRM performs data_export, so the journey is refused, naming journey, node, field, label,
policy and action; the CRM write-back, which carries the journeys' field updates, is blocked too.
"""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from blueprint_pipeline.core.errors import ConfigError
from blueprint_pipeline.core.paths import DEFAULT_CONFIG_DIR, PROJECT_DIR
from blueprint_pipeline.governance.lineage import violations
from blueprint_pipeline.resources import load_config
from blueprint_pipeline_tests.builds import build_env
from blueprint_pipeline_tests.reliability.conftest import AS_OF

EXAMPLE = PROJECT_DIR / "examples" / "config"
COUNTRY_C12 = "field_labels:\n  salesforce.Account.BillingCountry: [C12]\n"
EMEA = """
audiences:
  emea:
    description: Accounts billed in Europe.
    filter: {field: billing_country, op: in, value: [Germany, France]}
"""


def _journey(status: str, nodes: str, entry: str = "{audience: emea}", start: str = "first") -> str:
    return f"""
journeys:
  geo:
    name: Geo
    status: {status}
    solution_interest: data_platform
    entry: {entry}
    start: {start}
    nodes:
{nodes}
templates:
  hello_sms: {{channel: sms, text: "Hi {{{{ person.first_name }}}}"}}
"""


CRM_UPDATE = """      first: {type: update_crm_field, field: Region__c, value: EMEA, next: done}
      done: {type: exit}
"""


def _dir(tmp_path, **files: str):
    for name, text in files.items():
        (tmp_path / f"{name}.yaml").write_text(text)
    return tmp_path


def _refusal(tmp_path) -> str:
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path)
    return str(caught.value)


def test_a_crm_update_selected_by_a_labelled_field_is_refused_at_load(tmp_path):
    """Item 6: before, the config loaded and account_updates.csv was written (11 rows)."""
    _dir(tmp_path, governance=COUNTRY_C12, audiences=EMEA, journeys=_journey("live", CRM_UPDATE))
    message = _refusal(tmp_path)
    assert message.startswith(f"{tmp_path / 'journeys.yaml'}: key 'journeys.geo.nodes.first': ")
    for part in (
        "journey geo node first",
        "label C12 on salesforce.Account.BillingCountry",
        "policy restrict_export (data_export)",
        "path: salesforce.Account.BillingCountry > unified_accounts.billing_country > audience emea > "
        "entry of journey geo > crm, journey geo node first",
    ):
        assert part in message, message


def test_validate_config_stops_with_the_report(tmp_path, capsys):
    from blueprint_pipeline.runtime.cli import main

    _dir(tmp_path, governance=COUNTRY_C12, audiences=EMEA, journeys=_journey("live", CRM_UPDATE))
    assert main(["validate-config", str(tmp_path)]) != 0
    captured = capsys.readouterr()
    assert "config OK" not in captured.out
    assert "label C12 on salesforce.Account.BillingCountry breaks policy restrict_export" in captured.err
    assert "Traceback" not in captured.err


def test_the_crm_write_back_carries_the_labels_of_journey_updates(tmp_path):
    """Item 6 at activation: the write-back's own gate (checks.gate > violations) sees the journeys'
    field updates, so a config that never passed the load check still writes nothing. A draft
    journey does not act, so it loads; made live in memory, it blocks the write-back."""
    _dir(tmp_path, governance=COUNTRY_C12, audiences=EMEA, journeys=_journey("draft", CRM_UPDATE))
    config = load_config(tmp_path).config
    assert violations(config, "crm") == {"write-back": []}
    live = config.journeys.journeys["geo"].model_copy(update={"status": "live"})
    journeys = config.journeys.model_copy(update={"journeys": {"geo": live}})
    config = config.model_copy(update={"journeys": journeys})
    found = violations(config, "crm")["write-back"]
    assert {(v.policy, v.label, v.field) for v in found} == {
        ("restrict_export", "C12", "salesforce.Account.BillingCountry")
    }
    assert found[0].path[-2:] == ("crm, journey geo node first", "crm write-back")


EMAIL_I1 = """
policies:
  no_identified_email:
    description: Labelled contact data is not used to choose people for emails.
    marketing_action: email_targeting
    labels: [I1]
"""


def test_a_journey_email_is_checked_like_the_marketo_list(tmp_path):
    """Item 7: the policy that blocks the Marketo list (email_targeting) used to let the example
    journey's emails out. Now the journey is refused, by the address it sends to and the names its
    template fills."""
    shutil.copy(EXAMPLE / "journeys.yaml", tmp_path / "journeys.yaml")
    _dir(
        tmp_path,
        governance=EMAIL_I1,
        activation="marketo:\n  static_lists:\n    members: {members_of: data_platform}\n",
    )
    message = _refusal(tmp_path)
    assert "key 'journeys.platform_nurture.nodes.intro'" in message
    assert (
        "email, journey platform_nurture node intro: label I1 on salesforce.Contact.Email breaks policy "
        "no_identified_email (email_targeting); path: salesforce.Contact.Email > unified_persons.email > "
        "address > email, journey platform_nurture node intro"
    ) in message
    assert "label I1 on salesforce.Contact.FirstName" in message  # {{ person.first_name }}
    assert "journey platform_nurture node case_study" in message  # every node, in one report
    # The same policy, the same check, on the Marketo list (loaded without the journey).
    (tmp_path / "journeys.yaml").unlink()
    assert violations(load_config(tmp_path).config, "marketo")["members"]


@pytest.mark.parametrize(
    ("nodes", "entry", "governance", "expected"),
    [
        pytest.param(  # an SMS: its template's fields and the phone number it goes to
            "      first: {type: send_sms, template: hello_sms, next: done}\n      done: {type: exit}\n",
            "{buying_group_created: true}",
            "policies:\n  no_sms_pii: {marketing_action: sms_targeting, labels: [I1]}\n",
            ("first", "sms", "I1", "salesforce.Contact.Phone", "no_sms_pii", "sms_targeting"),
            id="sms",
        ),
        pytest.param(  # a sales alert after a split on a labelled account field
            "      split: {type: split_accounts, paths: [{name: de, when: {account: {field: billing_country, "
            "op: eq, value: Germany}}, next: alert}], other: done}\n"
            "      alert: {type: send_sales_alert, next: done}\n      done: {type: exit}\n",
            "{buying_group_created: true}",
            COUNTRY_C12 + "policies:\n  no_geo_alerts: {marketing_action: sales_alert, labels: [C12]}\n",
            (
                "alert",
                "sales_alert",
                "C12",
                "salesforce.Account.BillingCountry",
                "no_geo_alerts",
                "sales_alert",
            ),
            id="sales-alert-after-split",
        ),
        pytest.param(  # an account added to a LinkedIn audience, chosen by a labelled field
            "      first: {type: add_to_linkedin_audience, audience: emea_ads, next: done}\n"
            "      done: {type: exit}\n",
            "{audience: emea}",
            COUNTRY_C12,
            (
                "first",
                "linkedin",
                "C12",
                "salesforce.Account.BillingCountry",
                "restrict_export",
                "data_export",
            ),
            id="linkedin-audience",
        ),
    ],
)
def test_every_outbound_node_is_checked(tmp_path, nodes, entry, governance, expected):
    start = "split" if "split:" in nodes else "first"
    _dir(tmp_path, governance=governance, audiences=EMEA, journeys=_journey("live", nodes, entry, start))
    message = _refusal(tmp_path)
    node, destination, label, field, policy, action = expected
    assert f"key 'journeys.geo.nodes.{node}'" in message
    assert (
        f"{destination}, journey geo node {node}: label {label} on {field} breaks policy {policy} ({action})"
        in (message)
    )


def test_a_standing_sales_alert_rule_is_checked_like_a_journey_alert(tmp_path):
    """Standing rules send the same alert as a journey's send_sales_alert node: routed by a
    territory on a labelled field, they are refused at load as well (alerts.yaml, first rule)."""
    _dir(
        tmp_path,
        governance=COUNTRY_C12
        + "policies:\n  no_geo_alerts: {marketing_action: sales_alert, labels: [C12]}\n",
        alerts="routing:\n  territories:\n    - {name: dach, when: {field: billing_country, op: eq, value: "
        "Germany}, to: dach@example.com}\n",
    )
    message = _refusal(tmp_path)
    assert message.startswith(f"{tmp_path / 'alerts.yaml'}: key 'rules.group_qualified': ")
    assert (
        "sales_alert, alert rule sales_ready: label C12 on salesforce.Account.BillingCountry breaks policy "
        "no_geo_alerts (sales_alert); path: salesforce.Account.BillingCountry > unified_accounts.billing_country "
        "> territory dach > sales_alert, alert rule sales_ready"
    ) in message


def test_an_email_is_not_an_export_unless_the_config_says_so(tmp_path):
    """combine_with_pii is derived for paths performing data_export (the lists) only: C3 on the
    industry that chooses the data_platform groups blocks the Marketo list of their members, not
    the example journey's emails to them; `destinations.email: [email_targeting, data_export]` in
    governance.yaml makes an email an export, and the journey is refused."""
    shutil.copy(EXAMPLE / "journeys.yaml", tmp_path / "journeys.yaml")
    industry_c3 = "field_labels:\n  salesforce.Account.Industry: [C3]\n"
    marketo = "marketo:\n  static_lists:\n    members: {members_of: data_platform}\n"
    _dir(tmp_path, governance=industry_c3, activation=marketo)
    config = load_config(tmp_path).config
    assert {v.policy for v in violations(config, "marketo")["members"]} == {"restrict_combining_with_pii"}
    _dir(tmp_path, governance=industry_c3 + "destinations:\n  email: [email_targeting, data_export]\n")
    message = _refusal(tmp_path)
    assert (
        "email, journey platform_nurture node intro: label C3 on salesforce.Account.Industry breaks policy "
        in (message)
    )
    assert "restrict_combining_with_pii (combine_with_pii)" in message


def test_the_shipped_defaults_and_the_example_load_and_their_journey_is_followed(tmp_path):
    """No shipped policy blocks the example journey; its nodes are nonetheless followed (the
    address of each email carries the shipped I1 label), so a silent lineage would show here."""
    for directory in (None, EXAMPLE):
        load_config(directory)
    from blueprint_pipeline.governance.lineage import Lineage, sender_violations

    config = load_config(EXAMPLE).config
    assert sender_violations(config) == {}

    reached = {a.name: {t.label for t in a.exported + a.selected} for a in Lineage(config).journey_nodes()}
    assert set(reached) == {
        "journey platform_nurture node intro",
        "journey platform_nurture node case_study",
        "journey platform_nurture node alert_sales",
        "journey platform_nurture node mark_in_crm",
    }
    assert all("I1" in labels for labels in reached.values())
    assert "sales_alert" in (DEFAULT_CONFIG_DIR / "governance.yaml").read_text()


def test_a_refused_journey_stops_blueprint_run_before_anything_is_sent(tmp_path, landing):
    """End to end: `blueprint run` on the tiny sample with the example journey and a policy that
    forbids its emails ends in one error line, no traceback, and no mailbox (before: the build ran
    and the mailbox held the journey's emails)."""
    from blueprint_pipeline.warehouse import DuckDBWarehouse

    (tmp_path / "config").mkdir()
    config = _dir(tmp_path / "config", governance=EMAIL_I1)
    shutil.copy(EXAMPLE / "journeys.yaml", config / "journeys.yaml")
    env = build_env(tmp_path / "out", DuckDBWarehouse(path=str(tmp_path / "out" / "w.duckdb")))
    done = subprocess.run(
        [sys.executable, "-m", "blueprint_pipeline.runtime.cli", "run", "--landing", str(landing), "--config", str(config),
         "--as-of", AS_OF],
        env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode != 0, done.stdout[-2000:]
    assert "journeys.platform_nurture.nodes.intro" in done.stderr
    assert "policy no_identified_email (email_targeting)" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "out" / "mailbox").exists()
    assert not (tmp_path / "out" / "activation").exists()


# The template tokens: one list (journeys/validate.py TOKEN_SOURCES) for the renderer, the
# validation and the lineage check.

SMS_NODE = "      first: {type: send_sms, template: hello_sms, next: done}\n      done: {type: exit}\n"


def test_a_token_without_a_lineage_source_refuses_the_config(tmp_path, monkeypatch):
    """A token the renderer and validation accept but whose data nobody named (person.nickname,
    added to the validation's list alone) passed the policy check unseen: lineage had its own copy
    of the list and skipped a token in neither. Now the config is refused, naming the token."""
    from blueprint_pipeline.journeys import validate

    monkeypatch.setitem(validate.TOKENS, "person", (*validate.TOKENS["person"], "nickname"))
    journeys = _journey("live", SMS_NODE, "{buying_group_created: true}")
    _dir(tmp_path, journeys=journeys.replace("person.first_name", "person.nickname"))
    assert "templates.hello_sms: token 'person.nickname' has no known source (None)" in _refusal(tmp_path)


def test_every_token_the_renderer_fills_is_followed_to_its_data(tmp_path):
    """Every token the journey engine renders is in TOKEN_SOURCES, and the lineage check follows
    each, in the example config with labels of our own: a field token reaches the label on its
    unified field (F0, F1, ...), a buying-group token the ACC on salesforce.Account (the audience
    choosing the group), a score token also the ENG on tracking.events (scored opens), a config token nothing."""
    from types import SimpleNamespace

    from blueprint_pipeline.governance.lineage import Lineage
    from blueprint_pipeline.journeys.engine import JourneyRun
    from blueprint_pipeline.journeys.validate import (
        BUYING_GROUP,
        CONFIG,
        SCORED_BUYING_GROUP,
        TOKEN_SOURCES,
        TOKENS,
    )

    run = SimpleNamespace(
        interests={"i": {"name": "I", "description": "", "business_outcome": ""}},
        world=SimpleNamespace(accounts={"a1": {}}),
    )
    group = {"id": "g", "name": "G", "completeness": 0.5, "score": 1.0}
    journey = SimpleNamespace(solution_interest="i", name="J")
    rendered = JourneyRun._tokens(run, journey, {"account_id": "a1"}, group, {}, "u")
    assert set(rendered) == set(TOKENS)
    for head in ("buying_group", "solution_interest", "journey"):  # account and person: world rows
        assert tuple(rendered[head]) == TOKENS[head]

    fields = sorted(
        {s for s in TOKEN_SOURCES.values() if s not in (CONFIG, BUYING_GROUP, SCORED_BUYING_GROUP)}
    )
    own = {field: f"F{n}" for n, field in enumerate(fields)}
    shutil.copytree(EXAMPLE, tmp_path, dirs_exist_ok=True)
    (tmp_path / "governance.yaml").write_text(
        "custom_labels: {"
        + ", ".join(f"{label}: test" for label in [*own.values(), "ACC", "ENG"])
        + "}\ndataset_labels: {salesforce.Account: [ACC], tracking.events: [ENG]}\n"
        + "field_labels: {"
        + ", ".join(f"{field}: [{label}]" for field, label in own.items())
        + "}\n"
    )
    config = load_config(tmp_path).config
    templates = config.journeys.templates
    name = next(n for n, t in templates.items() if t.channel == "email")
    for token, source in TOKEN_SOURCES.items():
        templates[name] = templates[name].model_copy(
            update={"subject": "s", "text": f"{{{{ {token} }}}}", "html": None}
        )
        labels = {t.label for t in Lineage(config).template(name, "data_platform")}
        if source == CONFIG:
            assert labels == set(), token
        elif source in own:
            assert own[source] in labels, token
        else:
            assert "ACC" in labels and ("ENG" in labels) == (source == SCORED_BUYING_GROUP), (token, labels)
