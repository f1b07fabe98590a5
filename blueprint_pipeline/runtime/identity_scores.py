"""Pairwise scores of person matching against labelled data (`blueprint bench --identity`).

Every pair of source records is a decision: the matching puts the two in one person or not, the
truth says they are one person or not. Precision is the share of the pairs put together that
truly are one person, recall the share of the true pairs put together. Pairs, not records: a
person split in two loses many pairs, and two people merged gain many wrong ones, which is what
their layers above feel. Counted by scikit-learn's pair_confusion_matrix (from the contingency
table, so linear in the records).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from sklearn.metrics.cluster import pair_confusion_matrix


@dataclass(frozen=True)
class PairwiseScores:
    records: int
    true_persons: int
    predicted_persons: int
    true_pairs: int  # pairs of records the truth says are one person
    predicted_pairs: int  # pairs the matching put in one person
    correct_pairs: int  # both

    @property
    def precision(self) -> float | None:
        """None when the matching put no two records together (nothing to be right or wrong about)."""
        return self.correct_pairs / self.predicted_pairs if self.predicted_pairs else None

    @property
    def recall(self) -> float | None:
        return self.correct_pairs / self.true_pairs if self.true_pairs else None

    @property
    def f1(self) -> float | None:
        if self.precision is None or self.recall is None:
            return None if self.true_pairs == 0 else 0.0
        total = self.precision + self.recall
        return 2 * self.precision * self.recall / total if total else 0.0

    def render(self) -> str:
        def fmt(value: float | None) -> str:
            return "n/a" if value is None else f"{value:.3f}"

        return (
            f"precision {fmt(self.precision)}, recall {fmt(self.recall)}, F1 {fmt(self.f1)}; "
            f"{self.predicted_persons:,} predicted persons for {self.true_persons:,} true persons "
            f"({self.records:,} records; pairs: {self.correct_pairs:,} right of {self.predicted_pairs:,} "
            f"put together, {self.true_pairs:,} true)"
        )


def pairwise_scores(true_labels, predicted_labels) -> PairwiseScores:
    """Scores of one clustering of records against the truth, both as a label per record."""
    true_labels, predicted_labels = pd.Series(list(true_labels)), pd.Series(list(predicted_labels))
    if len(true_labels) != len(predicted_labels):
        raise ValueError(f"{len(true_labels)} true labels but {len(predicted_labels)} predicted labels")
    # Ordered pairs: each unordered pair is counted twice. [1, 1] together in both, [0, 1] put
    # together but not the same person, [1, 0] the same person put apart.
    matrix = (
        pair_confusion_matrix(true_labels, predicted_labels) if len(true_labels) > 1 else [[0, 0], [0, 0]]
    )
    correct, wrong, missed = int(matrix[1][1]) // 2, int(matrix[0][1]) // 2, int(matrix[1][0]) // 2
    return PairwiseScores(
        records=len(true_labels),
        true_persons=true_labels.nunique(),
        predicted_persons=predicted_labels.nunique(),
        true_pairs=correct + missed,
        predicted_pairs=correct + wrong,
        correct_pairs=correct,
    )


def align(truth: pd.DataFrame, predicted: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """Each truth record (source_key, person_id) with its predicted person (`predicted_id`) from
    `predicted` (source_key, person_id). A record the warehouse lacks (quarantined, dropped) is a
    person of its own, as nothing joined it to anyone; returns their number too."""
    found = predicted.drop_duplicates("source_key").set_index("source_key")["person_id"]
    rows = truth[["source_key", "person_id"]].copy()
    rows["predicted_id"] = rows["source_key"].map(found)
    missing = rows["predicted_id"].isna()
    rows.loc[missing, "predicted_id"] = "missing:" + rows.loc[missing, "source_key"]
    return rows, int(missing.sum())


def copy_recall(truth: pd.DataFrame, aligned: pd.DataFrame, column: str = "defects") -> pd.DataFrame:
    """Per defect: the copies carrying it (truth `is_copy`, `defects` separated by ';') and the
    share put in the same person as their person's first record."""
    rows = aligned.assign(is_copy=truth["is_copy"].astype(str).eq("true").to_numpy(), defects=truth[column])
    firsts = rows[~rows["is_copy"]].drop_duplicates("person_id").set_index("person_id")["predicted_id"]
    copies = rows[rows["is_copy"]].assign(
        joined=lambda c: c["predicted_id"].to_numpy() == c["person_id"].map(firsts).to_numpy()
    )
    copies["defects"] = copies["defects"].fillna("").replace("", "none").str.split(";")
    table = copies.explode("defects").groupby("defects")["joined"].agg(copies="size", joined_share="mean")
    return table.sort_values("copies", ascending=False)
