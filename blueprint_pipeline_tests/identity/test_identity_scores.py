"""Pairwise precision, recall and F1 of person matching, on clusterings worked by hand."""

from __future__ import annotations

import pandas as pd
import pytest

from blueprint_pipeline.runtime.identity_scores import align, copy_recall, pairwise_scores


def test_scores_of_a_clustering_worked_by_hand():
    # Truth: A = {r1, r2, r3}, B = {r4, r5}, C = {r6}: 3 + 1 = 4 true pairs.
    # Matching: {r1, r2, r3, r4}, {r5}, {r6}: 6 pairs put together, of which r1-r2, r1-r3, r2-r3
    # are right. Precision 3/6, recall 3/4, F1 2 * 0.5 * 0.75 / 1.25 = 0.6.
    scores = pairwise_scores(["A", "A", "A", "B", "B", "C"], [1, 1, 1, 1, 2, 3])
    assert (scores.true_pairs, scores.predicted_pairs, scores.correct_pairs) == (4, 6, 3)
    assert scores.precision == pytest.approx(0.5)
    assert scores.recall == pytest.approx(0.75)
    assert scores.f1 == pytest.approx(0.6)
    assert (scores.records, scores.true_persons, scores.predicted_persons) == (6, 3, 3)


def test_a_matching_that_joins_nothing_has_no_precision_and_no_recall():
    scores = pairwise_scores(["A", "A", "B"], [1, 2, 3])
    assert scores.precision is None
    assert scores.recall == 0.0
    assert scores.f1 == 0.0
    assert "precision n/a, recall 0.000, F1 0.000; 3 predicted persons for 2 true persons" in scores.render()


def test_labels_of_different_lengths_are_refused():
    with pytest.raises(ValueError, match="3 true labels but 2 predicted labels"):
        pairwise_scores(["A", "A", "B"], [1, 1])


def test_a_record_missing_from_the_warehouse_is_a_person_of_its_own():
    truth = pd.DataFrame(
        {
            "source_key": ["a@x", "b@x", "c@x"],
            "person_id": ["P1", "P1", "P1"],
            "is_copy": ["false", "true", "true"],
            "defects": ["", "email_typo", "no_email;nickname"],
        }
    )
    predicted = pd.DataFrame({"source_key": ["a@x", "b@x", "z@x"], "person_id": ["p_1", "p_1", "p_9"]})
    aligned, missing = align(truth, predicted)
    assert missing == 1
    assert list(aligned["predicted_id"]) == ["p_1", "p_1", "missing:c@x"]
    scores = pairwise_scores(aligned["person_id"], aligned["predicted_id"])
    assert (scores.correct_pairs, scores.true_pairs) == (1, 3)
    by_defect = copy_recall(truth, aligned)
    assert by_defect.loc["email_typo", "joined_share"] == 1.0
    assert by_defect.loc["no_email", "joined_share"] == 0.0
    assert by_defect.loc["nickname", "copies"] == 1
