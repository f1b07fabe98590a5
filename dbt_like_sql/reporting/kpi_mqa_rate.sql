-- Accounts with a group in a qualified stage (config alerts.milestones.qualified_stages, the table
-- reporting_qualified_stages) in its last snapshot of the week, over the accounts with a group.
with weekly as (
    select
        snapshots.week,
        snapshots.solution_interest,
        count(distinct snapshots.account_id) as accounts,
        count(distinct case when qualified.stage is not null then snapshots.account_id end)
            as qualified_accounts
    from ({{ week_end_snapshots() }}) as snapshots
    left join {{ ref('reporting_qualified_stages') }} as qualified on qualified.stage = snapshots.stage
    group by snapshots.week, snapshots.solution_interest
)

select
    week,
    solution_interest,
    accounts,
    qualified_accounts,
    {{ rate('qualified_accounts', 'accounts') }} as mqa_rate
from weekly
