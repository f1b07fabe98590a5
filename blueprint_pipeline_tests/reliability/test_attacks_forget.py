"""`blueprint forget` and the landing folder, attacked (docs/reliability.md,
"Attacks", Forget). Small hand-made landing folders and direct calls, on DuckDB and
PostgreSQL; the end-to-end proof (grep everything after a forget and a rebuild) builds the tiny
sample."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest

from blueprint_pipeline.core.errors import BlueprintError
from blueprint_pipeline.core.paths import SQL_PROJECT_DIR
from blueprint_pipeline.governance import forget as forget_module
from blueprint_pipeline.governance.forget import Places, forget
from blueprint_pipeline.ingestion.raw_load import ingest_object
from blueprint_pipeline.sql_models.project import load_project
from blueprint_pipeline.warehouse.stateful import create

SOURCES = load_project(SQL_PROJECT_DIR).sources
EVENTS = SOURCES["tracking", "events"]
AT = datetime(2026, 11, 26)
EVENT_HEADER = "event_id,occurred_at,event,message_token,person_id,url,user_agent\n"
NICOLE = ("p-nicole", "nicole.nelson@orion.com", "Nicole", "Nelson")
OTHER = ("p-other", "sam.other@orion.com", "Sam", "Other")


def _events(*rows: tuple[str, str]) -> str:
    """An events file: (event id, person id) per row."""
    return EVENT_HEADER + "".join(
        f"{event},2026-11-20T10:00:00Z,click,tok-{event},{person},https://x.example/a,UA\n"
        for event, person in rows
    )


def _persons(warehouse, *persons) -> None:
    """The identity layer's tables, as a build leaves them, for the given persons."""
    frame = pd.DataFrame(persons, columns=["person_id", "email", "first_name", "last_name"])
    with warehouse.transaction() as session:
        session.replace_table("unified_persons", frame)
        session.replace_table(
            "person_registry",
            pd.DataFrame({"person_id": frame.person_id, "source_key": frame.person_id + "@x"}),
        )


def _ingest(warehouse, landing: Path, obj=EVENTS):
    return ingest_object(warehouse, landing, obj, {}, {}, AT)


def _places(landing: Path) -> Places:
    return Places(landing=landing, objects={o.table: (o, {}) for o in SOURCES.values()})


@pytest.fixture
def tracking_landing(tmp_path) -> Path:
    """Two rotated tracking files holding only Nicole's events, and one of someone else."""
    landing = tmp_path / "landing"
    (landing / "tracking").mkdir(parents=True)
    (landing / "tracking" / "events_1.csv").write_text(_events(("e1", NICOLE[0])))
    (landing / "tracking" / "events_2.csv").write_text(_events(("e2", NICOLE[0]), ("e3", NICOLE[0])))
    (landing / "tracking" / "events_3.csv").write_text(_events(("e4", OTHER[0])))
    return landing


def test_forget_survives_files_that_become_identical(warehouse, tracking_landing):
    """Item 3: both of Nicole's files are header-only after redaction; forget used to fail on the
    ledger's unique (checksum, raw_tracking__events) index after rewriting files."""
    _persons(warehouse, NICOLE, OTHER)
    _ingest(warehouse, tracking_landing)
    [outcome] = forget(warehouse, [NICOLE[1]], origin="test", at=AT, places=_places(tracking_landing))
    assert outcome.deleted == {"raw_tracking__events": 3, "unified_persons": 1, "person_registry": 1}
    folder = tracking_landing / "tracking"
    assert (folder / "events_1.csv").read_text() == EVENT_HEADER
    assert (folder / "events_2.csv").read_text() == EVENT_HEADER
    assert (folder / "events_3.csv").read_text() == _events(("e4", OTHER[0]))
    # Nothing is loaded again: each file's bytes are known to the ledger.
    again = _ingest(warehouse, tracking_landing)
    assert [(f.file, f.status) for f in again.files] == [
        ("tracking/events_1.csv", "already ingested"),
        ("tracking/events_2.csv", "already ingested"),
        ("tracking/events_3.csv", "already ingested"),
    ]
    with warehouse.session() as session:
        assert session.fetchall("select event_id from raw_tracking__events") == [("e4",)]


def test_a_late_event_of_a_forgotten_person_is_dropped_not_a_failed_asset(warehouse, tracking_landing):
    """Item 4: after the forget, a click on an old link lands a new events file holding only her:
    its rows are dropped and counted, the file is rewritten, and no ledger collision follows; a copy
    of bytes already loaded is skipped with its reason."""
    folder = tracking_landing / "tracking"
    (folder / "events_2.csv").unlink()  # one file of hers: this forget alone collides with nothing
    _persons(warehouse, NICOLE, OTHER)
    _ingest(warehouse, tracking_landing)
    forget(warehouse, [NICOLE[1]], origin="test", at=AT, places=_places(tracking_landing))
    (folder / "events_4.csv").write_text(_events(("e5", NICOLE[0])))
    (folder / "events_5.csv").write_text(_events(("e6", NICOLE[0])))
    (folder / "events_6.csv").write_text(_events(("e4", OTHER[0])))  # a copy of events_3.csv
    report = _ingest(warehouse, tracking_landing)
    outcomes = {f.file: (f.status, f.rows, f.forgotten, f.reason) for f in report.files}
    assert outcomes["tracking/events_4.csv"] == ("ingested", 0, 1, "")
    assert outcomes["tracking/events_5.csv"] == ("ingested", 0, 1, "")
    assert outcomes["tracking/events_6.csv"] == (
        "already ingested", 0, 0, "same bytes as tracking/events_3.csv"
    )  # fmt: skip
    assert (folder / "events_4.csv").read_text() == EVENT_HEADER
    # And the run after it loads nothing again.
    assert {f.status for f in _ingest(warehouse, tracking_landing).files} == {"already ingested"}


def test_forget_is_all_or_nothing(warehouse, tracking_landing, monkeypatch):
    """Item 3: a failure after the landing files were worked out, before the commit, leaves every
    file and every table as it was, and is one line (a BlueprintError), not a traceback."""
    _persons(warehouse, NICOLE, OTHER)
    _ingest(warehouse, tracking_landing)
    before = {p.name: p.read_bytes() for p in (tracking_landing / "tracking").iterdir()}

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(forget_module, "stage_mailbox", broken)
    with pytest.raises(BlueprintError, match="forget failed.*disk full.*nothing was changed"):
        forget(warehouse, [NICOLE[1]], origin="test", at=AT, places=_places(tracking_landing))
    assert {p.name: p.read_bytes() for p in (tracking_landing / "tracking").iterdir()} == before
    with warehouse.session() as session:
        assert session.row_count("raw_tracking__events") == 4
        assert not session.table_exists("forget_requests") or session.row_count("forget_requests") == 0
    monkeypatch.undo()
    [outcome] = forget(warehouse, [NICOLE[1]], origin="test", at=AT, places=_places(tracking_landing))
    assert outcome.deleted["raw_tracking__events"] == 3


# Item 12: links out of the landing folder ----------------------------------------------------------

CONTACT = SOURCES["salesforce", "Contact"]
CONTACT_HEADER = "Id,AccountId,FirstName,LastName,Email,Phone\n"
NICOLE_CONTACT = (
    "003000000000001AAA,001000000000001AAA,Nicole,Nelson,nicole.nelson@orion.com,+1 555 010 2233\n"
)
SAM_CONTACT = "003000000000002AAA,001000000000001AAA,Sam,Other,sam.other@orion.com,\n"


def test_a_link_to_a_file_outside_the_landing_folder_is_skipped(warehouse, tmp_path):
    """Item 12: the link used to be loaded like any file; now it is skipped with its reason."""
    outside = tmp_path / "elsewhere" / "Contact.csv"
    outside.parent.mkdir()
    outside.write_text(CONTACT_HEADER + NICOLE_CONTACT)
    landing = tmp_path / "landing"
    (landing / "salesforce").mkdir(parents=True)
    (landing / "salesforce" / "Contact.csv").symlink_to(outside)
    (landing / "salesforce" / "Contact_2.csv").write_text(CONTACT_HEADER + SAM_CONTACT)
    report = _ingest(warehouse, landing, CONTACT)
    assert [(f.file, f.status, f.reason) for f in report.files] == [
        ("salesforce/Contact.csv", "skipped", "a link to a file outside the landing folder: not read (copy the file in instead)"),
        ("salesforce/Contact_2.csv", "ingested", ""),
    ]  # fmt: skip
    assert report.errors == [f"salesforce/Contact.csv: {report.files[0].reason}"]  # the summary's list
    with warehouse.session() as session:
        assert session.fetchall("select first_name from raw_salesforce__contact") == [("Sam",)]


def test_forget_never_writes_through_a_link_out_of_the_landing_folder(warehouse, tmp_path):
    """Item 12: a file that was loaded, then replaced by a link to a file elsewhere (holding the
    person too): forget used to rewrite the link's target; now it leaves it and says so."""
    landing = tmp_path / "landing"
    (landing / "salesforce").mkdir(parents=True)
    contact = landing / "salesforce" / "Contact.csv"
    contact.write_text(CONTACT_HEADER + NICOLE_CONTACT + SAM_CONTACT)
    _ingest(warehouse, landing, CONTACT)
    outside = tmp_path / "elsewhere" / "Contact.csv"
    outside.parent.mkdir()
    outside.write_text(contact.read_text())
    contact.unlink()
    contact.symlink_to(outside)
    [outcome] = forget(warehouse, [NICOLE[1]], origin="test", at=AT, places=_places(landing))
    assert outcome.deleted["raw_salesforce__contact"] == 1
    assert outside.read_text() == CONTACT_HEADER + NICOLE_CONTACT + SAM_CONTACT  # not ours: untouched
    assert contact.is_symlink()
    assert "skipped salesforce/Contact.csv: a link to a file outside the landing folder" in outcome.describe()


# Item 13: odd landing files ------------------------------------------------------------------------


def test_a_duplicate_column_refuses_the_file_with_its_reason(warehouse, tmp_path):
    """Item 13: `Email` twice used to load the first column's values and drop the second's
    without a word; the file is now skipped (not in the ledger: retried once fixed)."""
    landing = tmp_path / "landing"
    (landing / "salesforce").mkdir(parents=True)
    (landing / "salesforce" / "Contact.csv").write_text(
        "Id,FirstName,Email,email\n003000000000001AAA,Nicole,,nicole.nelson@orion.com\n"
    )
    report = _ingest(warehouse, landing, CONTACT)
    assert [(f.status, f.reason) for f in report.files] == [
        ("skipped", "columns 3 ('Email') and 4 ('email') are both field Email (names compare ignoring case, "
                    "spaces and punctuation): expected each column once"),
    ]  # fmt: skip
    with warehouse.session() as session:
        assert session.row_count("raw_salesforce__contact") == 0
        assert session.row_count("ingested_files") == 0


def test_a_file_in_a_nested_folder_is_named_in_the_summary(tmp_path):
    """Item 13: landing/salesforce/2026-11/Contact.csv used to be ignored without a word; the
    source asset now lists it with the skipped files, which the build summary prints."""
    import dagster as dg

    from blueprint_pipeline.defs.sources.assets import build_source_asset
    from blueprint_pipeline.resources import BlueprintConfigResource, LandingResource
    from blueprint_pipeline.warehouse import DuckDBWarehouse

    landing = tmp_path / "landing"
    (landing / "salesforce" / "2026-11").mkdir(parents=True)
    (landing / "salesforce" / "2026-11" / "Contact.csv").write_text(CONTACT_HEADER + SAM_CONTACT)
    (landing / "salesforce" / ".forget-staging").mkdir()  # forget's own, hidden: not reported
    siblings = [o for o in SOURCES.values() if o.system == "salesforce"]
    result = dg.materialize(
        [build_source_asset(siblings[0], siblings)],
        resources={
            "warehouse": DuckDBWarehouse(path=str(tmp_path / "w.duckdb")),
            "landing": LandingResource(path=str(landing)),
            "blueprint_config": BlueprintConfigResource(),
        },
        tags={"blueprint/as_of": "2026-11-26T00:00:00"},
    )
    [materialization] = result.asset_materializations_for_node(siblings[0].table)
    assert materialization.metadata["skipped_files"].value == (
        "- salesforce/2026-11/Contact.csv: in a sub-folder of salesforce/: not read (only files directly "
        "in salesforce/ are)"
    )


# Item 5: what forget used to leave behind ----------------------------------------------------------

TASK = SOURCES["salesforce", "Task"]
ACTIVITIES = SOURCES["marketo", "activities"]
MARKETO_LEADS = SOURCES["marketo", "leads"]
TASK_HEADER = "Id,WhoId,Subject,CreatedDate\n"
# Sam's task mentions Nicole; Nicole's own task (WhoId hers) names her in its subject.
TASKS = (
    '00T000000000001AAA,003000000000002AAA,"Call w/ Nicole Nelson (Nicole.Nelson@orion.com), +1 555 010 2233",'
    "2026-11-01T10:00:00Z\n"
    "00T000000000002AAA,003000000000001AAA,Demo for Nicole Nelson,2026-11-02T10:00:00Z\n"
    "00T000000000003AAA,003000000000002AAA,Lunch with Nicole Nelson,2026-11-03T10:00:00Z\n"
)
LEADS = "id,email,firstName,lastName\n4242,nicole.nelson@orion.com,Nicole,Nelson\n4343,sam.other@orion.com,Sam,Other\n"
# A Marketo activity quarantined for its date, holding her lead id and an IP address.
ACTIVITY = "marketoGUID,leadId,activityDate,activityTypeId,ipAddress\nG-1,4242,not a date,1,198.18.42.199\n"


def _texts_holding(warehouse, needles: list[str]) -> list[str]:
    """`table.column (needle)` for every column of every table whose text holds a needle."""
    found = []
    with warehouse.session() as session:
        for table in session.list_tables():
            for column, _ in session.columns(table):
                for needle in needles:
                    sql = f'select count(*) from "{table}" where strpos(lower(cast("{column}" as varchar)), $n) > 0'
                    if session.scalar(sql, {"n": needle.lower()}):
                        found.append(f"{table}.{column} ({needle})")
    return found


def test_forget_takes_contact_points_out_of_free_text_and_quarantine(warehouse, tmp_path):
    """Item 5: her address and phone in a colleague's Task subject, and a quarantined Marketo
    activity with her lead id and IP address, stayed in raw_salesforce__task, the quarantine and
    the landing files. Now: her address and phone are blanked wherever they appear, her name with
    them in that record; the quarantined line is gone; a name alone in a record not linked to her
    by an identifier stays (forgetting is by identifiers, not by scanning values)."""
    landing = tmp_path / "landing"
    (landing / "salesforce").mkdir(parents=True)
    (landing / "marketo").mkdir()
    (landing / "salesforce" / "Contact.csv").write_text(CONTACT_HEADER + NICOLE_CONTACT + SAM_CONTACT)
    (landing / "salesforce" / "Task.csv").write_text(TASK_HEADER + TASKS)
    (landing / "marketo" / "leads.csv").write_text(LEADS)
    (landing / "marketo" / "activities.csv").write_text(ACTIVITY)
    for obj in (CONTACT, TASK, MARKETO_LEADS, ACTIVITIES):
        _ingest(warehouse, landing, obj)
    _persons(warehouse, NICOLE, OTHER)
    with warehouse.transaction() as session:  # a staging table as a build leaves it
        session.execute(
            "create table stg_salesforce__tasks as select id as task_id, who_id, subject from raw_salesforce__task"
        )
        assert session.row_count(QUARANTINE) == 1
    forget(warehouse, [NICOLE[1]], origin="test", at=AT, places=_places(landing))

    gone = ["nicole.nelson@orion.com", "+1 555 010 2233", "4242", "003000000000001AAA", "198.18.42.199"]
    assert _texts_holding(warehouse, gone) == []
    with warehouse.session() as session:
        for table in ("raw_salesforce__task", "stg_salesforce__tasks"):
            assert sorted(session.fetchall(f"select subject from {table}")) == [
                ("Call w/ [forgotten] ([forgotten]), [forgotten]",),  # linked by her address: name too
                ("Lunch with Nicole Nelson",),  # no identifier of hers: kept, as documented
            ], table
    for path in landing.rglob("*.csv"):
        text = path.read_text().lower()
        assert not [n for n in gone if n.lower() in text], path
    assert (
        "Call w/ [forgotten] ([forgotten]), [forgotten]" in (landing / "salesforce" / "Task.csv").read_text()
    )


QUARANTINE = "quarantine"


def _files_holding(root: Path, needles: list[str]) -> list[str]:
    return [
        f"{p} ({n})"
        for p in sorted(root.rglob("*"))
        if p.is_file()
        for n in needles
        if n.lower().encode() in p.read_bytes().lower()
    ]


def test_after_forget_and_rebuild_nothing_holds_them(warehouse, landing, tmp_path):
    """Item 5, end to end: the tiny sample with a colleague's Task naming person A by name, address
    and phone, and a Marketo activity of A's quarantined with an IP address. After a build,
    `blueprint forget` and a rebuild, no table (of this warehouse), landing file, output file
    (activation, reports, mailbox) or Dagster record (the run's SQLite storage) holds A's
    address, phone, contact id, person id, the quarantined line's IP, or their name beside them."""
    import csv
    import shutil

    from blueprint_pipeline_tests.builds import build_env, cli
    from blueprint_pipeline_tests.reliability.conftest import AS_OF, CONFIG

    folder = tmp_path / "landing"
    shutil.copytree(landing, folder)
    with (folder / "salesforce" / "Contact.csv").open(newline="") as handle:
        a, colleague = list(csv.DictReader(handle))[:2]
    with (folder / "marketo" / "leads.csv").open(newline="") as handle:
        [lead] = [r["id"] for r in csv.DictReader(handle) if r["email"].lower() == a["Email"].lower()][:1]
    name = f"{a['FirstName']} {a['LastName']}"
    (folder / "salesforce" / "Task_2026-11-21.csv").write_text(
        "Id,WhoId,Subject,CreatedDate\n"
        f'00TATTACK0000001AA,{colleague["Id"]},"Call w/ {name} ({a["Email"].upper()}), {a["Phone"]}",'
        "2026-11-21T10:00:00Z\n"
    )
    (folder / "marketo" / "activities_0099.csv").write_text(
        f"marketoGUID,leadId,activityDate,activityTypeId,ipAddress\nQ-ATTACK-1,{lead},not a date,1,198.18.42.199\n"
    )
    env = build_env(tmp_path, warehouse)
    url = env["BLUEPRINT_WAREHOUSE_URL"]
    run = ("run", "--landing", str(folder), "--config", CONFIG)
    cli(*run, "--as-of", AS_OF, env=env)
    with warehouse.session() as session:
        [person] = session.fetchall(
            "select distinct person_id from person_registry where source_key = $k",
            {"k": f"{a['Id']}@prod.Salesforce"},
        )[0:1]
        assert session.scalar("select count(*) from quarantine where record_key = 'Q-ATTACK-1'") == 1
        assert session.scalar(
            "select count(*) from raw_salesforce__task where strpos(subject, $n) > 0", {"n": name}
        )
    done = cli(
        "forget",
        "--email",
        a["Email"],
        "--landing",
        str(folder),
        "--warehouse",
        url,
        "--config",
        CONFIG,
        env=env,
    )
    assert "Traceback" not in done.stderr and "1 person(s)" in done.stdout
    cli(*run, "--as-of", "2026-11-26T00:00:00", env=env)

    needles = [a["Email"], a["Phone"], a["Id"], person[0], "198.18.42.199", f"w/ {name}"]
    assert _texts_holding(warehouse, needles) == []
    for root in (
        folder,
        tmp_path / "activation",
        tmp_path / "reports",
        tmp_path / "mailbox",
        tmp_path / "dagster",
    ):
        assert _files_holding(root, needles) == [], root
    with warehouse.session() as session:
        assert session.fetchall(
            "select subject from raw_salesforce__task where id = '00TATTACK0000001AA'"
        ) == [("Call w/ [forgotten] ([forgotten]), [forgotten]",)]


# The review of slice (b): forget's defects ---------------------------------------------------------

ANN_CONTACT = "003000000000011AAA,001000000000001AAA,Ann,Lee,ann@orion.com,555 010 2233\n"
JOANN_CONTACT = "003000000000012AAA,001000000000001AAA,Joann,Lee,joann@orion.com,555 010 22334\n"
ANN = ("p-ann", "ann@orion.com", "Ann", "Lee")
JOANN = ("p-joann", "joann@orion.com", "Joann", "Lee")


def _landing_with(tmp_path: Path, files: dict[str, str]) -> Path:
    landing = tmp_path / "landing"
    for name, text in files.items():
        (landing / name).parent.mkdir(parents=True, exist_ok=True)
        (landing / name).write_text(text, encoding="utf-8")
    return landing


def test_forget_leaves_a_longer_address_and_phone_alone(warehouse, tmp_path):
    """Review 1: contact points were matched as plain substrings, so forgetting ann@orion.com made
    Joann's row and file read `jo[forgotten]` for good, and `555 010 2233` blanked inside
    `555 010 22334`. Now an address or phone is blanked only where it stands whole."""
    task = (
        '00T000000000011AAA,003000000000012AAA,"Joann (joann@orion.com, 555 010 22334) knows Ann Lee: '
        'ann@orion.com.",2026-11-01T10:00:00Z\n'
    )
    landing = _landing_with(
        tmp_path,
        {
            "salesforce/Contact.csv": CONTACT_HEADER + ANN_CONTACT + JOANN_CONTACT,
            "salesforce/Task.csv": TASK_HEADER + task,
        },
    )
    for obj in (CONTACT, TASK):
        _ingest(warehouse, landing, obj)
    _persons(warehouse, ANN, JOANN)
    forget(warehouse, [ANN[1]], origin="test", at=AT, places=_places(landing))
    kept = "Joann (joann@orion.com, 555 010 22334) knows [forgotten]: [forgotten]."
    with warehouse.session() as session:
        assert session.fetchall("select email, phone from raw_salesforce__contact") == [
            ("joann@orion.com", "555 010 22334")
        ]
        assert session.fetchall("select subject from raw_salesforce__task") == [(kept,)]
    assert (landing / "salesforce" / "Contact.csv").read_text() == CONTACT_HEADER + JOANN_CONTACT
    assert kept in (landing / "salesforce" / "Task.csv").read_text()


def test_forget_copes_with_non_ascii_punctuation(warehouse, tmp_path):
    """Review 3: `Seán O’Brien`, and a phone written with non-breaking spaces, made forget fail on
    DuckDB (RE2: invalid escape sequence \\’), everything rolled back. Now both are blanked."""
    phone = "+1\u00a0555\u00a0010\u00a07788"
    contact = f"003000000000021AAA,001000000000001AAA,Seán,O’Brien,sean@orion.com,{phone}\n"
    task = f'00T000000000021AAA,003000000000002AAA,"Seán O’Brien — sean@orion.com, {phone}",2026-11-01T10:00:00Z\n'
    landing = _landing_with(
        tmp_path,
        {
            "salesforce/Contact.csv": CONTACT_HEADER + contact + SAM_CONTACT,
            "salesforce/Task.csv": TASK_HEADER + task,
        },
    )
    for obj in (CONTACT, TASK):
        _ingest(warehouse, landing, obj)
    _persons(warehouse, ("p-sean", "sean@orion.com", "Seán", "O’Brien"), OTHER)
    forget(warehouse, ["sean@orion.com"], origin="test", at=AT, places=_places(landing))
    with warehouse.session() as session:
        assert session.fetchall("select subject from raw_salesforce__task") == [
            ("[forgotten] — [forgotten], [forgotten]",)
        ]
    assert "[forgotten] — [forgotten], [forgotten]" in (landing / "salesforce" / "Task.csv").read_text()


def test_one_rule_blanks_a_name_in_the_platforms_messages_and_files(warehouse, tmp_path):
    """Review 10: a name in the platform's own messages was blanked case-sensitively anywhere in
    the text (`Nicole Nelsonova` became `[forgotten]ova`, `NICOLE NELSON` stayed), in free text
    only beside a contact point, and the mailbox had a third loop. Now one rule (whole words, any
    case) for the outbox, sales alerts and the mailbox; a name alone in source free text stays."""
    body = "Members: NICOLE NELSON (VP), Nicole Nelsonova (CFO)"
    landing = _landing_with(
        tmp_path,
        {
            "salesforce/Contact.csv": CONTACT_HEADER + NICOLE_CONTACT + SAM_CONTACT,
            "salesforce/Task.csv": TASK_HEADER
            + "00T000000000003AAA,003000000000002AAA,Lunch with Nicole Nelson,2026-11-03T10:00:00Z\n",
        },
    )
    for obj in (CONTACT, TASK):
        _ingest(warehouse, landing, obj)
    _persons(warehouse, NICOLE, OTHER)
    with warehouse.transaction() as session:
        # The journeys' outbox and the sales alerts' own: messages naming her, and an alert sent
        # to her address (the row stays, its personal fields emptied).
        create(session, "journey_outbox", "sales_alert_outbox")
        columns = "(message_id, step_key, person_id, to_address, subject, body_text, body_html)"
        session.execute(
            f"insert into journey_outbox {columns} values ('<m1@x>', 'k', 'p-rep', 'rep@us.example', 'Alert', "
            "$body, $html)",
            {"body": body, "html": f"<p>{body}</p>"},
        )
        session.execute(
            f"insert into sales_alert_outbox {columns} values ('<a1@x>', 'alert/a1', '', 'rep@us.example', "
            "'Alert', $body, $html), ('<a2@x>', 'alert/a2', '', $her, 'Alert', 'Hello', null)",
            {"body": body, "html": f"<p>{body}</p>", "her": NICOLE[1]},
        )
        session.replace_table("sales_alert_log", pd.DataFrame({"reason": [body]}))
    mailbox = tmp_path / "mailbox"
    mailbox.mkdir()
    (mailbox / "m1.eml").write_text(f"To: rep@us.example\nSubject: Alert\n\n{body}\n")
    places = Places(landing=landing, objects=_places(landing).objects, mailbox=mailbox)
    forget(warehouse, [NICOLE[1]], origin="test", at=AT, places=places)
    expected = "Members: [forgotten] (VP), Nicole Nelsonova (CFO)"
    with warehouse.session() as session:
        assert session.fetchall("select body_text from journey_outbox") == [(expected,)]
        assert session.fetchall("select reason from sales_alert_log") == [(expected,)]
        assert session.fetchall(
            "select message_id, to_address, subject, body_text from sales_alert_outbox order by message_id"
        ) == [("<a1@x>", "rep@us.example", "Alert", expected), ("<a2@x>", None, None, None)]
        assert session.fetchall("select subject from raw_salesforce__task") == [("Lunch with Nicole Nelson",)]
    assert expected in (mailbox / "m1.eml").read_text()


def test_a_request_of_many_persons_makes_one_pass_over_the_text(warehouse, tmp_path, monkeypatch):
    """Review 9: each address of a request made its own regex pass over every text column of
    every table and read the whole quarantine into Python. Now one pass for all the persons."""
    landing = _landing_with(
        tmp_path, {"salesforce/Contact.csv": CONTACT_HEADER + NICOLE_CONTACT + SAM_CONTACT}
    )
    _ingest(warehouse, landing, CONTACT)
    _persons(warehouse, NICOLE, OTHER)
    calls = {"scrub_tables": 0, "_quarantined": 0}
    for name in calls:
        original = getattr(forget_module, name)

        def counted(*args, _original=original, _name=name, **kwargs):
            calls[_name] += 1
            return _original(*args, **kwargs)

        monkeypatch.setattr(forget_module, name, counted)
    outcomes = forget(
        warehouse, [NICOLE[1], OTHER[1], "nobody@orion.com"], origin="test", at=AT, places=_places(landing)
    )
    assert calls == {"scrub_tables": 1, "_quarantined": 1}
    assert [o.deleted.get("raw_salesforce__contact", 0) for o in outcomes] == [1, 1, 0]


def test_a_request_that_cannot_be_applied_does_not_stop_the_others_or_later_builds(tmp_path, monkeypatch):
    """Review 3: a request forget could not apply (then: a name with `’` on DuckDB) failed the
    `deletion_requests` asset, left its file, and failed every later build; the other requests of
    the same file were never applied. Now the others are applied, the failed one is kept (alone)
    for the next build and reported without the address, and the asset succeeds."""
    import dagster as dg

    from blueprint_pipeline.defs.governance import deletion_requests as module
    from blueprint_pipeline.resources import (
        ActivationResource,
        BlueprintConfigResource,
        DeliveryResource,
        LandingResource,
    )
    from blueprint_pipeline.warehouse import DuckDBWarehouse

    applied = []

    def flaky(warehouse, addresses, **kwargs):
        if "bad.person@orion.com" in addresses:
            raise forget_module.ForgetError("forget failed (InvalidInputException: \\’ bad.person@orion.com)")
        applied.extend(addresses)
        return forget(warehouse, addresses, **kwargs)

    monkeypatch.setattr(module, "forget", flaky)
    monkeypatch.setenv("BLUEPRINT_REPORTS_DIR", str(tmp_path / "reports"))
    landing = _landing_with(
        tmp_path,
        {
            "deletion_requests/a.csv": "email\nbad.person@orion.com\ngood@orion.com\n",
            "deletion_requests/b.csv": "email\nother@orion.com\n",
        },
    )

    def build():
        return dg.materialize(
            [module.deletion_requests],
            resources={
                "warehouse": DuckDBWarehouse(path=str(tmp_path / "w.duckdb")),
                "blueprint_config": BlueprintConfigResource(),
                "landing": LandingResource(path=str(landing)),
                "activation": ActivationResource(path=str(tmp_path / "activation")),
                "delivery": DeliveryResource(mailbox_dir=str(tmp_path / "mailbox")),
            },
            tags={"blueprint/as_of": "2026-11-26T00:00:00"},
            raise_on_error=False,
        )

    for _ in range(2):  # and the next build too
        result = build()
        assert result.success
        [materialization] = result.asset_materializations_for_node("deletion_requests")
        metadata = {k: v.value for k, v in materialization.metadata.items()}
        assert metadata["requests_not_applied"] == 1
        assert "1 request(s) not applied" in metadata["summary/forget requests not applied"]
        events = "\n".join(str(e) for e in result.all_events)
        assert "bad.person" not in events and "’" not in events
    assert applied == ["good@orion.com", "other@orion.com"]
    assert sorted(p.name for p in (landing / "deletion_requests").iterdir()) == ["a.csv"]
    assert (landing / "deletion_requests" / "a.csv").read_text() == "email\nbad.person@orion.com\n"


def test_a_staging_folder_that_is_a_link_out_is_never_written_through(warehouse, tmp_path, monkeypatch):
    """Review 7a (item 12): with `landing/.forget-staging` a link to a folder elsewhere, forget's
    clean-up failed silently and the staged copies (other people's records) were written through
    the link; a failed forget left them there. Now the link is removed, the staging folder made
    fresh (never through a link), and nothing lands outside the landing folder."""
    landing = _landing_with(
        tmp_path, {"salesforce/Contact.csv": CONTACT_HEADER + NICOLE_CONTACT + SAM_CONTACT}
    )
    _ingest(warehouse, landing, CONTACT)
    _persons(warehouse, NICOLE, OTHER)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (landing / ".forget-staging").symlink_to(elsewhere, target_is_directory=True)

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(forget_module, "stage_mailbox", broken)
    with pytest.raises(BlueprintError, match="nothing was changed"):
        forget(warehouse, [NICOLE[1]], origin="test", at=AT, places=_places(landing))
    assert list(elsewhere.rglob("*")) == []
    monkeypatch.undo()
    (landing / ".forget-staging").symlink_to(elsewhere, target_is_directory=True)
    forget(warehouse, [NICOLE[1]], origin="test", at=AT, places=_places(landing))
    assert list(elsewhere.rglob("*")) == []
    assert (landing / "salesforce" / "Contact.csv").read_text() == CONTACT_HEADER + SAM_CONTACT


def test_ingestion_never_rewrites_a_hard_linked_file_in_place(warehouse, tmp_path):
    """Review 7b (item 12): a landing file holding a forgotten person was rewritten in place, which
    wrote through a hard link into a file outside the landing folder (and a kill part-way left it
    truncated). Now the new bytes go to a new file renamed over the landing file's name."""
    landing = _landing_with(tmp_path, {"salesforce/Contact.csv": CONTACT_HEADER + NICOLE_CONTACT})
    _ingest(warehouse, landing, CONTACT)
    _persons(warehouse, NICOLE, OTHER)
    forget(warehouse, [NICOLE[1]], origin="test", at=AT, places=_places(landing))
    outside = tmp_path / "elsewhere" / "Contact.csv"
    outside.parent.mkdir()
    outside.write_text(CONTACT_HEADER + NICOLE_CONTACT + SAM_CONTACT)
    arrived = landing / "salesforce" / "Contact_2.csv"
    arrived.hardlink_to(outside)
    report = _ingest(warehouse, landing, CONTACT)
    assert [(f.file, f.forgotten) for f in report.files if f.status == "ingested"] == [
        ("salesforce/Contact_2.csv", 1)
    ]
    assert outside.read_text() == CONTACT_HEADER + NICOLE_CONTACT + SAM_CONTACT  # not ours: untouched
    assert arrived.read_text() == CONTACT_HEADER + SAM_CONTACT
    # No temporary file left beside it.
    assert sorted(p.name for p in arrived.parent.iterdir()) == ["Contact.csv", "Contact_2.csv"]


def test_a_rerun_after_an_interrupted_swap_finishes_the_free_text(warehouse, tmp_path, monkeypatch):
    """Review 8: "run the same forget again to finish the files" was not true for free text: after
    the commit her records are gone, so a re-run knew her address only, and her phone and name
    stayed in the unswapped Task file. Now `forgotten_identifiers` keeps the hashes of her phones
    and name (never the values), and the re-run finds them by hash."""
    task = '00T000000000001AAA,003000000000002AAA,"Call w/ Nicole Nelson (Nicole.Nelson@orion.com), +1 555 010 2233",2026-11-01T10:00:00Z\n'
    landing = _landing_with(
        tmp_path,
        {
            "salesforce/Contact.csv": CONTACT_HEADER + NICOLE_CONTACT + SAM_CONTACT,
            "salesforce/Task.csv": TASK_HEADER + task,
        },
    )
    for obj in (CONTACT, TASK):
        _ingest(warehouse, landing, obj)
    _persons(warehouse, NICOLE, OTHER)

    def interrupted(self):
        raise OSError(28, "No space left on device", "Task.csv")

    monkeypatch.setattr(forget_module.Staged, "swap", interrupted)
    with pytest.raises(BlueprintError, match="run the same forget again"):
        forget(warehouse, [NICOLE[1]], origin="test", at=AT, places=_places(landing))
    assert "+1 555 010 2233" in (landing / "salesforce" / "Task.csv").read_text()  # not swapped
    monkeypatch.undo()
    forget(warehouse, [NICOLE[1]], origin="test", at=AT, places=_places(landing))
    assert (
        "Call w/ [forgotten] ([forgotten]), [forgotten]" in (landing / "salesforce" / "Task.csv").read_text()
    )
    assert (landing / "salesforce" / "Contact.csv").read_text() == CONTACT_HEADER + SAM_CONTACT
    with warehouse.session() as session:
        kinds = dict(session.fetchall("select kind, count(*) from forgotten_identifiers group by kind"))
    assert kinds["phone"] == 1 and kinds["name"] == 1
    assert _texts_holding(warehouse, ["555 010 2233", "5550102233", "Nicole Nelson"]) == []
