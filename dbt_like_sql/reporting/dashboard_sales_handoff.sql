-- The buying groups in a qualified stage (config alerts.milestones.qualified_stages, the table
-- reporting_qualified_stages), one row each, for sales: sales_handoff.csv, most engaged first.
select
    account.account_name,
    buying_group.account_id,
    buying_group.solution_interest,
    current_stage.stage,
    current_stage.entered_at as stage_since,
    round(buying_group.completeness_score, 2) as completeness,
    round(coalesce(engagement.score, 0), 1) as group_engagement_score,
    coalesce(buying_group.missing_required_roles, '') as missing_roles
from {{ ref('buying_groups') }} as buying_group
inner join {{ ref('buying_group_stages') }} as current_stage on current_stage.buying_group_id = buying_group.buying_group_id
left join {{ ref('buying_group_engagement') }} as engagement
    on engagement.buying_group_id = buying_group.buying_group_id
left join {{ ref('unified_accounts') }} as account on account.account_id = buying_group.account_id
where current_stage.stage in (select qualified.stage from {{ ref('reporting_qualified_stages') }} as qualified)
order by group_engagement_score desc, buying_group.account_id
