"""The figures that appear in more than one output (build summary, KPI tables, dashboard, sales
alerts, CRM write-back), named and labelled in one place (docs/figures.md).

Every output that shows a score, a velocity or "complete" takes its words from here, so a group's
score is never shown as if it were an account's, and a change of the config (the group
aggregation, the score model, a threshold) changes every label at once.
"""

from __future__ import annotations

from blueprint_pipeline.config.models import BlueprintConfig

# How lists of names (roles filled, roles missing) are joined in every output: tables, CSV files,
# the CRM write-back and alerts. A semicolon, as Salesforce joins multi-select picklist values.
LIST_SEPARATOR = "; "

GROUP_AGGREGATIONS = {
    "role_weighted_average": "role-weighted mean of members",
    "sum": "sum over members",
    "min_per_role": "sum of the weakest required role",
}
VELOCITY_WINDOW = "last 14 days minus the 14 before"
PERSON_SCALE = "points"
ACCOUNT_SCALE = "points, sum over its persons"


def group_scale(config: BlueprintConfig) -> str:
    """The group engagement score's scale, which depends on the config."""
    if config.scoring.model == "suite_compatible":
        return "0-100, suite-compatible, relative to the other groups"
    return f"points, {GROUP_AGGREGATIONS[config.scoring.explainable.group_aggregation]}"


def group_velocity_scale(config: BlueprintConfig) -> str:
    """A group's velocity aggregates its members' velocities as the explainable group score
    aggregates their scores (buying_group_engagement.sql), so it reads on that score's scale."""
    aggregation = GROUP_AGGREGATIONS[config.scoring.explainable.group_aggregation]
    return f"points, {aggregation}: {VELOCITY_WINDOW}"


def labels(config: BlueprintConfig) -> dict[str, str]:
    """Each figure's label with whose it is and its scale."""
    return {
        "group_scale": group_scale(config),
        "group_score": f"Group engagement score ({group_scale(config)})",
        "group_velocity_14": f"Group 14-day velocity ({group_velocity_scale(config)})",
        "account_score": f"Account engagement score ({ACCOUNT_SCALE})",
        "account_velocity_14": f"Account 14-day velocity ({ACCOUNT_SCALE}: {VELOCITY_WINDOW})",
    }


def complete_threshold(config: BlueprintConfig) -> str:
    """What "complete" means here, in words: "at 80%", or each interest's threshold when they
    differ. A group is complete when its completeness score (its interest's method) reaches its
    interest's threshold: `buying_groups.is_complete`, the one definition every output counts."""
    buying_groups = config.buying_groups
    at = {
        name: buying_groups.completeness_of(name).complete_at
        for name in sorted(buying_groups.solution_interests)
    }
    if len(set(at.values())) <= 1:
        return f"at {next(iter(at.values()), buying_groups.completeness.complete_at):.0%}"
    return "at " + ", ".join(f"{value:.0%} for {name}" for name, value in at.items())
