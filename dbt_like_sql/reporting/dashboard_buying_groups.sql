-- Each buying group's account, stage, group score and 14-day velocity as the dashboard's tables and
-- the build summary show them (rounded to one decimal; 0 without a score).
select
    buying_group.buying_group_id,
    account.account_name,
    buying_group.solution_interest,
    current_stage.stage,
    current_stage.days_in_stage,
    round(coalesce(engagement.score, 0), 1) as score,
    round(coalesce(engagement.velocity_14, 0), 1) as velocity_14
from {{ ref('buying_groups') }} as buying_group
left join {{ ref('unified_accounts') }} as account on account.account_id = buying_group.account_id
left join {{ ref('buying_group_stages') }} as current_stage on current_stage.buying_group_id = buying_group.buying_group_id
left join {{ ref('buying_group_engagement') }} as engagement
    on engagement.buying_group_id = buying_group.buying_group_id
