-- Complete as `buying_groups.is_complete` says (the interest's method and threshold), the one
-- definition every output counts (docs/figures.md), in each group's last snapshot of the week.
with weekly as (
    select
        week,
        solution_interest,
        count(*) as buying_groups,
        cast(sum(case when is_complete then 1 else 0 end) as bigint) as complete_groups,
        -- The mean in decimals: a sum of doubles depends on row order, which moved a tie at the
        -- fourth decimal between two identical builds.
        cast(round(avg(cast(completeness_score as decimal(18, 6))), 4) as double) as mean_completeness
    from ({{ week_end_snapshots() }}) as snapshots
    group by week, solution_interest
)

select
    week,
    solution_interest,
    buying_groups,
    complete_groups,
    {{ rate('complete_groups', 'buying_groups') }} as completeness_rate,
    mean_completeness
from weekly
