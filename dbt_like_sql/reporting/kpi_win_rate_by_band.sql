-- Closed opportunities of each interest, won or lost, by the group's completeness band and score
-- band (reporting_bands, from config reporting.completeness_bands and score_bands) in the last
-- snapshot on or before the opportunity's creation day: an as-of join, a LATERAL subquery on both
-- engines.
with at_creation as (
    select closed.solution_interest, closed.is_won, latest.completeness_score, latest.score
    from ({{ opportunities_by_interest() }}) as closed
    left join lateral (
        select snapshots.completeness_score, snapshots.score
        from {{ ref('buying_group_snapshots') }} as snapshots
        where snapshots.account_id = closed.account_id
            and snapshots.solution_interest = closed.solution_interest
            and snapshots.snapshot_date <= cast(closed.created_at as date)
        order by snapshots.snapshot_date desc
        limit 1
    ) as latest on true
    where closed.is_closed
),

measured as (
    select solution_interest, is_won, 'completeness' as measure, cast(completeness_score as double) as measured_value
    from at_creation
    union all
    select solution_interest, is_won, 'score' as measure, cast(score as double) as measured_value
    from at_creation
),

banded as ({{ banded('measured') }}),

counted as (
    select
        solution_interest,
        measure,
        band,
        count(*) as opportunities,
        cast(sum(case when is_won then 1 else 0 end) as bigint) as won
    from banded
    group by solution_interest, measure, band
)

select
    solution_interest,
    cast(measure as varchar) as measure,
    cast(band as varchar) as band,
    opportunities,
    won,
    {{ rate('won', 'opportunities') }} as win_rate
from counted
