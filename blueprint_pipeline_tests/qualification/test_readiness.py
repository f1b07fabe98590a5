"""Readiness scores: per buying group, from its features now and the last
model that passed its check; tiers by the configured thresholds; reasons that match the model.

The model is trained on the synthetic history of test_model.py (its truth: more activity in the
last 90 days and more known people, likelier to buy); the groups are the hand-made accounts of
test_training_set.py, scored as of 2026-06-11."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import dagster as dg
import numpy as np
import pandas as pd
import pytest

from blueprint_pipeline.core.run_facts import AS_OF_TAG
from blueprint_pipeline.defs.qualification.model import qualification_models
from blueprint_pipeline.defs.qualification.readiness import readiness_scores
from blueprint_pipeline.qualification.features import features_as_of
from blueprint_pipeline.qualification.model import MODEL_COLUMNS, probability
from blueprint_pipeline.resources import BlueprintConfigResource
from blueprint_pipeline_tests.builds import day_sums
from blueprint_pipeline_tests.qualification.test_model import history
from blueprint_pipeline_tests.qualification.test_training_set import _tables

AS_OF = pd.Timestamp("2026-06-11")


@pytest.fixture
def scored(warehouse, tmp_path, monkeypatch):
    monkeypatch.setenv("BLUEPRINT_MODELS_DIR", str(tmp_path / "models"))
    (tmp_path / "qualification.yaml").write_text("tiers: {fast_track: 0.7, nurture: 0.4}\ntop_reasons: 2\n")
    resources = {
        "warehouse": warehouse,
        "blueprint_config": BlueprintConfigResource(config_dir=str(tmp_path)),
    }
    with warehouse.transaction() as session:
        for name, frame in _tables().items():
            session.replace_table(name, frame)
    day_sums(warehouse, tmp_path)

    def run(assets, day="2026-06-11"):
        result = dg.materialize(assets, resources=resources, tags={AS_OF_TAG: f"{day}T00:00:00"})
        assert result.success
        return result

    return run


def _scores(warehouse) -> pd.DataFrame:
    with warehouse.session() as session:
        return session.fetch_df("select * from readiness_scores order by buying_group_id")


def _train(warehouse, run, frame, day):
    with warehouse.transaction() as session:
        session.replace_table("qualification_training_set", frame)
    run([qualification_models], day)


def test_scores_tiers_and_reasons(warehouse, scored):
    _train(warehouse, scored, history(), "2026-06-10")
    result = scored([readiness_scores])
    rows = _scores(warehouse)
    assert list(rows["buying_group_id"]) == ["g1", "g2"]
    with warehouse.session() as session:
        version, path = session.fetchall("select version, path from qualification_models")[0]
        groups = session.fetch_df(
            "select buying_group_id, account_id, solution_interest from buying_groups order by 1"
        )
        X = features_as_of(session, groups.assign(as_of=AS_OF))[MODEL_COLUMNS].to_numpy(float)
    bundle = pickle.loads(Path(path).read_bytes())
    p = probability(bundle, X)
    assert np.allclose(rows["probability"].astype(float), p.round(4))
    expected = np.where(p >= 0.7, "fast_track", np.where(p >= 0.4, "nurture", "long_term"))
    assert list(rows["tier"]) == list(expected)  # the configured thresholds, not the defaults
    assert set(rows["model_version"]) == {version}
    for r in rows.itertuples():
        named = json.loads(r.contributions)
        assert 1 <= len(named) <= 2 and len(r.explanation.split("; ")) == len(named)  # top_reasons: 2
        assert all(
            ("raises" in s) == (named[f] > 0) for f, s in zip(named, r.explanation.split("; "), strict=True)
        )
    metadata = result.asset_materializations_for_node("readiness_scores")[0].metadata
    assert metadata["model_version"].value == version


def test_a_model_that_fails_its_check_is_not_used(warehouse, scored):
    _train(warehouse, scored, history(), "2026-06-09")
    shuffled = history()  # as in test_model.py: the labels shuffled, a check known to fail
    head = shuffled.index < int(len(shuffled) * 0.8)
    shuffled.loc[head, "label"] = np.random.default_rng(9).permutation(shuffled.loc[head, "label"].to_numpy())
    _train(warehouse, scored, shuffled, "2026-06-10")
    with warehouse.session() as session:
        versions = session.fetch_df("select version, passed from qualification_models order by trained_at")
    assert list(versions["passed"].astype(bool)) == [True, False]
    scored([readiness_scores])
    assert set(_scores(warehouse)["model_version"]) == {versions["version"][0]}


def test_no_passing_model_no_scores(warehouse, scored):
    result = scored([readiness_scores])
    assert _scores(warehouse).empty
    summary = (
        result.asset_materializations_for_node("readiness_scores")[0].metadata["summary/readiness"].value
    )
    assert summary == "no model trained yet (qualification_models)"


def test_retraining_runs_on_a_schedule():
    """Weekly by default (BLUEPRINT_RETRAIN_CRON): everything the scores are built from."""
    from blueprint_pipeline.definitions import build_definitions

    definitions = build_definitions()
    [schedule] = [s for s in definitions.schedules if s.name == "retrain_readiness_model"]
    assert schedule.cron_schedule == "0 5 * * 1"
    job = definitions.resolve_job_def(schedule.job_name)
    built = {k.path[-1] for k in job.asset_layer.selected_asset_keys}
    # New extracts are ingested first (sales feedback, activities, opportunities), then retrained.
    assert {"raw_sales__feedback", "raw_marketo__activities", "raw_salesforce__opportunity"} <= built
    assert {
        "sales_feedback",
        "qualification_training_set",
        "qualification_models",
        "readiness_scores",
    } <= built
    assert "journey_outbox" not in built  # nothing is sent by a retraining
