"""CRM write-back: per buying group, what sales should see in Salesforce, as a table and as Bulk
API upsert CSV keyed by an external id; the delta carries only rows that changed since the last
completed write-back before this as-of (activation/state.py); journeys' "update a CRM field" actions
become an Account update file (docs/activation.md)."""

from __future__ import annotations

import hashlib

import pandas as pd

from blueprint_pipeline.config.activation import WRITEBACK_COLUMNS, Crm
from blueprint_pipeline.config.figures import LIST_SEPARATOR, group_scale
from blueprint_pipeline.config.models import BlueprintConfig
from blueprint_pipeline.core.csv_safety import to_csv
from blueprint_pipeline.warehouse import Session


def writeback_rows(session: Session) -> pd.DataFrame:
    """buying_group_id + WRITEBACK_COLUMNS, one row per buying group, as text."""
    roles = {}
    if session.table_exists("buying_group_roles"):
        filled = session.fetch_df(
            "select buying_group_id, string_agg(role, $separator order by role) as roles "
            "from buying_group_roles where assigned > 0 group by buying_group_id",
            {"separator": LIST_SEPARATOR},
        )
        roles = dict(zip(filled["buying_group_id"], filled["roles"], strict=True))
    frame = session.fetch_df(
        "select g.buying_group_id, g.account_id, g.solution_interest, s.stage, "
        "round(coalesce(g.completeness_score, 0), 4) as completeness, "
        "round(coalesce(e.score, 0), 2) as engagement_score, "
        "coalesce(g.missing_required_roles, '') as roles_missing, s.entered_at as last_stage_change "
        "from buying_groups as g "
        "left join buying_group_stages as s on s.buying_group_id = g.buying_group_id "
        "left join buying_group_engagement as e on e.buying_group_id = g.buying_group_id "
        "order by g.buying_group_id"
    )
    frame["roles_filled"] = frame["buying_group_id"].map(roles).fillna("")
    frame["last_stage_change"] = [
        pd.Timestamp(t).strftime("%Y-%m-%dT%H:%M:%SZ") if not pd.isna(t) else ""
        for t in frame["last_stage_change"]
    ]
    return frame[["buying_group_id", *WRITEBACK_COLUMNS]].fillna("").astype(str)


def writeback_columns(config: BlueprintConfig) -> dict[str, str]:
    """What each write-back column holds, on what scale (the manifest says it beside the files:
    a CRM admin labels the fields with it; docs/figures.md)."""
    joined = f"joined with {LIST_SEPARATOR!r}"
    return {
        "stage": "the group's stage in its solution interest's stage model",
        "completeness": "the group's completeness score, 0-1, by its solution interest's method",
        "engagement_score": f"the group's engagement score ({group_scale(config)})",
        "roles_filled": f"roles with at least one member, {joined}",
        "roles_missing": f"required roles short of members, {joined}",
        "last_stage_change": "when the group entered its stage (UTC)",
    }


def row_hash(frame: pd.DataFrame) -> pd.Series:
    """Per row, the first 16 hex digits of the sha256 of its write-back values joined by \\x1f."""
    first, *rest = (frame[c] for c in WRITEBACK_COLUMNS)
    joined = first.str.cat(rest, sep="\x1f")
    return pd.Series([hashlib.sha256(s.encode()).hexdigest()[:16] for s in joined], index=frame.index)


def upsert_csv(frame: pd.DataFrame, crm: Crm) -> bytes:
    """Salesforce Bulk API upsert CSV. Read by a machine, so values stay raw (no formula
    neutralising, core/csv_safety.py): the build summary counts the cells a spreadsheet would run."""
    return to_csv(frame[list(upsert_columns(crm))].rename(columns=upsert_columns(crm)), neutralise=False)


def upsert_columns(crm: Crm) -> dict[str, str]:
    """Our column -> the Salesforce field it is written to (the external id first)."""
    return {
        "buying_group_id": crm.external_id_field,
        **{c: crm.fields[c] for c in WRITEBACK_COLUMNS if c in crm.fields},
    }


def account_updates_csv(updates: pd.DataFrame) -> bytes:
    """One row per account with the last value of each field a journey set (a Bulk API update by
    Id; raw values like the upsert file)."""
    wide = updates.drop_duplicates(["account_id", "field"], keep="last").pivot(
        index="account_id", columns="field", values="value"
    )
    wide.columns.name = None
    return to_csv(wide.reset_index().rename(columns={"account_id": "Id"}), neutralise=False)
