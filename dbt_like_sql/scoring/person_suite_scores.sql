-- The suite-compatible person score, for teams migrating who want the numbers they know: in the
-- window before the as-of time, each kind's activities counted at most `daily_cap` a day, times
-- the kind's weight (person_suite_contributions); raw = their sum; score = 100 x sqrt(raw) / the
-- largest sqrt(raw) of any person (0-100, relative: it moves when someone else's engagement does).
with raw as (
    select person_id, sum(points) as raw_points
    from {{ ref('person_suite_contributions') }}
    group by person_id
)

select
    person_id,
    raw_points,
    sqrt(raw_points) as root,
    case when max(sqrt(raw_points)) over () > 0
        then round(100.0 * sqrt(raw_points) / max(sqrt(raw_points)) over (), 9) else 0.0 end as score
from raw
