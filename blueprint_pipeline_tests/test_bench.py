"""`blueprint bench` at the tiny scale: the full build, the fresh-scores run and the journey runs
succeed; the fresh run really scores the new file's activities (dated after
every generated one); the journeys enter accounts and the sensor is timed; the build's step time
is reported per layer."""

from __future__ import annotations

import duckdb

from blueprint_pipeline.runtime.bench import bench_env, run_bench


def test_bench_tiny_with_fresh_activities(tmp_path):
    result = run_bench("tiny", 1, tmp_path, fresh=200, journeys=True, memory_limit="1GB")
    assert result.build_exit_code == 0, result.summary
    # The bound given reaches the build's warehouse URL (its summary names it) and the results.
    assert f"warehouse: duckdb:///{tmp_path}/bench-tiny.duckdb?memory_limit=1GB" in result.summary
    assert result.memory_limit == "1GB"
    assert result.fresh_exit_code == 0, result.summary
    assert "fresh scores:" in result.render() and "sensor tick" in result.render()
    assert result.journeys["exit_codes"] == [0, 0] and result.journeys["active_enrolments"] > 0
    # Every step's time lands in its layer (none in "other"), the first layers first.
    layers = list(result.layer_seconds)
    assert layers[:3] == ["sources", "staging", "identity"] and "other" not in layers, layers
    assert {"buying_groups", "scoring", "journeys", "reporting"} <= set(layers), layers
    assert result.layer_seconds["sources"] > 0 and result.layer_seconds["staging"] > 0, result.layer_seconds
    # Every step has its memory peaks; the DuckDB warehouse's buffer is counted apart from the rest.
    assert {row["step"] for row in result.steps} >= {"staging_sql_models", "person_matching"}
    assert all(row["resident"] >= row["outside_engine"] > 0 for row in result.steps), result.steps
    assert max(row["engine"] for row in result.steps) > 0
    assert "outside the engine (GB)" in result.render()
    con = duckdb.connect(str(tmp_path / "bench-tiny.duckdb"), read_only=True)
    newest = con.execute("select cast(max(activity_at) as varchar) from int_person_activities").fetchone()[0]
    scored = con.execute(
        "select cast(max(last_activity_at) as varchar) from person_engagement_scores"
    ).fetchone()[0]
    con.close()
    assert newest == scored == result.fresh_at.replace("T", " ").removesuffix("Z")
    # Its outputs stay in its own folder: a bench never overwrites the demo's dashboard.
    assert (tmp_path / "reports" / "dashboard.html").is_file()
    assert list((tmp_path / "models").glob("person-match-*.json"))


def test_bench_tiny_with_new_persons(tmp_path):
    """--new-persons: the identity layer is built, then a file of new Marketo leads is matched
    incrementally (only pairs touching them are scored; the model trained by the first build is
    reused: 50 new records of ~1,000 are under retrain_share). With --compress: the landing is
    .csv.gz files only, and the new leads file is made from the compressed extract."""
    result = run_bench("tiny", 1, tmp_path, new_persons=50, compress=True)
    assert result.build_exit_code == 0, result.summary
    landing = tmp_path / "landing-tiny-1-gz"
    assert list(landing.glob("*/*.csv.gz")) and {p.name for p in landing.glob("*/*.csv")} == {"leads_new.csv"}
    assert result.landing_bytes > 0 and result.warehouse_bytes > 0
    assert result.new_persons_exit_code == 0, result.summary
    assert "journeys" not in result.layer_seconds  # the full build ran the identity layer and upstream
    assert result.new_persons_identity_seconds > 0
    scoring = result.new_persons_scoring
    assert (scoring["mode"], scoring["records_new"]) == ("incremental", 50), scoring
    assert "new persons:" in result.render() and "new persons run, slowest steps" in result.render()
    assert "person_matching" in {row["step"] for row in result.new_persons_steps}
    con = duckdb.connect(str(tmp_path / "bench-tiny.duckdb"), read_only=True)
    keys = {f"{900_000_000 + i}@prod.Marketo" for i in range(50)}
    registered = {k for (k,) in con.execute("select source_key from person_registry").fetchall()}
    con.close()
    assert keys <= registered


def test_the_bench_keeps_its_outputs_and_signing_key_in_its_folder(tmp_path):
    """Every folder a build writes, and the tracking links' key, are the bench's own: a second
    call keeps the key (the journeys and a later run must sign alike)."""
    env = bench_env(tmp_path)
    named = ("BLUEPRINT_DAGSTER_STORAGE", "BLUEPRINT_MAILBOX_DIR", "BLUEPRINT_ACTIVATION_DIR",
             "BLUEPRINT_REPORTS_DIR", "BLUEPRINT_MODELS_DIR")  # fmt: skip
    assert all(env[name].startswith(str(tmp_path)) for name in named), env
    key = env["BLUEPRINT_TRACKING_SECRET"]
    assert len(key) >= 32 and (tmp_path / "tracking_secret").read_text() == key
    assert bench_env(tmp_path)["BLUEPRINT_TRACKING_SECRET"] == key


def test_a_bad_memory_limit_is_refused_before_anything_is_generated(tmp_path):
    import pytest

    from blueprint_pipeline.core.errors import WarehouseError

    with pytest.raises(WarehouseError, match="memory_limit='plenty'; expected a size such as 2.5GB"):
        run_bench("tiny", 1, tmp_path, memory_limit="plenty")
    assert list(tmp_path.iterdir()) == []


def test_a_bench_the_disk_cannot_hold_is_refused_before_it_starts(tmp_path, monkeypatch):
    """xlarge needs tens of GB: the bench says how many, where, and what --compress saves, and
    writes nothing."""
    import shutil

    import pytest

    from blueprint_pipeline.runtime import bench

    monkeypatch.setattr(
        shutil, "disk_usage", lambda _: shutil._ntuple_diskusage(10**12, 10**12 - 5e9, int(5e9))
    )
    with pytest.raises(ValueError) as refused:
        bench.run_bench("xlarge", 1, tmp_path)
    message = str(refused.value)
    assert message.startswith("the xlarge bench needs about ") and f"GB in {tmp_path}" in message
    assert (
        "GB of landing files" in message
        and "5 GB free, counting what it replaces (--compress writes" in message
    ), message
    assert list(tmp_path.iterdir()) == []
    landing, warehouse = bench.disk_needed("xlarge", True, True)
    assert (
        landing < bench.disk_needed("xlarge", False, True)[0]
        and bench.disk_needed("xlarge", True, False)[0] == 0
    )


def test_what_a_bench_replaces_counts_as_free(tmp_path, monkeypatch):
    """A second bench replaces the first one's warehouse (and, generating anew, its landing files):
    their bytes count as free (a sparse file stands for a large warehouse)."""
    import shutil

    from blueprint_pipeline.runtime import bench

    monkeypatch.setattr(
        shutil, "disk_usage", lambda _: shutil._ntuple_diskusage(10**12, 10**12 - 5e9, int(5e9))
    )
    with open(tmp_path / "bench-xlarge.duckdb", "wb") as sparse:
        sparse.truncate(60 * 10**9)
    bench.check_disk(tmp_path, "xlarge", tmp_path / "landing-xlarge-1-gz", compress=True, generating=True)
