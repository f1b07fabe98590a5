-- The suite-compatible person score, for teams migrating who want the numbers they know: in the
-- window before the as-of time, each kind's activities counted at most `daily_cap` a day, times
-- the kind's weight; raw = their sum; score = 100 x sqrt(raw) / the largest sqrt(raw) of any
-- person (0-100, relative: it moves when someone else's engagement does).
with weights as (
    select * from {{ ref('scoring_suite_weights') }}
),

daily as (
    select activities.person_id, activities.kind, cast(activities.activity_at as date) as activity_day,
        least(count(*), max(weights.daily_cap)) as counted, max(weights.weight) as weight
    from {{ ref('int_person_activities') }} as activities
    inner join weights on weights.kind = activities.kind
    where activities.activity_at <= {{ as_of }}
        and date_diff('second', activities.activity_at, {{ as_of }}) / 86400.0 < weights.window_days
    group by activities.person_id, activities.kind, cast(activities.activity_at as date)
),

raw as (
    select person_id, sum(counted * weight) as raw_points
    from daily
    group by person_id
)

select
    person_id,
    raw_points,
    sqrt(raw_points) as root,
    case when max(sqrt(raw_points)) over () > 0
        then round(100.0 * sqrt(raw_points) / max(sqrt(raw_points)) over (), 9) else 0.0 end as score
from raw
