"""What the Dagster UI shows of a published table: its row count, its key figure and a preview
without personal data (docs/reporting.md#the-ui).

The preview shows only the columns the column catalogue marks `personal: false` (columns.py):
one that names, contacts or describes a person (or free text that may quote one) is left out, and
so is one the catalogue does not know, because the UI's event log is kept for ever and no deletion
request reaches it.
"""

from __future__ import annotations

import dagster as dg

from blueprint_pipeline.core.paths import SQL_PROJECT_DIR
from blueprint_pipeline.sql_models.columns import ColumnDoc
from blueprint_pipeline.sql_models.project import load_project
from blueprint_pipeline.warehouse import Warehouse, quote

PREVIEW_ROWS = 5
# Table -> (what the figure is, SQL of one number).
KEY_FIGURES = {
    "unified_persons": ("persons with an email address", "select count(email) from unified_persons"),
    "unified_accounts": ("accounts in a hierarchy", "select count(parent_account_id) from unified_accounts"),
    "person_account_links": (
        "persons linked to an account",
        "select count(distinct person_id) from person_account_links",
    ),
    "account_audience_members": (
        "accounts in an audience",
        "select count(distinct account_id) from account_audience_members",
    ),
    "readiness_scores": (
        "groups on the fast track",
        "select count(*) from readiness_scores where tier = 'fast_track'",
    ),
    "sales_feedback": (
        "decisions accepted",
        "select count(*) from sales_feedback where decision = 'accepted' and problem = ''",
    ),
    "buying_groups": ("mean completeness", "select round(avg(completeness_score), 3) from buying_groups"),
    "buying_group_members": (
        "persons in a buying group",
        "select count(distinct person_id) from buying_group_members",
    ),
    "buying_group_engagement": (
        "mean group score",
        "select round(avg(score), 2) from buying_group_engagement",
    ),
    "buying_group_stages": (
        "groups past an entry stage",
        "select count(*) from buying_group_stages where cast(stage_type as varchar) <> 'entry'",
    ),
    "person_engagement_scores": (
        "mean person score",
        "select round(avg(score), 2) from person_engagement_scores",
    ),
    "crm_buying_group_writeback": (
        "buying groups written back",
        "select count(*) from crm_buying_group_writeback",
    ),
}


def _documented(table: str) -> dict[str, ColumnDoc]:
    return load_project(SQL_PROJECT_DIR).column_docs().get(table, {})


def preview_columns(columns: list[str], table: str) -> list[str]:
    """The columns a preview may show: those the catalogue says are not personal."""
    docs = _documented(table)
    return [c for c in columns if c.lower() in docs and docs[c.lower()].personal is False]


def column_schema(typed: list[tuple[str, str]], docs: dict[str, ColumnDoc]) -> dg.TableSchema:
    """The table's columns as built, with their types and the catalogue's descriptions."""
    return dg.TableSchema(
        columns=[
            dg.TableColumn(
                name=name,
                type=kind.lower(),
                description=docs[name.lower()].description or None if name.lower() in docs else None,
                tags={"personal": ""} if name.lower() in docs and docs[name.lower()].personal else {},
            )
            for name, kind in typed
        ]
    )


def published(warehouse: Warehouse, table: str) -> dict:
    """Metadata for `table`'s latest materialisation: row count, key figure, preview. Never fails
    the asset: a part that cannot be computed (an empty table without types) is left out."""
    with warehouse.session() as session:
        if not session.table_exists(table):
            return {}
        typed = session.columns(table)
        # A view's rows are computed when read: a count or a preview would be a run of its query.
        rows = None if session.is_view(table) else session.row_count(table)
    columns = [c for c, _ in typed]
    metadata: dict = {"dagster/column_schema": column_schema(typed, _documented(table))}
    if rows is None:
        return metadata
    metadata["dagster/row_count"] = rows
    shown = preview_columns(columns, table)
    if table in KEY_FIGURES:
        label, sql = KEY_FIGURES[table]
        try:
            with warehouse.session() as session:
                value = session.scalar(sql)
            metadata[f"key figure: {label}"] = float(value) if value is not None else "none"
        except Exception:  # noqa: BLE001 - metadata is a courtesy, the table is built
            metadata[f"key figure: {label}"] = "unavailable"
    if shown:
        try:
            with warehouse.session() as session:
                frame = session.fetch_df(
                    f"select {', '.join(quote(c) for c in shown)} from {quote(table)} limit {PREVIEW_ROWS}"
                )
        except Exception:  # noqa: BLE001
            return metadata
        hidden = len(columns) - len(shown)
        note = f"\n\n{hidden} column(s) that may identify a person are not shown." if hidden else ""
        text = (
            frame.astype(object).where(frame.notna(), "").to_markdown(index=False)
            if len(frame)
            else "no rows"
        )
        metadata["preview"] = dg.MetadataValue.md(text + note)
    return metadata
