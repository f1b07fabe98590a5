"""The demo tells the truth about time: `blueprint generate` ends its data on the day
it runs (or on --end), so a build on that day sees velocities both ways, whatever the date; the
same data built two weeks late reads as a collapse, which is why the end follows the run."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from blueprint_pipeline.generator.manifest import deliberate_defects
from blueprint_pipeline_tests.builds import build_env, cli

# Two run dates half a year apart, neither the generator's pinned DEFAULT_END.
RUN_DATES = ("2026-03-02", "2026-09-14")


def _generate_and_build(tmp_path, warehouse, day: str, as_of: str) -> dict:
    env = build_env(tmp_path, warehouse)
    landing = tmp_path / "landing"
    cli("generate", "--scale", "tiny", "--seed", "7", "--end", day, "--out", str(landing), env=env)
    summary = cli("run", "--landing", str(landing), "--as-of", as_of, env=env).stdout
    velocities = warehouse.fetch_df("select velocity_14 from buying_group_engagement")["velocity_14"]
    return {
        "groups": len(velocities),
        "rising": float((velocities > 0).mean()),
        "falling": float((velocities < 0).mean()),
        "summary": summary,
    }


# On DuckDB only: what is tested is the generator's dates against the run's; the velocity SQL itself
# is held to hand-worked answers on both warehouses (scoring tests).
@pytest.mark.parametrize("day", RUN_DATES)
def test_a_build_on_the_datas_last_day_sees_groups_rising_and_falling(day, duckdb_warehouse, tmp_path):
    shares = _generate_and_build(tmp_path, duckdb_warehouse, day, f"{day}T09:00:00Z")
    assert shares["groups"] >= 20
    # Activity is spread over the year with warm-ups before opportunities: neither way dominates.
    assert 0.2 <= shares["rising"] <= 0.75, shares
    assert 0.2 <= shares["falling"] <= 0.75, shares
    # Each failed check says what it checks; those the generator spoils rows for say so (and only
    # those: at this scale the readiness model may also lose to the rule score, which is news).
    after = shares["summary"].split(" check(s) failed:\n")[1].splitlines()
    block = after[: next(i for i, line in enumerate(after) if not line.startswith("    "))]
    checks = [line for line in block if not line.startswith("     ")][:-1]
    asks = [line for line in block if line.startswith("      checks: ")]
    explained = [line for line in block if line.startswith("      expected: the generator spoils")]
    meant = deliberate_defects(tmp_path / "landing")
    assert list(meant) == ["sales_feedback.every_decision_usable"]  # tiny: no contact of a deleted account
    assert "    sales_feedback.every_decision_usable (warn): 2 failing rows" in "\n".join(checks)
    assert len(asks) == len(checks) and len(explained) == len(meant)
    assert block[-1] == (
        f"    {len(meant)} of them on rows the sample generator spoils on purpose "
        "(landing generator.json), as real exports have such rows"
    )


def test_the_same_data_two_weeks_late_reads_as_a_collapse(duckdb_warehouse, tmp_path):
    """What the demo showed before its data followed the clock: no activity in the last 14 days,
    so no group rises and every group active in the 14 days before looks at risk."""
    day = RUN_DATES[0]
    late = date.fromisoformat(day) + timedelta(days=14)
    shares = _generate_and_build(tmp_path, duckdb_warehouse, day, f"{late}T09:00:00Z")
    assert shares["rising"] == 0.0, shares
    assert shares["falling"] >= 0.5, shares
