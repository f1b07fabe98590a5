-- The group score (person scores rolled up to the group) in each group's last snapshot of the week:
-- mean and median per week and interest.
with scores as (
    select week, solution_interest, cast(score as double) as score
    from ({{ week_end_snapshots() }}) as snapshots
    where week is not null and solution_interest is not null
),

medians as (
    {{ medians('scores', 'week, solution_interest', 'score') }}
),

weekly as (
    select
        week,
        solution_interest,
        count(*) as buying_groups,
        -- The mean in decimals, so that no row order moves it.
        cast(avg(cast(score as decimal(38, 9))) as double) as mean_score
    from scores
    group by week, solution_interest
)

{{ weekly_mean_and_median('buying_groups', 'score') }}
