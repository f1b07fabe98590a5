{{ config(materialized='view') }}
-- The suite-compatible model's arithmetic per person, kind and day, in the window before the
-- as-of time: the day's activities of the kind, those counted (at most `daily_cap`), the kind's
-- weight and the points they add; a person's raw points are the sum of their rows' points.
-- Whole days inside the window are counted from person_activity_days; the as-of day and the day
-- the kind's window starts in, activity by activity (person_engagement_contributions says why).
with weights as (
    select * from {{ ref('scoring_suite_weights') }}
),

cut_days as (
    select
        activities.person_id,
        activities.kind,
        cast(activities.activity_at as date) as activity_day,
        count(*) as activities
    from {{ ref('int_person_activities') }} as activities
    inner join weights on weights.kind = activities.kind
    where ({{ cut_inside(day_age_seconds('cast(activities.activity_at as date)'), 0) }}
            or {{ cut_inside(day_age_seconds('cast(activities.activity_at as date)'), 'weights.window_days') }})
        and activities.activity_at <= {{ as_of }}
        and date_diff('second', activities.activity_at, {{ as_of }}) / 86400.0 < weights.window_days
    group by activities.person_id, activities.kind, cast(activities.activity_at as date)
),

whole_days as (
    select days.person_id, days.kind, days.activity_day, days.activities
    from {{ ref('person_activity_days') }} as days
    inner join weights on weights.kind = days.kind
    where {{ day_age_seconds('days.activity_day') }} >= 86400
        and {{ day_age_seconds('days.activity_day') }} < weights.window_days * 86400
),

counted as (
    select * from cut_days
    union all
    select * from whole_days
)

select
    counted.person_id,
    counted.kind,
    counted.activity_day,
    counted.activities,
    least(counted.activities, weights.daily_cap) as counted,
    weights.weight,
    least(counted.activities, weights.daily_cap) * weights.weight as points
from counted
inner join weights on weights.kind = counted.kind
