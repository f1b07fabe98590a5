-- The suite-compatible model's arithmetic per person, kind and day, in the window before the
-- as-of time: the day's activities of the kind, those counted (at most `daily_cap`), the kind's
-- weight and the points they add; a person's raw points are the sum of their rows' points.
with weights as (
    select * from {{ ref('scoring_suite_weights') }}
)

select
    activities.person_id,
    activities.kind,
    cast(activities.activity_at as date) as activity_day,
    count(*) as activities,
    least(count(*), max(weights.daily_cap)) as counted,
    max(weights.weight) as weight,
    least(count(*), max(weights.daily_cap)) * max(weights.weight) as points
from {{ ref('int_person_activities') }} as activities
inner join weights on weights.kind = activities.kind
where activities.activity_at <= {{ as_of }}
    and date_diff('second', activities.activity_at, {{ as_of }}) / 86400.0 < weights.window_days
group by activities.person_id, activities.kind, cast(activities.activity_at as date)
