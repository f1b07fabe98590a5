"""The stakeholder dashboard: one self-contained HTML file (plotly.js inlined, so it opens with no
network), in five sections, plus a CSV hand-off for sales (docs/reporting.md#dashboard).

Each chart draws a table the build made for it: a KPI table or one of the dashboard's frames, SQL
models in dbt_like_sql/reporting/ (`dashboard_*.sql`, declared by the dashboard asset, whose inputs
they are). What stays here is presentation: which rows to show, their order, labels, formats and
layout. A missing table fails (the asset depends on every table it reads); an empty one says "no
data yet" instead of drawing nothing. No personal data: accounts by name, persons only as counts.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
from plotly.offline import get_plotlyjs

from blueprint_pipeline.config.figures import (
    ACCOUNT_SCALE,
    PERSON_SCALE,
    VELOCITY_WINDOW,
    complete_threshold,
    group_scale,
)
from blueprint_pipeline.config.figures import labels as score_labels
from blueprint_pipeline.config.models import BlueprintConfig
from blueprint_pipeline.core.atomic_files import replace_file
from blueprint_pipeline.core.csv_safety import to_csv
from blueprint_pipeline.reporting.kpis import band_labels
from blueprint_pipeline.warehouse import Session, quote

TEMPLATE = "plotly_white"

# What the reader sees in place of a column name, in charts and tables alike. Scores are labelled
# with whose they are and their scale where they are used (figures.labels: the group's scale
# depends on the config).
LABELS = {
    "account_name": "Account",
    "solution_interest": "Solution interest",
    "stage": "Stage",
    "days_in_stage": "Days in stage",
    "buying_groups": "Buying groups",
    "band": "Band",
    "snapshot_date": "Day",
    "week": "Week",
    "role": "Role",
    "members": "Members",
    "groups": "Buying groups a person is in",
    "persons": "Persons",
    "node": "Journey node",
    "accounts": "Accounts",
    "journey_id": "Journey",
    "completion_rate": "Completion rate",
    "rate": "Rate",
    "value": "Share of emails sent",
    "open_rate": "Opened",
    "click_rate": "Clicked",
    "win_rate": "Win rate",
    "opportunities": "Opportunities",
    "won": "Won",
    "covered": "Share of groups with the role filled",
    "mean_person_score": f"Mean person engagement score ({PERSON_SCALE})",
}


@dataclass
class Section:
    title: str
    blocks: list[str] = field(default_factory=list)  # HTML fragments


def _frame(session: Session, table: str) -> pd.DataFrame:
    """A KPI table's or a frame's rows in the order they were stored (a frame whose chart draws in
    an order stores its rows in it); a missing table fails, naming it."""
    return session.fetch_df(f"select * from {quote(table)}")


def _chart(figure: go.Figure | None, title: str, empty: str = "no data yet") -> str:
    if figure is None:
        return f'<div class="chart empty"><h3>{html.escape(title)}</h3><p>{html.escape(empty)}</p></div>'
    figure.update_layout(
        title=title, template=TEMPLATE, height=360, margin={"l": 40, "r": 20, "t": 50, "b": 40}
    )
    return '<div class="chart">' + figure.to_html(full_html=False, include_plotlyjs=False) + "</div>"


def _table(frame: pd.DataFrame, title: str, labels: dict[str, str] | None = None) -> str:
    """An HTML table whose headings are words (LABELS, then `labels`), never column names."""
    if frame.empty:
        return f'<div class="table empty"><h3>{html.escape(title)}</h3><p>none</p></div>'
    shown = frame.rename(columns=LABELS | (labels or {}))
    return f'<div class="table"><h3>{html.escape(title)}</h3>{shown.to_html(index=False, border=0)}</div>'


def _latest(
    session: Session,
    table: str,
    numerator: str,
    denominator: str,
    mean_of: str | None = None,
    counts: bool = False,
) -> str:
    """The latest week's value of a KPI table over every interest or journey, as text: a rate
    recomputed from the summed counts (with them, "19% (6 of 32)", when `counts`), or
    (`mean_of`) the mean weighted by `denominator`."""
    frame = _frame(session, table)
    if frame.empty:
        return "—"
    latest = frame[frame["week"] == frame["week"].max()]
    weights = pd.to_numeric(latest[denominator])
    if not weights.sum():
        return "—"
    if mean_of:
        return f"{(pd.to_numeric(latest[mean_of]) * weights).sum() / weights.sum():,.1f}"
    share = f"{pd.to_numeric(latest[numerator]).sum() / weights.sum():.0%}"
    return (
        f"{share} ({int(pd.to_numeric(latest[numerator]).sum()):,} of {int(weights.sum()):,})"
        if counts
        else share
    )


def _sorted(frame: pd.DataFrame, *columns: str) -> pd.DataFrame:
    """Rows in the order the chart draws them, by its key (pandas' order, so the same on both
    warehouses; a KPI table's rows come in no order)."""
    return frame.sort_values(list(columns), kind="stable").reset_index(drop=True)


def _as_category(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    """Days as text, for _day_axis."""
    return frame.assign(**{column: frame[column].astype(str).str[:10]})


def _day_axis(figure: go.Figure) -> go.Figure:
    """One tick per day or week drawn, labelled YYYY-MM-DD: plotly reads such text as dates and,
    with a single day, spreads the axis over fractions of a second ("23:59:59.9995")."""
    return figure.update_xaxes(type="category")


def _rates(figure: go.Figure) -> go.Figure:
    return figure.update_yaxes(range=[0, 1], tickformat=".0%")


def overview(session: Session, config: BlueprintConfig) -> Section:
    tiles = [
        (
            f"Complete buying groups (completeness {complete_threshold(config)})",
            _latest(
                session, "kpi_buying_group_completeness", "complete_groups", "buying_groups", counts=True
            ),
        ),
        (
            f"Mean group engagement score ({score_labels(config)['group_scale']})",
            _latest(session, "kpi_buying_group_engagement", "", "buying_groups", mean_of="mean_score"),
        ),
        (
            # The KPI counts per solution interest: an account qualified in two counts in each.
            "Marketing-qualified accounts (summed over solution interests)",
            _latest(session, "kpi_mqa_rate", "qualified_accounts", "accounts"),
        ),
        (
            "Pipeline velocity (median days)",
            _latest(session, "kpi_pipeline_velocity", "", "opportunities", mean_of="median_days"),
        ),
        (
            "Leads qualified into groups",
            _latest(session, "kpi_lead_qualification_rate", "qualified_persons", "linked_persons"),
        ),
        ("Sales alerts answered", _latest(session, "kpi_sales_alert_response_rate", "responded", "alerts")),
        ("Journey completion", _latest(session, "kpi_journey_completion_rate", "completed", "enrolments")),
        ("Email opens", _latest(session, "kpi_email_engagement_rate", "opened", "sent")),
    ]
    section = Section("Overview")
    section.blocks.append(
        '<div class="tiles">'
        + "".join(
            f'<div class="tile"><div class="value">{html.escape(v)}</div>'
            f'<div class="label">{html.escape(k)}</div></div>'
            for k, v in tiles
        )
        + '<p class="note">Latest week, all solution interests (docs/reporting.md defines each KPI); '
        + "— : nothing to measure yet (no opportunity after a group, no alert fired).</p></div>"
    )
    banded = _frame(session, "dashboard_group_bands")
    settings = config.reporting
    if banded.empty:
        section.blocks += [
            _chart(None, t) for t in ("Completeness", "Engagement", "Buying groups per interest")
        ]
        return section
    group_score = score_labels(config)["group_score"]
    for measure, column, edges, percent in (
        ("Completeness", "completeness", settings.completeness_bands, True),
        (group_score, "score", settings.score_bands, False),
    ):
        counts = _sorted(banded[banded["measure"] == column], "solution_interest", "band")
        section.blocks.append(
            _chart(
                px.bar(
                    counts,
                    x="band",
                    y="buying_groups",
                    color="solution_interest",
                    barmode="group",
                    category_orders={"band": band_labels(edges, percent)},
                    labels=LABELS | {"band": measure},
                ),
                f"{measure} of buying groups, in bands",
            )
        )
    per_interest = _sorted(_frame(session, "dashboard_groups_per_interest"), "solution_interest")
    section.blocks.append(
        _chart(
            px.bar(per_interest, x="solution_interest", y="buying_groups", labels=LABELS),
            "Buying groups per solution interest",
        )
    )
    section.blocks.append(
        '<p class="note">Sales hand-off: <a href="sales_handoff.csv">sales_handoff.csv</a> '
        "(qualified buying groups, one row each).</p>"
    )
    return section


def _groups_engaged(session: Session) -> pd.DataFrame:
    """Each group's stage, score and 14-day velocity as the dashboard and the summary show them."""
    return _frame(session, "dashboard_buying_groups")


def _accounts_engaged(session: Session) -> pd.DataFrame:
    """Each engaged account's score and 14-day velocity as the dashboard and the summary show them."""
    return _frame(session, "dashboard_accounts")


def top_engagement(session: Session, config: BlueprintConfig) -> str | None:
    """The build summary's line: the most engaged group and account, each score with whose it is and
    its scale, as the dashboard's tables show them (ties: the first id)."""
    groups, accounts = _groups_engaged(session), _accounts_engaged(session)
    parts = []
    if not groups.empty:
        g = groups.sort_values(["score", "buying_group_id"], ascending=[False, True]).iloc[0]
        parts.append(
            f"top group {g['buying_group_id']}: group score {float(g['score']):.1f} "
            f"({group_scale(config)}), 14-day velocity {float(g['velocity_14']):.1f} (same scale, "
            f"{VELOCITY_WINDOW})"
        )
    if not accounts.empty:
        a = accounts.sort_values(["score", "account_id"], ascending=[False, True]).iloc[0]
        parts.append(
            f"top account {a['account_id']}: account score {float(a['score']):.1f} ({ACCOUNT_SCALE}), "
            f"14-day velocity {float(a['velocity_14']):.1f} (same scale, {VELOCITY_WINDOW})"
        )
    return "; ".join(parts) or None


def progression(session: Session, config: BlueprintConfig) -> Section:
    section = Section("Progression")
    stages = _frame(session, "dashboard_stage_counts")
    order = [s.name for model in config.stages.models.values() for s in model.stages]
    if stages.empty:
        section.blocks.append(_chart(None, "Stage funnel"))
    else:
        stages["rank"] = [order.index(s) if s in order else len(order) for s in stages["stage"]]
        stages = stages.sort_values("rank")
        section.blocks.append(
            _chart(
                go.Figure(go.Funnel(y=stages["stage"], x=stages["buying_groups"])).update_yaxes(
                    title="Stage"
                ),
                "Stage funnel (buying groups now)",
            )
        )
    history = _frame(session, "dashboard_stage_history")
    section.blocks.append(
        _chart(
            _day_axis(
                px.bar(
                    _as_category(history, "snapshot_date"),
                    x="snapshot_date",
                    y="buying_groups",
                    color="stage",
                    category_orders={"stage": order},
                    labels=LABELS,
                )
            )
            if not history.empty
            else None,
            "Stage progression over time (daily snapshots)",
        )
    )
    top = config.reporting.top_n
    groups = _groups_engaged(session)
    scales = score_labels(config)
    group_labels = {"score": scales["group_score"], "velocity_14": scales["group_velocity_14"]}
    if groups.empty:
        section.blocks += [_table(groups, t) for t in ("Top by engagement", "Top by velocity", "Stagnant")]
    else:
        columns = ["account_name", "solution_interest", "stage", "score", "velocity_14", "days_in_stage"]
        section.blocks.append(
            _table(groups.nlargest(top, "score")[columns], "Top buying groups by engagement", group_labels)
        )
        section.blocks.append(
            _table(
                groups.nlargest(top, "velocity_14")[columns],
                "Top buying groups by velocity (14 days)",
                group_labels,
            )
        )
        stagnant = groups[pd.to_numeric(groups["days_in_stage"]) >= config.reporting.stagnant_days]
        section.blocks.append(
            _table(
                stagnant.nlargest(top, "days_in_stage")[columns],
                f"Stagnant: {config.reporting.stagnant_days}+ days in one stage",
                group_labels,
            )
        )
    accounts = _accounts_engaged(session)
    surge = config.reporting.surge_points
    account_labels = {"score": scales["account_score"], "velocity_14": scales["account_velocity_14"]}
    if accounts.empty:
        section.blocks += [_table(accounts, "Surging accounts"), _table(accounts, "At-risk accounts")]
    else:
        velocity = pd.to_numeric(accounts["velocity_14"])
        accounts = accounts.drop(columns="account_id")  # accounts by name
        section.blocks.append(
            _table(
                accounts[velocity >= surge].nlargest(top, "velocity_14"),
                f"Surging accounts (14-day score velocity >= {surge:g})",
                account_labels,
            )
        )
        section.blocks.append(
            _table(
                accounts[velocity <= -surge].nsmallest(top, "velocity_14"),
                f"At-risk accounts (14-day score velocity <= -{surge:g})",
                account_labels,
            )
        )
    return section


def coverage(session: Session, config: BlueprintConfig) -> Section:
    section = Section("Coverage")
    roles = _frame(session, "dashboard_role_coverage")
    if roles.empty:
        section.blocks.append(_chart(None, "Contact coverage by role and solution interest"))
    else:
        grid = roles.pivot(index="role", columns="solution_interest", values="covered").astype(float)
        section.blocks.append(
            _chart(
                px.imshow(
                    grid,
                    text_auto=".0%",
                    color_continuous_scale="Blues",
                    aspect="auto",
                    labels={"x": "Solution interest", "y": "Role", "color": LABELS["covered"]},
                ),
                "Contact coverage: share of groups with the role filled",
            )
        )
    overlap = _frame(session, "dashboard_group_overlap")
    section.blocks.append(
        _chart(
            px.bar(overlap, x="groups", y="persons", labels=LABELS).update_xaxes(dtick=1)
            if not overlap.empty
            else None,
            "Contact overlap: persons by the number of buying groups they are in",
        )
    )
    acquired = _frame(session, "dashboard_role_history")
    section.blocks.append(
        _chart(
            _day_axis(
                px.line(
                    _as_category(acquired, "snapshot_date"),
                    x="snapshot_date",
                    y="members",
                    color="role",
                    markers=True,
                    labels=LABELS,
                )
            )
            if not acquired.empty
            else None,
            "Role acquisition over time",
        )
    )
    by_role = _frame(session, "dashboard_role_engagement")
    section.blocks.append(
        _chart(
            px.bar(by_role, x="role", y="mean_person_score", labels=LABELS) if not by_role.empty else None,
            "Engagement by role (mean person score)",
        )
    )
    return section


def journeys(session: Session, config: BlueprintConfig) -> Section:
    section = Section("Journeys")
    nodes = _frame(session, "dashboard_journey_nodes")
    section.blocks.append(
        _chart(
            px.bar(nodes, x="node", y="accounts", color="journey_id", barmode="group", labels=LABELS)
            if not nodes.empty
            else None,
            "Accounts per journey node",
        )
    )
    completion = _sorted(_frame(session, "kpi_journey_completion_rate"), "week", "journey_id")
    section.blocks.append(
        _chart(
            _rates(
                _day_axis(
                    px.bar(
                        _as_category(completion, "week"),
                        x="week",
                        y="completion_rate",
                        color="journey_id",
                        barmode="group",
                        labels=LABELS,
                    )
                )
            )
            if not completion.empty
            else None,
            "Journey completion rate by week of entry",
        )
    )
    email = _sorted(_frame(session, "kpi_email_engagement_rate"), "week", "journey_id")
    if email.empty:
        section.blocks.append(_chart(None, "Email engagement"))
    else:
        long = email.melt(
            id_vars=["week", "journey_id"], value_vars=["open_rate", "click_rate"], var_name="rate"
        )
        quiet = " (no open or click tracked yet)" if not pd.to_numeric(long["value"]).any() else ""
        section.blocks.append(
            _chart(
                _rates(
                    _day_axis(
                        px.bar(
                            _as_category(long.assign(rate=long["rate"].map(LABELS)), "week"),
                            x="week",
                            y="value",
                            color="rate",
                            barmode="group",
                            facet_col="journey_id",
                            labels=LABELS,
                        )
                    )
                ),
                f"Email engagement by week sent{quiet}",
            )
        )
    return section


def tuning(session: Session, config: BlueprintConfig) -> Section:
    section = Section("Tuning")
    wins = _sorted(_frame(session, "kpi_win_rate_by_band"), "solution_interest", "measure", "band")
    settings = config.reporting
    named = {"completeness": "Completeness", "score": score_labels(config)["group_score"]}
    for measure, edges, percent in (
        ("completeness", settings.completeness_bands, True),
        ("score", settings.score_bands, False),
    ):
        part = wins[wins["measure"] == measure] if not wins.empty else wins
        section.blocks.append(
            _chart(
                px.bar(
                    part,
                    x="band",
                    y="win_rate",
                    color="solution_interest",
                    barmode="group",
                    hover_data=["opportunities", "won"],
                    category_orders={"band": band_labels(edges, percent)},
                    labels=LABELS | {"band": named[measure]},
                )
                if not part.empty
                else None,
                f"Win rate by {measure} band at opportunity creation",
                "no closed opportunity yet",
            )
        )
    return section


SECTIONS: list[Callable[[Session, BlueprintConfig], Section]] = [
    overview,
    progression,
    coverage,
    journeys,
    tuning,
]

STYLE = """
body{font-family:system-ui,sans-serif;margin:0;color:#1f2937;background:#f9fafb}
header{background:#111827;color:#fff;padding:16px 24px} header h1{margin:0;font-size:20px}
nav{padding:8px 24px;background:#e5e7eb} nav a{margin-right:16px;color:#111827}
section{padding:8px 24px} h2{border-bottom:2px solid #d1d5db;padding-bottom:4px}
.tiles{display:flex;flex-wrap:wrap;gap:12px}
.tile{background:#fff;border:1px solid #e5e7eb;border-radius:8px;padding:12px 16px;min-width:170px}
.tile .value{font-size:26px;font-weight:600} .tile .label{color:#6b7280;font-size:13px}
.chart,.table{background:#fff;border:1px solid #e5e7eb;border-radius:8px;margin:12px 0;padding:8px}
.table table{border-collapse:collapse;font-size:13px} .table td,.table th{padding:4px 10px;text-align:left}
.empty p,.note{color:#6b7280}
"""


def render(session: Session, config: BlueprintConfig, built_for: str) -> str:
    sections = [make(session, config) for make in SECTIONS]
    nav = "".join(f'<a href="#{s.title.lower()}">{s.title}</a>' for s in sections)
    body = "".join(
        f'<section id="{s.title.lower()}"><h2>{s.title}</h2>{"".join(s.blocks)}</section>' for s in sections
    )
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>Buying groups: dashboard</title>"
        f"<style>{STYLE}</style><script>{get_plotlyjs()}</script></head><body>"
        "<header><h1>Buying groups and account journeys</h1>"
        f"<div>as of {html.escape(built_for)}</div></header>"
        f"<nav>{nav}</nav>{body}</body></html>"
    )


def sales_handoff(session: Session) -> bytes:
    """The qualified buying groups (alerts.milestones.qualified_stages), one row each, most engaged
    first, for sales (the frame dashboard_sales_handoff)."""
    frame = _frame(session, "dashboard_sales_handoff")
    if len(frame):
        frame["stage_since"] = pd.to_datetime(frame["stage_since"]).dt.strftime("%Y-%m-%d %H:%M")
    return to_csv(frame)  # opened in a spreadsheet by sales: formulas neutralised (core/csv_safety.py)


def write(folder: Path, session: Session, config: BlueprintConfig, built_for: str) -> tuple[Path, int]:
    """dashboard.html and sales_handoff.csv in `folder`, each written whole then moved in place."""
    folder.mkdir(parents=True, exist_ok=True)
    page = render(session, config, built_for)
    handoff = sales_handoff(session)
    for name, content in (("dashboard.html", page.encode()), ("sales_handoff.csv", handoff)):
        replace_file(folder / name, content)
    return folder / "dashboard.html", max(handoff.count(b"\n") - 1, 0)
