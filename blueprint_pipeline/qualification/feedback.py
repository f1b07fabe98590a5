"""Sales feedback: sales accepts or rejects a marketing-qualified account, with a reason
(docs/qualification.md#sales-feedback). Each decision is checked here; one that cannot be used
keeps its row with the problem named, and counts nowhere else."""

from __future__ import annotations

import pandas as pd

from blueprint_pipeline.config.models import BlueprintConfig
from blueprint_pipeline.warehouse import Session

DECISIONS = {"accepted": "accepted", "accept": "accepted", "rejected": "rejected", "reject": "rejected"}
COLUMNS = [
    "feedback_id",
    "account_id",
    "solution_interest",
    "decision",
    "reason",
    "decided_at",
    "decided_by",
    "source_file",
    "source_row",
    "problem",
]


def sales_feedback(session: Session, config: BlueprintConfig, as_of: pd.Timestamp) -> pd.DataFrame:
    """One row per decision: the account after merges, the decision as `accepted` or `rejected`,
    and `problem` (empty when the row is used): an unknown decision or solution interest, an
    account that is not in the CRM, a rejection without a reason, a decision in the future."""
    if not session.table_exists("stg_sales__feedback"):
        return pd.DataFrame(columns=COLUMNS).astype(
            {"decided_at": "datetime64[us]", "source_row": "int64"} | {c: "string" for c in COLUMNS[:5]}
        )
    merged = session.table_exists("account_aliases")
    frame = session.fetch_df(
        "select f.feedback_id, coalesce(a.account_id, f.account_id) as account_id, f.solution_interest, "
        "f.decision, f.reason, f.decided_at, f.decided_by, f.source_file, f.source_row, "
        "u.account_id is not null as known_account from stg_sales__feedback as f "
        + ("left join account_aliases as a on a.alias_account_id = f.account_id " if merged else "")
        + "left join unified_accounts as u on u.account_id = "
        + ("coalesce(a.account_id, f.account_id)" if merged else "f.account_id")
        + " order by f.decided_at, f.feedback_id"
    )
    decision = frame["decision"].map(DECISIONS)
    interests = set(config.buying_groups.solution_interests)
    decided_at = pd.to_datetime(frame["decided_at"]).astype("datetime64[us]")
    checks = [
        (frame["account_id"].isna(), "field account_id: missing"),
        (
            ~frame["known_account"].astype(bool) & frame["account_id"].notna(),
            "field account_id: not a CRM account",
        ),
        (~frame["solution_interest"].isin(interests), "field solution_interest: not a solution interest"),
        (decision.isna(), "field decision: expected accepted or rejected"),
        ((decision == "rejected") & frame["reason"].isna(), "field reason: a rejection needs a reason"),
        (decided_at.isna(), "field decided_at: missing"),
        (decided_at > as_of, "field decided_at: after the run's as-of time"),
    ]
    problem = pd.Series("", index=frame.index, dtype="string")
    for failed, message in reversed(checks):  # the first failing check is the one named
        problem = problem.mask(failed.fillna(False).astype(bool), message)
    frame["problem"] = problem
    frame["decision"] = decision.fillna(frame["decision"])
    frame["decided_at"] = decided_at
    return frame[COLUMNS]
