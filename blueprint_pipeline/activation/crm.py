"""CRM write-back: per buying group, what sales should see in Salesforce, as a table and as Bulk
API upsert CSV keyed by an external id; the delta carries only rows that changed since the last
write-back; journeys' "update a CRM field" actions become an Account update file (docs/activation.md)."""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import pandas as pd

from blueprint_pipeline.config.activation import WRITEBACK_COLUMNS, Crm
from blueprint_pipeline.warehouse import Session


def writeback_rows(session: Session) -> pd.DataFrame:
    """buying_group_id + WRITEBACK_COLUMNS, one row per buying group, as text."""
    roles = {}
    if session.table_exists("buying_group_roles"):
        filled = session.fetch_df(
            "select buying_group_id, role from buying_group_roles where assigned > 0 order by role"
        )
        roles = {g: "; ".join(f["role"]) for g, f in filled.groupby("buying_group_id")}
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


def row_hash(frame: pd.DataFrame) -> pd.Series:
    return (
        frame[WRITEBACK_COLUMNS]
        .agg("\x1f".join, axis=1)
        .map(lambda s: hashlib.sha256(s.encode()).hexdigest()[:16])
    )


def upsert_csv(frame: pd.DataFrame, crm: Crm) -> bytes:
    columns = {
        "buying_group_id": crm.external_id_field,
        **{c: crm.fields[c] for c in WRITEBACK_COLUMNS if c in crm.fields},
    }
    out = io.StringIO()
    frame[list(columns)].rename(columns=columns).to_csv(out, index=False, lineterminator="\n")
    return out.getvalue().encode()


def write(folder: Path, files: dict[str, bytes], manifest: dict) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*"):
        old.unlink()
    for name, content in files.items():
        (folder / name).write_bytes(content)
    manifest["files"] = {
        n: {"bytes": len(b), "sha256": hashlib.sha256(b).hexdigest()} for n, b in files.items()
    }
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
