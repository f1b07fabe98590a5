{{ config(materialized='incremental', full_refresh=false, unique_key=['snapshot_date', 'buying_group_id']) }}
-- One row per buying group and as-of date: stage, completeness, score and members, as they were.
-- Incremental: each build writes its as-of date's rows (a second build on the same date replaces
-- them) and keeps every earlier date, so dashboards show progression and models train
-- point-in-time. `full_refresh=false`: the sources cannot give the past back, so
-- `blueprint run --full-refresh` keeps it (drop the table to start the history again).
with roles as (
    select
        buying_group_id,
        sum(case when assigned > 0 then 1 else 0 end) as roles_filled,
        sum(case when required and assigned < members_required then 1 else 0 end) as required_roles_missing
    from {{ ref('buying_group_roles') }}
    group by buying_group_id
)

select
    cast({{ as_of }} as date) as snapshot_date,
    groups.buying_group_id,
    groups.account_id,
    groups.solution_interest,
    stages.stage,
    stages.stage_type,
    stages.days_in_stage,
    groups.completeness_score,
    groups.suites_completeness,
    groups.weighted_completeness,
    groups.is_complete,
    engagement.score,
    engagement.model as score_model,
    engagement.score_explainable,
    engagement.score_suite,
    engagement.velocity_14,
    engagement.velocity_30,
    groups.members,
    coalesce(roles.roles_filled, 0) as roles_filled,
    coalesce(roles.required_roles_missing, 0) as required_roles_missing,
    {{ as_of }} as snapshot_at,
    {{ config_version }} as config_version
from {{ ref('buying_groups') }} as groups
left join {{ ref('buying_group_stages') }} as stages on stages.buying_group_id = groups.buying_group_id
left join {{ ref('buying_group_engagement') }} as engagement
    on engagement.buying_group_id = groups.buying_group_id
left join roles on roles.buying_group_id = groups.buying_group_id
