-- Each buying group's completeness and group engagement score (0 without one) in the bands of
-- config reporting (reporting_bands: completeness_bands, score_bands), counted per solution
-- interest: the dashboard's two banded overview charts. A value in no band (null) is 'no snapshot
-- before', as the band labels say.
with measured as (
    select
        buying_group.solution_interest,
        'completeness' as measure,
        cast(buying_group.completeness_score as double) as measured_value
    from {{ ref('buying_groups') }} as buying_group
    union all
    select
        buying_group.solution_interest,
        'score' as measure,
        cast(coalesce(engagement.score, 0) as double) as measured_value
    from {{ ref('buying_groups') }} as buying_group
    left join {{ ref('buying_group_engagement') }} as engagement
        on engagement.buying_group_id = buying_group.buying_group_id
),

banded as ({{ banded('measured') }})

select
    cast(measure as varchar) as measure,
    solution_interest,
    cast(band as varchar) as band,
    count(*) as buying_groups
from banded
group by measure, solution_interest, band
