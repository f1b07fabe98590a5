"""The build summary's last lines: seconds per layer, and the "open the UI" line that carries the
run's choices to `make ui` without ever printing a password."""

from __future__ import annotations

import shlex
from datetime import datetime

import pytest

from blueprint_pipeline.generator.manifest import DeliberateDefect
from blueprint_pipeline.runtime.build import BuildSummary, FailedCheck
from blueprint_pipeline.warehouse import PostgresWarehouse

URL = "postgresql+psycopg2://ops:s3cret@db.internal:5432/warehouse"


def _summary(warehouse: str) -> BuildSummary:
    return BuildSummary(
        success=True,
        run_id="r1",
        as_of=datetime(2026, 11, 25),
        config_version="v1",
        warehouse=warehouse,
        layer_seconds={"sources": 1.5, "staging": 12.0},
    )


def _ui_settings(text: str) -> dict[str, str]:
    line = next(line for line in text.splitlines() if "open the UI:" in line)
    words = shlex.split(line.split("&&", 1)[1])
    return dict(word.split("=", 1) for word in words if "=" in word)


@pytest.mark.parametrize(("password", "shown"), [("s3cret", "<yours>"), ("", "")])
def test_no_password_is_printed(password, shown, monkeypatch):
    for name, value in {
        "BLUEPRINT_WAREHOUSE_URL": URL,
        "BLUEPRINT_WAREHOUSE_SCHEMA": "marketing",
        "BLUEPRINT_EXECUTOR": "multiprocess",
        "BLUEPRINT_SMTP_URL": "smtp://mailer:smtp-s3cret@mail.internal:587",  # never passed on
        "DAGSTER_PG_HOST": "db.internal",
        "DAGSTER_PG_USERNAME": "ops",
        "DAGSTER_PG_DB": "dagster",
        "DAGSTER_PG_PASSWORD": password,
    }.items():
        monkeypatch.setenv(name, value)
    warehouse = PostgresWarehouse(url=URL, schema_name="marketing")
    text = _summary(warehouse.display_url).render()

    assert "s3cret" not in text
    assert "warehouse: postgresql+psycopg2://ops:***@db.internal:5432/warehouse (schema marketing)" in text
    settings = _ui_settings(text)
    assert settings["BLUEPRINT_WAREHOUSE_URL"] == "postgresql+psycopg2://ops:***@db.internal:5432/warehouse"
    assert settings["DAGSTER_PG_PASSWORD"] == shown  # the instance needs the variable, even empty
    assert settings["BLUEPRINT_EXECUTOR"] == "multiprocess"
    assert settings["DAGSTER_PG_DB"] == "dagster"
    assert "BLUEPRINT_SMTP_URL" not in settings


def test_the_embedded_default_passes_its_duckdb_file_on(monkeypatch, tmp_path):
    monkeypatch.setenv("BLUEPRINT_WAREHOUSE_URL", f"duckdb:///{tmp_path}/w.duckdb")
    monkeypatch.delenv("DAGSTER_PG_HOST", raising=False)
    text = _summary(f"duckdb:///{tmp_path}/w.duckdb").render()
    settings = _ui_settings(text)
    assert settings["BLUEPRINT_WAREHOUSE_URL"] == f"duckdb:///{tmp_path}/w.duckdb"
    assert "DAGSTER_PG_PASSWORD" not in settings
    assert "  seconds per layer: sources 1.5, staging 12.0" in text.splitlines()


def test_every_output_folder_is_passed_on(monkeypatch, tmp_path):
    """A trial found: BLUEPRINT_MAILBOX_DIR was passed on to `make ui` but not the activation,
    reports and models folders, so the UI's runs wrote under data/ instead."""
    folders = {
        name: str(tmp_path / name.lower())
        for name in (
            "BLUEPRINT_LANDING_DIR",
            "BLUEPRINT_CONFIG_DIR",
            "BLUEPRINT_MAILBOX_DIR",
            "BLUEPRINT_ACTIVATION_DIR",
            "BLUEPRINT_REPORTS_DIR",
            "BLUEPRINT_MODELS_DIR",
        )
    }
    for name, value in folders.items():
        monkeypatch.setenv(name, value)
    settings = _ui_settings(_summary("duckdb:///w.duckdb").render())
    assert {name: settings.get(name) for name in folders} == folders


def test_each_failed_check_says_what_it_checks_and_whether_the_generator_meant_it():
    """The demo's failed checks are named with what they ask, and the ones the sample
    generator spoils rows for on purpose say so (its manifest), the others do not."""
    summary = _summary("duckdb:///w.duckdb")
    summary.failed_checks = [
        FailedCheck(
            "stg_salesforce__contacts.relationships__account_id__stg_salesforce__accounts",
            "warn",
            ": 10 failing rows",
            "every account_id given is found in stg_salesforce__accounts.account_id",
            DeliberateDefect("stg_salesforce__contacts.relationships__account_id__stg_salesforce__accounts", 10,
                             "contacts of the 2 accounts the later Account drop deletes"),
        ),
        FailedCheck("stg_shop__customers.unique__customer_id", "blocking", ": 2 failing rows", "unique on id"),
    ]  # fmt: skip
    lines = summary.render().splitlines()
    start = lines.index("  2 check(s) failed:")
    assert lines[start + 1 : start + 7] == [
        "    stg_salesforce__contacts.relationships__account_id__stg_salesforce__accounts (warn): 10 failing rows",
        "      checks: every account_id given is found in stg_salesforce__accounts.account_id",
        "      expected: the generator spoils 10 row(s) here on purpose: contacts of the 2 accounts the later "
        "Account drop deletes",
        "    stg_shop__customers.unique__customer_id (blocking): 2 failing rows",
        "      checks: unique on id",
        "    1 of them on rows the sample generator spoils on purpose (landing generator.json), as real "
        "exports have such rows",
    ]
