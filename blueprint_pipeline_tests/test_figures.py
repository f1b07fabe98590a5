"""One name, one meaning (docs/figures.md): on one build of the tiny sample (the
uninterrupted build the reliability suites share), the complete-group count, a group's score and
velocity, an account's score and a group's stage are the same in the build summary, the KPI tables, the dashboard,
a sales alert and the CRM write-back file, each labelled with whose it is and its scale; lists are
joined with "; " everywhere. Each figure is also worked from its definition, so an output that
drifts (another threshold, method, aggregation or scale) fails here. Both warehouses."""

from __future__ import annotations

import html
import io
import json
import re
from collections import defaultdict

import pandas as pd

from blueprint_pipeline.resources import load_config
from blueprint_pipeline_tests.tiny_sample import CONFIG

GROUP_SCALE = "points, role-weighted mean of members"  # examples/config keeps the shipped scoring
ACCOUNT_SCALE = "points, sum over its persons"


def _table(tables: dict, name: str) -> pd.DataFrame:
    columns, *rows = tables[name]
    return pd.DataFrame(rows, columns=list(columns))


def _html_table(page: str, title: str) -> pd.DataFrame:
    """A dashboard table (pandas' to_html under its <h3> title), cells as text."""
    start = page.index(f"<h3>{title}</h3>")
    body = page[start : page.index("</table>", start)]
    rows = [
        [html.unescape(cell) for cell in re.findall(r"<t[hd]>(.*?)</t[hd]>", row, re.S)]
        for row in re.findall(r"<tr.*?>(.*?)</tr>", body, re.S)
    ]
    return pd.DataFrame(rows[1:], columns=rows[0])


def _most_engaged(scores: pd.DataFrame) -> str:
    """The id of the highest score at one decimal, as shown (ties: the first id)."""
    ranked = scores.assign(shown=scores["score"].astype(float).round(1), id=scores.index)
    return ranked.sort_values(["shown", "id"], ascending=[False, True]).index[0]


def _summary_line(summary: str, label: str) -> str:
    return next(line.strip() for line in summary.splitlines() if line.strip().startswith(f"{label}: "))


def test_figures_agree_across_every_output(warehouse, uninterrupted_outputs):
    built = uninterrupted_outputs(warehouse)
    tables, summary, alerts = built["tables"], built["summary"], built["alerts"]
    page = built["reports"]["dashboard.html"].decode()
    [crm_folder] = {path.split("/")[1] for path in built["activation"] if path.startswith("crm/")}
    upsert = pd.read_csv(
        io.BytesIO(built["activation"][f"crm/{crm_folder}/buying_groups_upsert.csv"]),
        dtype=str,
        keep_default_na=False,
    ).set_index("Blueprint_Id__c")
    manifest = json.loads(built["activation"][f"crm/{crm_folder}/manifest.json"])
    config = load_config(CONFIG).config.buying_groups
    names = _table(tables, "unified_accounts").set_index("account_id")["account_name"]

    # Complete: the completeness score (the interest's method) at the interest's threshold.
    groups = _table(tables, "buying_groups").set_index("buying_group_id")
    at = groups["solution_interest"].map(lambda i: config.completeness_of(i).complete_at)
    by_hand = groups["completeness_score"].astype(float) >= at
    assert (groups["is_complete"] == "True").equals(by_hand)
    complete, total = int(by_hand.sum()), len(groups)
    assert 0 < complete < total
    # ... the summary
    assert f"{total} with " in _summary_line(summary, "buying groups")
    assert _summary_line(summary, "buying groups").endswith(f", {complete} complete (at 80%)")
    # ... the KPI table (the latest week: this build's snapshot)
    kpi = _table(tables, "kpi_buying_group_completeness")
    latest = kpi[kpi["week"] == kpi["week"].max()]
    assert latest["complete_groups"].astype(int).sum() == complete
    assert latest["buying_groups"].astype(int).sum() == total
    per_interest = latest.set_index("solution_interest")["complete_groups"].astype(int).to_dict()
    assert per_interest == by_hand.groupby(groups["solution_interest"]).sum().astype(int).to_dict()
    # ... the dashboard's tile (count and share, the threshold named)
    tile = re.search(
        r'<div class="value">([^<]*)</div><div class="label">Complete buying groups ([^<]*)</div>', page
    )
    assert tile is not None and tile.group(2) == "(completeness at 80%)"
    assert tile.group(1) == f"{complete / total:.0%} ({complete} of {total})"
    # ... each group's alert
    said_complete = {
        g for g, text in alerts.items() if re.search(r"^Completeness: .*, complete \(at 80%\)$", text, re.M)
    }
    assert said_complete == set(by_hand[by_hand].index)

    # A group's score and velocity: the most engaged group, as the summary names it.
    engagement = _table(tables, "buying_group_engagement").set_index("buying_group_id")
    top = _most_engaged(engagement)
    score, velocity = float(engagement.loc[top, "score"]), float(engagement.loc[top, "velocity_14"])
    # Score and velocity by hand, for every group: the members' figures weighted by role, the
    # velocity aggregated as the score is (on the shipped config: the role-weighted mean).
    members = _table(tables, "buying_group_members")
    roles = (
        _table(tables, "buying_group_roles").set_index(["buying_group_id", "role"])["weight"].astype(float)
    )
    persons = _table(tables, "person_engagement_scores").set_index("person_id")
    members = members.assign(
        w=[roles[(g, r)] for g, r in zip(members["buying_group_id"], members["role"], strict=True)],
        s=members["person_id"].map(persons["score"]).fillna(0).astype(float),
        v=members["person_id"].map(persons["velocity_14"]).fillna(0).astype(float),
    )
    sums = members.assign(sw=members["s"] * members["w"], vw=members["v"] * members["w"]).groupby(
        "buying_group_id"
    )
    sums = sums[["sw", "vw", "w"]].sum()
    assert (sums["sw"] / sums["w"]).round(6).to_dict() == engagement["score"].astype(float).round(6).loc[
        sums.index
    ].to_dict()
    assert (sums["vw"] / sums["w"]).round(6).to_dict() == (
        engagement["velocity_14"].astype(float).round(6).loc[sums.index].to_dict()
    )
    several = members.groupby("buying_group_id")["v"].nunique()
    assert (several > 1).sum() >= 5, "groups whose members' velocities differ, so the aggregation shows"
    # ... the summary
    assert f"top group {top}: group score {score:.1f} ({GROUP_SCALE}), 14-day velocity {velocity:.1f}" in (
        _summary_line(summary, "engagement")
    )
    # ... the daily snapshot the KPIs read, and the KPI's mean over the group's interest
    snapshots = _table(tables, "buying_group_snapshots").set_index("buying_group_id")
    assert (
        float(snapshots.loc[top, "score"]) == score and float(snapshots.loc[top, "velocity_14"]) == velocity
    )
    interest = groups.loc[top, "solution_interest"]
    kpi = _table(tables, "kpi_buying_group_engagement")
    mean = float(
        kpi[(kpi["week"] == kpi["week"].max()) & (kpi["solution_interest"] == interest)]["mean_score"].iloc[0]
    )
    in_interest = engagement.loc[groups.index[groups["solution_interest"] == interest], "score"].astype(float)
    assert mean == round(in_interest.mean(), 2)
    # ... the dashboard's top groups, labelled with the group's scale
    shown = _html_table(page, "Top buying groups by engagement").set_index(["Account", "Solution interest"])
    shown = shown.loc[(names[groups.loc[top, "account_id"]], interest)]
    assert float(shown[f"Group engagement score ({GROUP_SCALE})"]) == round(score, 1)
    group_velocity = f"Group 14-day velocity ({GROUP_SCALE}: last 14 days minus the 14 before)"
    assert float(shown[group_velocity]) == round(velocity, 1)
    # ... the group's alert
    assert f"Group score:        {score:.1f} (group engagement score, {GROUP_SCALE})\n" in alerts[top]
    # ... the CRM write-back, whose manifest states the scale
    assert float(upsert.loc[top, "Engagement_Score__c"]) == round(score, 2)
    assert manifest["columns"]["engagement_score"] == f"the group's engagement score ({GROUP_SCALE})"

    # An account's score: the sum of its persons' scores (primary link), on another scale.
    accounts = _table(tables, "account_engagement_scores").set_index("account_id")
    account = _most_engaged(accounts)
    account_score = float(accounts.loc[account, "score"])
    links = _table(tables, "person_account_links").query("account_id == @account and is_primary == 'True'")
    assert round(persons["score"].reindex(links["person_id"]).dropna().astype(float).sum(), 6) == round(
        account_score, 6
    )
    assert f"top account {account}: account score {account_score:.1f} ({ACCOUNT_SCALE})" in (
        _summary_line(summary, "engagement")
    )
    # ... the dashboard's surging and at-risk accounts: every one shown, by name, on the account's scale
    by_name = accounts.assign(name=accounts.index.map(names)).set_index("name")
    shown = pd.concat(
        _html_table(page, title)
        for title in re.findall(r"<h3>([^<]*)</h3>", page)
        if title.startswith(("Surging accounts", "At-risk accounts"))
    )
    assert len(shown) >= 2
    score_heading = f"Account engagement score ({ACCOUNT_SCALE})"
    velocity_heading = f"Account 14-day velocity ({ACCOUNT_SCALE}: last 14 days minus the 14 before)"
    for name, row in shown.set_index("Account").iterrows():
        assert float(row[score_heading]) == round(float(by_name.loc[name, "score"]), 1)
        assert float(row[velocity_heading]) == round(float(by_name.loc[name, "velocity_14"]), 1)

    # Stage: the group's stage now, in the summary's counts, the write-back, each alert and the
    # snapshot the KPIs read.
    stages = _table(tables, "buying_group_stages").set_index("buying_group_id")["stage"]
    counts = ", ".join(f"{k} {v}" for k, v in sorted(stages.value_counts().items()))
    assert _summary_line(summary, "stages") == f"stages: {counts}"
    assert upsert["Stage__c"].to_dict() == stages.to_dict()
    assert snapshots["stage"].to_dict() == stages.to_dict()
    assert {
        g: re.search(r"^Stage: +(.*?)(?: \([^)]*\))?$", text, re.M).group(1) for g, text in alerts.items()
    } == stages.to_dict()

    # Lists: "; " in the table, the write-back and the alert alike.
    missing = groups["missing_required_roles"].where(groups["missing_required_roles"] != "", None).dropna()
    several = missing[missing.str.contains(";")]
    assert len(several) and not missing.str.contains(",").any()
    for group, roles in several.items():
        assert upsert.loc[group, "Roles_Missing__c"] == roles
        assert f"\nMissing (required): {roles}\n" in alerts[group]
    filled = defaultdict(list)
    for r in _table(tables, "buying_group_roles").sort_values("role").itertuples():
        if int(r.assigned) > 0:
            filled[r.buying_group_id].append(r.role)
    assert {g: "; ".join(rs) for g, rs in filled.items()} == {
        g: v for g, v in upsert["Roles_Filled__c"].items() if v
    }
