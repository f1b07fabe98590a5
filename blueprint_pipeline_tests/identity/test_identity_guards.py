"""Shared mailboxes and the golden record's names, on DuckDB and PostgreSQL:
fixtures/identity_guards, scored with the hand-weighted model of fixtures/identity_matching
(weights in test_person_matching.py; merge at weight 6.63, review from 2).

Shared mailboxes (identity_shared_mailboxes; no email edge, email ignored by the model):
  info@initech.com    Maria Lopez (contact) / Kevin Brown (Marketo 800): role -> two persons
  sales@globex.com    Ana Silva (contact) / Ana Silva (Marketo 810, sfdcContactId = the contact) /
                      Tom Reed (lead): role; Ana's two join by the CRM id, Tom stays apart
  contact@stark.com   Greta Hall (contact) / Greta Hall (Marketo 830): role; joined by the model on
                      name 6 + phone 6 + company 4 + city 3 + country 1 + title 3 - 10 = 13 (email
                      missing: 0) -> match
  westcoast@umbrella.com  Rita Ortiz (Marketo 820) / Jonas Berg (LinkedIn): not a role, but two
                      clearly different first names -> two persons
Not shared, joined by email as before: rking@ (Robert / Bob: a nickname), noah.watson@ (Watson
Noah / Noah Watson: swapped), ivan.kerr@ (Kerr Ivan / Ivan Kerr), olga@ (no first name / Olga).

Golden record names (unified_persons):
  Noah Watson   contact "Watson Noah" (names' first source), lead and Marketo "Noah Watson":
                two records of three write it the other way -> Noah Watson
  Ivan Kerr     contact "Kerr Ivan", Marketo "Ivan Kerr": one each way; in all records Ivan is a
                first name twice (Marketo 850, Ivan Petrov) and a last name once, Kerr a last name
                twice (Marketo 850, Mia Kerr) and a first name once -> Ivan Kerr
  Olga Ivanova  the contact has no first name: the pair comes from Marketo 860, whole (today's
                field-by-field choice gave Olga Ivanova-Smith)
  MARY-JANE O'BRIEN -> Mary-Jane O'Brien; sean mcdonald -> Sean McDonald; DeShawn mckay ->
                DeShawn (mixed case, kept) McKay
"""

from __future__ import annotations

import shutil
from datetime import datetime

import pandas as pd
import pytest

from blueprint_pipeline.identity.matching.prepare import prepare
from blueprint_pipeline.identity.matching.shared_mailboxes import (
    addresses,
    local_part,
    same_person_names,
    shared_mailboxes,
    shared_mailboxes_in,
)
from blueprint_pipeline_tests.conftest import FIXTURES
from blueprint_pipeline_tests.identity.test_person_matching import li, mk, sf
from blueprint_pipeline_tests.ingestion.test_two_drops import build, rows

FIXTURE = FIXTURES / "identity_guards"


MARIA, KEVIN = sf("003000000000ML1AAA"), mk(800)
ANA, ANA_MARKETO, TOM = sf("003000000000AS1AAA"), mk(810), sf("00Q000000000TR1AAA")
GRETA, GRETA_MARKETO = sf("003000000000GH1AAA"), mk(830)
RITA, JONAS = mk(820), li("urn:jb")
ROBERT, BOB = sf("00Q000000000RK1AAA"), li("urn:bk")
NOAH = (sf("003000000000NW1AAA"), sf("00Q000000000NW1AAA"), mk(840))
IVAN = (sf("003000000000IK1AAA"), mk(850))
OLGA = (sf("003000000000OI1AAA"), mk(860))


@pytest.fixture
def guarded(warehouse, tmp_path, monkeypatch):
    landing = tmp_path / "landing"
    shutil.copytree(FIXTURE / "landing", landing)
    config = tmp_path / "config"
    shutil.copytree(FIXTURE / "config", config)
    shutil.copy(FIXTURES / "identity_matching" / "config" / "person_match_model.json", config)
    monkeypatch.setenv("BLUEPRINT_CONFIG_DIR", str(config))
    monkeypatch.setenv("BLUEPRINT_MODELS_DIR", str(tmp_path / "models"))
    result = build(landing, warehouse, monkeypatch, keep_config=True)
    assert result.success, result.render()
    return warehouse


def test_shared_mailboxes_are_listed_with_their_reason(guarded):
    assert rows(guarded, "select email, reason, records from identity_shared_mailboxes order by email") == [
        ("contact@stark.com", "role_local_part", 2),
        ("info@initech.com", "role_local_part", 2),
        ("sales@globex.com", "role_local_part", 3),
        ("westcoast@umbrella.com", "different_names", 2),
    ]


def test_a_shared_mailbox_joins_nobody_by_email(guarded):
    person = dict(guarded.fetchall("select source_key, person_id from person_registry"))
    assert person[MARIA] != person[KEVIN]  # two people at info@
    assert person[RITA] != person[JONAS]  # two names at one address
    assert person[ANA] == person[ANA_MARKETO] != person[TOM]  # the CRM id joins, the address does not
    assert person[GRETA] == person[GRETA_MARKETO]  # the model, on everything but the address
    assert person[ROBERT] == person[BOB]
    for records in (NOAH, IVAN, OLGA):
        assert len({person[k] for k in records}) == 1, records
    assert len(set(person.values())) == 16
    email_edges = {
        frozenset(pair)
        for pair in guarded.fetchall(
            "select source_key, other_key from int_identity_edges where link_reason = 'email'"
        )
    }
    assert email_edges == {
        frozenset(pair)
        for pair in (
            (NOAH[0], NOAH[1]),
            (NOAH[0], NOAH[2]),
            (IVAN[0], IVAN[1]),
            (OLGA[0], OLGA[1]),
            (ROBERT, BOB),
        )
    }
    assert rows(
        guarded,
        "select source_key, other_key, outcome, round(match_weight, 3) from int_identity_match_pairs",
    ) == [(GRETA, GRETA_MARKETO, "match", 13.0)]


def test_the_golden_record_takes_names_as_a_pair_turned_and_capitalised(guarded):
    names = rows(
        guarded,
        "select first_name, last_name from unified_persons where first_name is not null "
        "order by last_name, first_name",
    )
    assert ("Noah", "Watson") in names and ("Watson", "Noah") not in names
    assert ("Ivan", "Kerr") in names and ("Kerr", "Ivan") not in names
    assert ("Olga", "Ivanova") in names
    assert ("Mary-Jane", "O'Brien") in names
    assert ("Sean", "McDonald") in names
    assert ("DeShawn", "McKay") in names
    assert ("Robert", "King") in names
    assert len(names) == 16


def test_forget_deletes_a_forgotten_shared_address(guarded):
    """The table is personal data like the other identity tables: forget reaches it."""
    from blueprint_pipeline.governance.forget import Places, forget

    [outcome] = forget(
        guarded, [" Info@Initech.com"], origin="test", at=datetime(2026, 3, 2), places=Places()
    )
    assert outcome.deleted["identity_shared_mailboxes"] == 1
    assert rows(guarded, "select email from identity_shared_mailboxes order by email") == [
        ("contact@stark.com",),
        ("sales@globex.com",),
        ("westcoast@umbrella.com",),
    ]


# Pure functions: the detection rule and what the model sees.


def test_role_local_parts_ignore_tags_and_case():
    assert local_part(" Info+EMEA@Acme.com") == "info"
    found = shared_mailboxes(
        pd.DataFrame(
            {
                "email": ["Sales@acme.com ", "ann@acme.com", "ann@acme.com"],
                "first_name": ["Ann", "Ann", "Annie"],
                "last_name": ["Lee", "Lee", "Lee"],
            }
        ),
        ["sales"],
    )
    assert found.to_dict("records") == [
        {"email": "sales@acme.com", "reason": "role_local_part", "records": 1}
    ]


def test_the_warehouse_hands_over_only_the_addresses_names_decide(warehouse):
    """By hand: info@ (a role: 1 record); ann@ written three ways (trimmed, cased) by Ann, ANN
    and Annie: one person, not shared, its names compared; bob@ twice by Bob: one first name as
    written, its names never handed over; team@ (no role) by Maria and Kevin: shared, 2 records;
    ' ' (no address) and a record gone; info+emea@ (a role as written: 1 record); carl@ once
    plain by Carl and once with a tab by Maria: one address once trimmed, shared, 2 records (the
    warehouse hands over the plain spelling of one record because an odd one trims to it); info@
    at beta.org once upper-cased: one role address of 2 records; kate@ once with a Kelvin sign
    (lower-cased, a k) by Maria: shared, 2 records. The warehouse's answer is the frame's."""
    nodes = pd.DataFrame(
        [
            ("Info@acme.com", "Ann", "Lee", True),
            ("ann@acme.com", "Ann", "Lee", True),
            (" ANN@acme.com", "ANN", "Lee", True),
            ("Ann@Acme.com", "Annie", None, True),
            ("bob@acme.com", "Bob", "King", True),
            ("bob@acme.com", "Bob", "King", True),
            ("team@acme.com", "Maria", "Lopez", True),
            ("team@acme.com", "Kevin", "Brown", True),
            (" ", "Ann", "Lee", True),
            ("team@acme.com", "Zoe", "Gone", False),
            ("info+emea@beta.com", "Kim", "Park", True),
            ("carl@acme.com", "Carl", "Diaz", True),
            ("carl@acme.com\t", "Maria", "Diaz", True),
            ("INFO@beta.org", "Ann", "Lee", True),
            ("info@beta.org", "Bo", "Li", True),
            ("kate@acme.com", "Kate", "Moss", True),
            ("\u212aate@acme.com", "Maria", "Diaz", True),  # a Kelvin sign: lower-cases to k
        ],
        columns=["email", "first_name", "last_name", "is_live"],
    )
    expected = [
        {"email": "carl@acme.com", "reason": "different_names", "records": 2},
        {"email": "info+emea@beta.com", "reason": "role_local_part", "records": 1},
        {"email": "info@acme.com", "reason": "role_local_part", "records": 1},
        {"email": "info@beta.org", "reason": "role_local_part", "records": 2},
        {"email": "kate@acme.com", "reason": "different_names", "records": 2},
        {"email": "team@acme.com", "reason": "different_names", "records": 2},
    ]
    live = nodes[nodes["is_live"]].drop(columns="is_live")
    assert shared_mailboxes(live, ["info"]).to_dict("records") == expected
    rows, look = addresses(
        live.groupby("email").agg(records=("email", "size"), firsts=("first_name", "nunique")).reset_index(),
        ["info"],
    )
    assert look == [
        " ANN@acme.com",
        "Ann@Acme.com",
        "ann@acme.com",
        "carl@acme.com",
        "carl@acme.com\t",
        "kate@acme.com",
        "team@acme.com",
        "\u212aate@acme.com",
    ]  # not bob@, not the roles
    with warehouse.transaction() as session:
        session.replace_table("guard_test_nodes", nodes)
        found = shared_mailboxes_in(session, "guard_test_nodes", ["info"])
    assert found.to_dict("records") == expected


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        (("robert", "king"), ("bob", "king"), True),  # nickname
        (("christopher", "lee"), ("chris", "lee"), True),  # shortened
        (("jon", "lee"), ("john", "lee"), True),  # one edit
        (("katherine", "lee"), ("kathrine", "lee"), True),  # typo, Jaro-Winkler
        (("dot", "lee"), ("doroth", "lee"), True),  # a nickname and a typo of its full name
        (("watson", "noah"), ("noah", "watson"), True),  # swapped
        (("j", "lee"), ("john", "lee"), True),  # an initial
        ((None, "lee"), ("maria", "lee"), True),  # nothing to compare
        (("maria", "lopez"), ("kevin", "brown"), False),
        (("maria", "lee"), ("kevin", "lee"), False),  # one last name is not one person
    ],
)
def test_clearly_different_first_names(a, b, same):
    assert same_person_names(a, b) is same


def test_the_model_sees_no_email_at_a_shared_mailbox():
    nodes = pd.DataFrame(
        {
            "source_key": ["a", "b"],
            "email": ["info@acme.com", "ann.lee@acme.com"],
            "first_name": ["Maria", "Ann"],
            "last_name": ["Lopez", "Lee"],
        }
    )
    records = prepare(nodes, {}, set(), frozenset({"info@acme.com"})).set_index("unique_id")
    assert records.loc["a", ["email", "email_user", "work_domain"]].tolist() == [None, None, "acme.com"]
    assert records.loc["b", ["email", "email_user"]].tolist() == ["ann.lee@acme.com", "ann.lee"]
