"""`blueprint journey simulate`: the worked journey of test_engine.py replayed
over the tables of test_journey_asset.py, one run a day from Mon 03-02 09:00 to Thu 03-05 09:00,
on DuckDB and PostgreSQL. Counted by hand:
  03-02: A1, A2, A3 enter; intro emails p11 and p21; p12 held (opted out), p22 held (no address);
         A3 has no recipient. All wait until 03-04 09:00.            03-03: nothing is due.
  03-04: A1 hot -> sales alert -> promote -> done; A2 mid -> p21's email (48 h after the intro:
         within the limits), p22's score +5 -> variant b (bucket 80.60) -> status -> done;
         A3 other -> listens until 03-07.
  03-05: p31's form fill (08:00) ends A3's wait -> sales alert -> promote (refused) -> done.
So: 3 entered; paths triage hot/mid/other 1 each, ab variant b 1, await_form heard 1; 3 left
through `done`; 3 emails (p11 1, p21 2) and 2 sales alerts; 2 held back. Nothing is written."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from blueprint_pipeline.core.paths import PROJECT_DIR
from blueprint_pipeline.journeys.simulate import simulate
from blueprint_pipeline.resources import load_config
from blueprint_pipeline_tests.journeys.test_journey_asset import _setup


def test_a_dry_run_counted_by_hand(warehouse, tmp_path):
    _setup(warehouse, tmp_path)
    loaded = load_config(tmp_path)
    with warehouse.session() as session:
        result = simulate(session, loaded, "nurture", datetime(2026, 3, 2, 9), datetime(2026, 3, 5, 9))
        assert not session.table_exists("journey_step_log") and not session.table_exists("journey_outbox")
    assert (result.runs, result.entered, result.still_active) == (4, 3, 0)
    assert result.paths == Counter(
        {("triage", "path hot"): 1, ("triage", "path mid"): 1, ("triage", "path other"): 1, ("ab", "variant b"): 1,
         ("await_form", "heard"): 1}
    )  # fmt: skip
    assert result.ended == Counter({"exit node done": 3})
    assert result.messages == Counter({"email": 3, "sales_alert": 2})
    assert result.per_person == Counter({"p21": 2, "p11": 1})
    assert result.held == Counter({"opted out of email": 1, "no email address": 1})
    assert "entered: 3 accounts" in result.render()


def test_an_unknown_journey_names_the_config_looked_in_and_hints_config(tmp_path, capsys):
    """Without --config only the shipped defaults are read (they hold no journey):
    the error says so and how to read the demo's; with --config it names that directory."""
    from blueprint_pipeline.runtime.cli import main

    warehouse = ["--warehouse", f"duckdb:///{tmp_path}/w.duckdb"]
    assert main(["journey", "simulate", "platform_nurture", *warehouse]) == 2
    error = capsys.readouterr().err
    assert (
        "error: no journey 'platform_nurture' in the shipped defaults only (no --config given); "
        "its journeys: none. Pass --config DIR" in error
    )
    config = PROJECT_DIR / "examples" / "config"
    assert main(["journey", "simulate", "nurture", "--config", str(config), *warehouse]) == 2
    error = capsys.readouterr().err
    assert f"no journey 'nurture' in the config directory {config}; its journeys: platform_nurture." in error
