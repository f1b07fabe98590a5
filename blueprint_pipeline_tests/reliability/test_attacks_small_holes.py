"""The small holes: each attack as it was reproduced, and what the platform does now
(docs/reliability.md, "Small holes")."""

from __future__ import annotations

import csv
import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import dagster as dg
import pytest
import uvicorn

from blueprint_pipeline.config.journeys import Template
from blueprint_pipeline.core.errors import BlueprintError, ConfigError, WarehouseError
from blueprint_pipeline.core.redact import url_shown, without_passwords
from blueprint_pipeline.journeys.render import render
from blueprint_pipeline.resources import load_config
from blueprint_pipeline.runtime.build import (
    BuildOptions,
    BuildSummary,
    definitions_for_runs,
    run_build,
    whole_steps,
)
from blueprint_pipeline.runtime.cli import main
from blueprint_pipeline.runtime.postgres_setup import main as postgres_setup
from blueprint_pipeline.tracking.app import create_app
from blueprint_pipeline.tracking.events import EventWriter
from blueprint_pipeline.tracking.links import open_url, tracked_html, unsubscribe_url
from blueprint_pipeline_tests.conftest import FIXTURES
from blueprint_pipeline_tests.identity.test_unified import CAROL
from blueprint_pipeline_tests.ingestion.test_two_drops import build
from blueprint_pipeline_tests.journeys.test_tracking import SECRET, _get


@pytest.fixture(autouse=True)
def environment_restored() -> Iterator[None]:
    """main() and run_build() set the BLUEPRINT_* variables of the run they start, as the CLI's own
    process would: the environment is put back for the tests that run after in this worker."""
    saved = dict(os.environ)
    yield
    os.environ.clear()
    os.environ.update(saved)


@contextmanager
def serving(app) -> Iterator[str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


def _landed_rows(folder: Path) -> list[dict]:
    rows = []
    for path in sorted(folder.glob("events_*.csv")):
        with path.open(newline="", encoding="utf-8") as handle:
            rows += list(csv.DictReader(handle))
    return rows


# 8. Two tracking servers on one landing folder.


def test_a_second_writer_leaves_the_first_ones_open_file_alone(tmp_path):
    first = EventWriter(tmp_path, rotate_seconds=60)
    first.record("open", "tok1", "p1")
    second = EventWriter(tmp_path, rotate_seconds=60)  # start-up lands what dead writers left
    assert not list((tmp_path / "tracking").glob("events_*.csv")), "the first writer's open file was landed"
    first.record("click", "tok1", "p1", url="https://example.com/")
    second.record("open", "tok2", "p2")
    first.rotate()
    second.rotate()
    landed = sorted((tmp_path / "tracking").glob("events_*.csv"))
    assert len(landed) == 2  # a file per writer
    assert sorted((r["message_token"], r["event"]) for r in _landed_rows(tmp_path / "tracking")) == [
        ("tok1", "click"),
        ("tok1", "open"),
        ("tok2", "open"),
    ]


def test_a_dead_writers_file_is_still_landed_at_start_up(tmp_path):
    incoming = tmp_path / "tracking" / ".incoming"
    incoming.mkdir(parents=True)
    left = incoming / "4242_deadbeef.csv"  # no process holds it: its writer died
    left.write_text("event_id,occurred_at,event,message_token,person_id,url,user_agent\n"
                    "e1,2026-01-01T00:00:00.000000Z,open,tok,p,,\n")  # fmt: skip
    EventWriter(tmp_path)
    assert not left.exists()
    assert [r["event_id"] for r in _landed_rows(tmp_path / "tracking")] == ["e1"]


def test_two_endpoints_on_one_landing_folder_both_answer_and_land_every_event(tmp_path):
    landing = tmp_path / "landing"
    first_app = create_app(landing, SECRET, rotate_seconds=60)
    with serving(first_app) as first:
        assert _get(open_url(first, SECRET, "tok1", "p1"))[0] == 200
        with serving(create_app(landing, SECRET, rotate_seconds=60)) as second:
            assert _get(open_url(first, SECRET, "tok2", "p1"))[0] == 200
            assert _get(open_url(second, SECRET, "tok3", "p2"))[0] == 200
            first_app.state.writer.rotate()  # what the first endpoint does every few seconds
            assert _get(open_url(first, SECRET, "tok4", "p1"))[0] == 200
    tokens = sorted(r["message_token"] for r in _landed_rows(landing / "tracking"))
    assert tokens == ["tok1", "tok2", "tok3", "tok4"]
    assert not list((landing / "tracking" / ".incoming").glob("*.csv"))


# 9. A password in an error line.

MISTYPED = [
    "postgres+psycopg2://user:SECRET@host/db",
    "postgresql+psycopg://user:SECRET@host/db",
    "mysql://user:SECRET@host/db",
    "postgresql://user:SECRET@host/db",
    "duckdb://user:SECRET@host/db",
    "postgresql+psycopg2://user:SE@CR/ET@host/db",  # a password with `@` and `/` in it
    "mysql://user:SE'CRET@host/db",  # a quote, a double quote, a space: the password goes on
    'mysql://user:SE"CRET@host/db',
    "mysql://user:SE CRET@host/db",
    "redis://SECRET@host/0",  # a token alone in the user part
    "postgresql+psycopg2://user:SE@CRET@host/db",  # the driver would print "CRET@host"
]


@pytest.mark.parametrize("url", MISTYPED)
def test_no_warehouse_url_is_printed_with_its_password(url, tmp_path, capsys):
    assert main(["run", "--landing", str(tmp_path), "--warehouse", url]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "warehouse URL" in err
    assert "CRET" not in err and "CR/ET" not in err and "user:" not in err
    assert f"{url.split('://')[0]}://***@host" in err  # the rest stays: the user sees which URL


@pytest.mark.parametrize("url", [u.replace("@host", "@127.0.0.1:1") for u in MISTYPED])
def test_postgres_setup_prints_no_part_of_the_user_part_of_its_url(url, capsys):
    assert postgres_setup([url, "warehouse_db"]) == 2  # nothing listens on port 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "://***@127.0.0.1:1" in err
    assert "CRET" not in err and "CR/ET" not in err and "user:" not in err


@pytest.mark.parametrize("url", MISTYPED)
def test_the_warehouse_error_itself_carries_no_password(url):
    with pytest.raises(WarehouseError) as raised:
        from blueprint_pipeline.warehouse import warehouse_from_url

        warehouse_from_url(url)
    assert "SECRET" not in str(raised.value)


def test_any_error_line_and_summary_hides_the_passwords_of_the_urls_it_quotes(monkeypatch, capsys):
    def fails(args):
        raise BlueprintError("broker amqp://guest:SECRET@rabbit:5672// refused; smtp://m:SECRET@mail:587 too")

    monkeypatch.setattr("blueprint_pipeline.runtime.cli._cmd_generate", fails)
    assert main(["generate"]) == 2
    assert (
        capsys.readouterr().err
        == "error: broker amqp://guest:***@rabbit:5672// refused; smtp://m:***@mail:587 too\n"
    )
    summary = BuildSummary(False, "r1", datetime(2026, 11, 25), "v1", "duckdb:///w.duckdb")
    summary.failures.append("journey_deliveries: cannot reach smtp://m:SECRET@mail:587")
    assert "SECRET" not in summary.render() and "smtp://m:***@mail:587" in summary.render()


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("postgresql+psycopg2://u@h:5432/db", "postgresql+psycopg2://u@h:5432/db"),  # no password
        ("postgresql://h:5432/db", "postgresql://h:5432/db"),
        ("duckdb:///data/w.duckdb", "duckdb:///data/w.duckdb"),
        ("'redis://:SECRET@cache:6379/0'", "'redis://:***@cache:6379/0'"),
        (
            "https://a:SECRET@x.example/?q=1 and sftp://b:SECRET@y",
            "https://a:***@x.example/?q=1 and sftp://b:***@y",
        ),
        # A password holding a quote, a double quote, a space or `@`: hidden to its last `@`.
        ("'mysql://u:se'cret@h/db': expected duckdb:///w", "'mysql://u:***@h/db': expected duckdb:///w"),
        ('"mysql://u:se"cret@h/db"', '"mysql://u:***@h/db"'),
        (
            "at postgresql+psycopg2://u:se cr@et@h/db (schema s)",
            "at postgresql+psycopg2://u:***@h/db (schema s)",
        ),
        ("mysql://o'neil:SECRET@h", "mysql://o'neil:***@h"),
    ],
)
def test_without_passwords(text, shown):
    assert without_passwords(text) == shown


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("redis://TOKEN@h:6379/0", "redis://***@h:6379/0"),
        ("mysql://u:se'c @r/et@h/db?x=1", "mysql://***@h/db?x=1"),  # the user part ends at the last `@`
        ("mysql://h/db?to=a@b", "mysql://***@b"),  # an `@` in the query hides more, never less
        ("postgresql+psycopg2://h:5432/db", "postgresql+psycopg2://h:5432/db"),
        ("u:p@h/db", "***@h/db"),  # no scheme
    ],
)
def test_an_echoed_url_never_shows_its_user_part(url, shown):
    assert url_shown(url) == shown


# 11. A YAML alias bomb.


def _alias_bomb(width: int, depth: int) -> str:
    """`width` aliases nested `depth` deep under one key: width ** depth values once expanded."""
    lines = ["a0: &a0 [x]"]
    for level in range(1, depth + 1):
        lines.append(f"a{level}: &a{level} [{', '.join([f'*a{level - 1}'] * width)}]")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("depth", [7, 8, 30])
def test_an_alias_bomb_is_refused_in_under_a_second(depth, tmp_path, capsys):
    (tmp_path / "scoring.yaml").write_text(_alias_bomb(9, depth))
    started = time.monotonic()
    assert main(["validate-config", str(tmp_path)]) == 2
    assert time.monotonic() - started < 1.0
    err = capsys.readouterr().err
    assert err.startswith(
        f"error: {tmp_path / 'scoring.yaml'}: its YAML aliases expand to more than 10,000 values"
    )
    assert len(err.splitlines()) == 1


def test_a_config_file_over_a_megabyte_is_refused(tmp_path):
    (tmp_path / "sources.yaml").write_text("# padding\n" * 110_000)  # 1.1 MB of comments
    with pytest.raises(ConfigError, match=r"sources\.yaml: 1,100,000 bytes; a config file over 1,000,000"):
        load_config(tmp_path)


def test_an_alias_inside_its_own_anchor_is_refused(tmp_path):
    (tmp_path / "scoring.yaml").write_text("loop: &loop [1, *loop]\n")
    with pytest.raises(ConfigError, match=r"scoring\.yaml: a YAML alias refers to a value that contains it"):
        load_config(tmp_path)


def test_brackets_nested_thousands_deep_are_one_line_not_a_traceback(tmp_path):
    (tmp_path / "scoring.yaml").write_text("x: " + "[" * 5000 + "]" * 5000 + "\n")
    with pytest.raises(ConfigError, match=r"scoring\.yaml: nested too deeply"):
        load_config(tmp_path)


def test_ordinary_aliases_still_load(tmp_path):
    (tmp_path / "sources.yaml").write_text(
        "header_aliases:\n"
        "  linkedin:\n"
        "    lead_gen_responses: &aliases\n"
        "      Email address: [Work email]\n"
        "  marketo:\n"
        "    leads:\n"
        "      <<: *aliases\n"
        "      smsConsent: [smsOptIn]\n"
    )
    loaded = load_config(tmp_path)
    assert loaded.config.sources.aliases_for("marketo", "leads") == {
        "Email address": ["Work email"],
        "smsConsent": ["smsOptIn"],
    }


# 13. A template link with `&amp;`; the unsubscribe page's form action.


class Attributes(HTMLParser):
    """The attribute values of a page as a browser reads them (entities decoded)."""

    def __init__(self):
        super().__init__()
        self.found: list[tuple[str, str, str]] = []

    def handle_starttag(self, tag, attrs):
        self.found += [(tag, name, value) for name, value in attrs]


def _attribute(page: str, tag: str, name: str) -> str:
    parser = Attributes()
    parser.feed(page)
    return next(value for t, n, value in parser.found if (t, n) == (tag, name))


def test_a_template_link_with_an_html_entity_redirects_where_the_link_points(tmp_path):
    template = Template(
        subject="Hi",
        text="Hi",
        html='<html><body><a href="https://x.example/p?a=1&amp;b=2">Read</a> '
        '<a href="{{ link }}">Token</a></body></html>',
    )
    page = render(template, {"link": "https://x.example/q?c=3&d=4"}).html  # autoescaped: &amp;
    with serving(create_app(tmp_path / "landing", SECRET, rotate_seconds=60)) as base:
        page = tracked_html(page, base, SECRET, "m1", "p1")
        parser = Attributes()
        parser.feed(page)
        links = [value for tag, name, value in parser.found if (tag, name) == ("a", "href")]
        assert [_get(link)[1]["location"] for link in links] == [
            "https://x.example/p?a=1&b=2",
            "https://x.example/q?c=3&d=4",
        ]
        assert _get(_attribute(page, "img", "src"))[0] == 200  # the pixel's URL decodes to a valid one


def test_the_unsubscribe_page_echoes_nothing_of_the_request_into_its_form(tmp_path):
    with serving(create_app(tmp_path / "landing", SECRET, rotate_seconds=60)) as base:
        page_url = unsubscribe_url(base, SECRET, "m1", "p1") + '&x="><script>alert(1)</script>'
        status, _, body = _get(page_url)
        page = body.decode()
        assert status == 200 and "<script>" not in page and "alert" not in page
        action = _attribute(page, "form", "action")
        assert (
            action
            == urlsplit(unsubscribe_url(base, SECRET, "m1", "p1"))._replace(scheme="", netloc="").geturl()
        )
        status, _, body = _get(base + action, data=b"")  # the button posts to the action
        assert status == 200 and b"You are unsubscribed" in body


# 13. A signed open link replayed 1,500 times.


def test_a_replayed_open_or_click_counts_once_per_message(warehouse, tmp_path, monkeypatch):
    """Carol (identity_unified) got emails m1 and m2; the build's as-of is 2026-03-01 00:00.
    m1: first opened 02-25 00:00, then its open link replayed 1,499 times over 02-25..02-27;
        its link A clicked 02-26 00:00 and replayed twice, link B clicked 02-27 00:00.
    m2: opened once, 02-28 00:00.
    Worked by hand (email_open 1 point, email_click 3, half-life 30 days, cap 5 a day):
      scored: m1's first open (age 4 days), m2's open (age 1), m1's first click (age 3);
      email_open = 0.5^(4/30) + 0.5^(1/30); email_click = 3 x 0.5^(3/30).
    Before: 1,501 opens scored, 5 a day counted (the cap) -> 16 opens; 4 clicks."""
    landing = tmp_path / "landing"
    shutil.copytree(FIXTURES / "identity_unified", landing)
    (landing / "tracking").mkdir()
    lines = ["event_id,occurred_at,event,message_token,person_id,url,user_agent"]
    lines.append(f"o0000,2026-02-25T00:00:00Z,open,m1,{CAROL},,")
    for n in range(1, 1500):  # replays 2.88 minutes apart, from 02-25 00:00:01 to 02-27 23:57
        at = datetime(2026, 2, 25, 0, 0, 1) + timedelta(minutes=2.88 * n)
        lines.append(f"o{n:04},{at:%Y-%m-%dT%H:%M:%S}Z,open,m1,{CAROL},,")
    lines += [
        f"c1,2026-02-26T00:00:00Z,click,m1,{CAROL},https://x.example/a,",
        f"c2,2026-02-26T00:00:05Z,click,m1,{CAROL},https://x.example/a,",
        f"c3,2026-02-26T00:00:09Z,click,m1,{CAROL},https://x.example/a,",
        f"c4,2026-02-27T00:00:00Z,click,m1,{CAROL},https://x.example/b,",
        f"m2o,2026-02-28T00:00:00Z,open,m2,{CAROL},,",
    ]
    (landing / "tracking" / "events_1.csv").write_text("\n".join(lines) + "\n")
    result = build(landing, warehouse, monkeypatch)
    assert result.success, result.render()

    assert warehouse.scalar("select count(*) from stg_tracking__events") == 1505  # every raw row kept
    assert sorted(
        warehouse.fetchall(
            "select activity_id, kind from int_person_activities where origin = 'tracking' and person_id = $p",
            {"p": CAROL},
        )
    ) == [("tk:c1", "email_click"), ("tk:m2o", "email_open"), ("tk:o0000", "email_open")]
    per_kind = {
        kind: (int(activities), int(counted), float(contribution))
        for kind, activities, counted, contribution in warehouse.fetchall(
            "select kind, sum(activities), sum(counted), sum(contribution) from person_engagement_contributions "
            "where person_id = $p and kind in ('email_open', 'email_click') group by kind",
            {"p": CAROL},
        )
    }
    assert per_kind["email_open"][:2] == (2, 2)
    assert per_kind["email_open"][2] == pytest.approx(0.5 ** (4 / 30) + 0.5 ** (1 / 30), abs=1e-8)
    assert per_kind["email_click"][:2] == (1, 1)
    assert per_kind["email_click"][2] == pytest.approx(3 * 0.5 ** (3 / 30), abs=1e-8)


def test_opens_without_a_message_token_are_not_taken_for_replays(warehouse, tmp_path, monkeypatch):
    """Older events carry no message token: nothing says two of them are one message, so each
    counts. Carol (identity_unified), as-of 2026-03-01 00:00: opens n1 (02-25) and n2 (02-28) and a
    click n3 (02-27), all without a token, and m1 opened twice (o1, then its replay o2).
    Worked by hand: scored opens n1, n2, o1 (o2 is m1's replay); the click n3.
      email_open = 0.5^(4/30) + 0.5^(1/30) + 0.5^(2/30); email_click = 3 x 0.5^(2/30).
    Before: the NULL tokens were one partition, so n1 and n2 were one open (n2 dropped)."""
    landing = tmp_path / "landing"
    shutil.copytree(FIXTURES / "identity_unified", landing)
    (landing / "tracking").mkdir()
    (landing / "tracking" / "events_1.csv").write_text(
        "event_id,occurred_at,event,message_token,person_id,url,user_agent\n"
        f"n1,2026-02-25T00:00:00Z,open,,{CAROL},,\n"
        f"n2,2026-02-28T00:00:00Z,open, ,{CAROL},,\n"
        f"n3,2026-02-27T00:00:00Z,click,,{CAROL},https://x.example/a,\n"
        f"o1,2026-02-27T00:00:00Z,open,m1,{CAROL},,\n"
        f"o2,2026-02-27T06:00:00Z,open,m1,{CAROL},,\n"
    )
    result = build(landing, warehouse, monkeypatch)
    assert result.success, result.render()

    assert warehouse.scalar("select count(*) from stg_tracking__events where message_token is null") == 3
    assert sorted(
        warehouse.fetchall(
            "select activity_id, kind from int_person_activities where origin = 'tracking' and person_id = $p",
            {"p": CAROL},
        )
    ) == [("tk:n1", "email_open"), ("tk:n2", "email_open"), ("tk:n3", "email_click"), ("tk:o1", "email_open")]
    per_kind = dict(
        warehouse.fetchall(
            "select kind, sum(contribution) from person_engagement_contributions "
            "where person_id = $p and kind in ('email_open', 'email_click') group by kind",
            {"p": CAROL},
        )
    )
    opens = 0.5 ** (4 / 30) + 0.5 ** (1 / 30) + 0.5 ** (2 / 30)
    assert float(per_kind["email_open"]) == pytest.approx(opens, abs=1e-8)
    assert float(per_kind["email_click"]) == pytest.approx(3 * 0.5 ** (2 / 30), abs=1e-8)


# 13. A --select that cuts a step building several assets.


def test_a_selection_that_cuts_a_multi_asset_is_widened_and_says_so(duckdb_warehouse, tmp_path, monkeypatch):
    """`+key:buying_group_members` selects buying_group_members and what it is built from, but
    one step builds it with buying_groups, buying_group_roles and buying_group_member_events (and
    account audiences, person-account links likewise): Dagster refused the cut with a traceback."""
    landing = tmp_path / "landing"
    shutil.copytree(FIXTURES / "identity_unified", landing)
    monkeypatch.setenv("BLUEPRINT_LANDING_DIR", str(landing))
    monkeypatch.setenv("BLUEPRINT_WAREHOUSE_URL", f"duckdb:///{duckdb_warehouse.path}")
    monkeypatch.delenv("BLUEPRINT_CONFIG_DIR", raising=False)
    options = BuildOptions(as_of="2026-03-01T00:00:00Z", select="+key:buying_group_members")
    summary = run_build(options, instance=dg.DagsterInstance.ephemeral())
    assert summary.success, summary.render()
    notes = [line for line in summary.render().splitlines() if "--select widened" in line]
    assert notes == [
        "  --select widened to whole steps: added account_audience_history (built in one step with "
        "account_audience_members); buying_group_member_events, buying_group_roles, buying_groups (built "
        "in one step with buying_group_members); int_identity_match_pairs, person_match_models, "
        "person_match_review (built in one step with int_identity_components); person_account_review "
        "(built in one step with person_account_links)"
    ]
    assert duckdb_warehouse.scalar("select count(*) from buying_group_members") > 0
    with duckdb_warehouse.session() as session:
        assert not session.table_exists("journey_enrolments")  # downstream: not selected


def test_a_selection_of_whole_steps_is_left_as_it_is(duckdb_warehouse, monkeypatch):
    monkeypatch.setenv("BLUEPRINT_WAREHOUSE_URL", f"duckdb:///{duckdb_warehouse.path}")
    graph = definitions_for_runs().resolve_asset_graph()
    selected = dg.AssetSelection.from_string("+key:stg_salesforce__accounts").resolve(graph)
    keys, note = whole_steps(graph, selected)
    assert set(keys) == set(selected) and note is None
