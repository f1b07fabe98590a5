"""Activity kinds on the identity_unified fixture, on DuckDB and PostgreSQL.

Worked by hand with the shipped mapping:
  Marketo  g1, g2 Carol form fills; g3, g4, g10 Zed form fills; g5 Ann form fill; g6 Ann Visit Webpage
           -> page_view; g7 Ann program status change (104) to "Attended" -> event_attendance;
           g8 Carol's change to " invited " -> not scored; g9 Eve Open Email -> email_open.
  CRM      CampaignMember cm1 Ann (contact) Registered -> event_registration; cm2 Dee Sent -> not
           scored; cm3 Dee "RESPONDED" (case ignored; no LastModifiedDate, so its CreatedDate)
           -> form_fill.
  LinkedIn urn:1 Ann, urn:2 Bob, urn:4 Frank -> form_fill; urn:5 is a test lead: not scored.
A user config turning off Responded and LinkedIn forms, and mapping Marketo type id 10 by id to
`newsletter_open`, leaves cm3 and the three forms out and renames g9's kind.
"""

from __future__ import annotations

import shutil

from blueprint_pipeline_tests.conftest import FIXTURES
from blueprint_pipeline_tests.identity.test_unified import ANN, BOB, CAROL, DEE, EVE, FRANK, ZED
from blueprint_pipeline_tests.ingestion.test_two_drops import build, rows

SQL = (
    "select activity_id, person_id, kind, cast(activity_at as varchar) from int_person_activities order by 1"
)


def test_activity_kinds(warehouse, tmp_path, monkeypatch):
    landing = tmp_path / "landing"
    shutil.copytree(FIXTURES / "identity_unified", landing)
    assert build(landing, warehouse, monkeypatch).success
    found = {(a, p, k) for a, p, k, _ in rows(warehouse, SQL)}
    assert found == {
        ("g1", CAROL, "form_fill"),
        ("g2", CAROL, "form_fill"),
        ("g3", ZED, "form_fill"),
        ("g4", ZED, "form_fill"),
        ("g10", ZED, "form_fill"),
        ("g5", ANN, "form_fill"),
        ("g6", ANN, "page_view"),
        ("g7", ANN, "event_attendance"),
        ("g9", EVE, "email_open"),
        ("cm:00v000000000CM1AAA", ANN, "event_registration"),
        ("cm:00v000000000CM3AAA", DEE, "form_fill"),
        ("li:urn:1", ANN, "form_fill"),
        ("li:urn:2", BOB, "form_fill"),
        ("li:urn:4", FRANK, "form_fill"),
    }
    when = {a: t for a, _, _, t in rows(warehouse, SQL)}
    assert when["cm:00v000000000CM3AAA"].startswith("2026-02-03")
    assert when["li:urn:1"].startswith("2026-03-01 09:00")

    config = tmp_path / "config"
    config.mkdir()
    (config / "scoring.yaml").write_text(
        "activity_kinds:\n"
        "  crm_campaign_member_statuses: {Responded: null}\n"
        "  linkedin_form_response: null\n"
        "  marketo_activity_types: {Open Email: null, '10': newsletter_open}\n"
    )
    monkeypatch.setenv("BLUEPRINT_CONFIG_DIR", str(config))
    assert build(landing, warehouse, monkeypatch, keep_config=True).success
    found = {(a, k) for a, _, k, _ in rows(warehouse, SQL)}
    assert ("g9", "newsletter_open") in found
    assert not {a for a, _ in found if a.startswith("li:") or a == "cm:00v000000000CM3AAA"}
    assert len(found) == 10
