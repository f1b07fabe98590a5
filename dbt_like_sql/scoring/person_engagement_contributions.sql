{{ config(materialized='view') }}
-- The explainable model's arithmetic, one row per person, kind and day: how many activities there
-- were, how many counted (at most the kind's daily cap, the earliest first), and what they add to
-- the person's score: points x decay, where decay is 0.5 ^ (age in days / half-life), or 1 inside
-- the window and 0 outside. Activities after the as-of time or older than the lookback are left
-- out. points_last_N / points_prior_N (undecayed) feed velocity. Points journeys add
-- (person_score_adjustments, kind `journey_adjustment`) count as they are, without decay or cap,
-- within the lookback; they may be negative.
--
-- Computed from person_activity_days, the day sums that do not depend on the as-of time, so a
-- run does not rank and decay 24M activities: a day's decayed contribution is its anchored sum
-- times the decay from the day's start; only the activities of the days a cut-off falls in (the
-- as-of day, the lookback's first day, the velocity periods' bounds, the window's end) are
-- weighed one by one as before (found by a filtered pass over the activities). Both give the same numbers (test_incremental_equals_full.py).
with settings as (
    select * from {{ ref('scoring_settings') }}
),

aged as (
    select
        activities.person_id,
        activities.activity_id,
        activities.kind,
        activities.activity_at,
        cast(activities.activity_at as date) as activity_day,
        date_diff('second', activities.activity_at, {{ as_of }}) / 86400.0 as age_days
    from {{ ref('int_person_activities') }} as activities
    cross join settings
    where {{ explainable_cut_day(day_age_seconds('cast(activities.activity_at as date)')) }}
        and activities.activity_at <= {{ as_of }}
        and date_diff('second', activities.activity_at, {{ as_of }}) / 86400.0 < settings.lookback_days
),

ranked as (
    select
        aged.*,
        points.points,
        points.daily_cap,
        row_number() over (
            partition by aged.person_id, aged.kind, aged.activity_day
            order by aged.activity_at, aged.activity_id
        ) as nth_of_day
    from aged
    inner join {{ ref('scoring_points') }} as points on points.kind = aged.kind
),

weighed as (
    select
        ranked.*,
        ranked.nth_of_day <= ranked.daily_cap as counted,
        case
            when settings.half_life_days is not null then power(0.5, ranked.age_days / settings.half_life_days)
            when ranked.age_days < settings.window_days then 1.0
            else 0.0
        end as decay
    from ranked
    cross join settings
),

days as (
    select days.*, {{ day_age_seconds('days.activity_day') }} as day_age
    from {{ ref('person_activity_days') }} as days
    where days.points_each is not null
),

whole_days as (
    -- The days no cut-off falls in, wholly inside the lookback and before the as-of day.
    select days.*
    from days
    cross join settings
    where days.day_age >= 86400 and days.day_age < settings.lookback_days * 86400
        and not {{ explainable_cut_day('days.day_age') }}
)

select
    whole_days.person_id,
    whole_days.kind,
    whole_days.activity_day,
    whole_days.activities,
    whole_days.counted,
    whole_days.points_each,
    round(case
        when settings.half_life_days is not null
            then whole_days.anchored * power(0.5, whole_days.day_age / 86400.0 / settings.half_life_days)
        when whole_days.day_age < settings.window_days * 86400 then whole_days.anchored
        else 0.0
    end, 9) as contribution,
    case when whole_days.day_age < 14 * 86400 then whole_days.points_counted else 0.0 end as points_last_14,
    case when whole_days.day_age >= 15 * 86400 and whole_days.day_age < 28 * 86400
        then whole_days.points_counted else 0.0 end as points_prior_14,
    case when whole_days.day_age < 30 * 86400 then whole_days.points_counted else 0.0 end as points_last_30,
    case when whole_days.day_age >= 31 * 86400 and whole_days.day_age < 60 * 86400
        then whole_days.points_counted else 0.0 end as points_prior_30,
    whole_days.last_activity_at
from whole_days
cross join settings

union all

select
    person_id,
    kind,
    activity_day,
    count(*) as activities,
    sum(case when counted then 1 else 0 end) as counted,
    max(points) as points_each,
    -- Rounded: a float sum's last bit depends on the order a parallel engine adds in, and a re-run
    -- on the same data must give the same table.
    round(sum(case when counted then points * decay else 0.0 end), 9) as contribution,
    sum(case when counted and age_days < 14 then points else 0.0 end) as points_last_14,
    sum(case when counted and age_days >= 14 and age_days < 28 then points else 0.0 end) as points_prior_14,
    sum(case when counted and age_days < 30 then points else 0.0 end) as points_last_30,
    sum(case when counted and age_days >= 30 and age_days < 60 then points else 0.0 end) as points_prior_30,
    max(activity_at) as last_activity_at
from weighed
group by person_id, kind, activity_day

union all

select
    adjustments.person_id,
    'journey_adjustment' as kind,
    cast(adjustments.happened_at as date) as activity_day,
    count(*) as activities,
    count(*) as counted,
    cast(null as double) as points_each,
    round(sum(adjustments.points), 9) as contribution,
    0.0 as points_last_14,
    0.0 as points_prior_14,
    0.0 as points_last_30,
    0.0 as points_prior_30,
    max(adjustments.happened_at) as last_activity_at
from {{ ref('person_score_adjustments') }} as adjustments
cross join settings
-- A forgotten person's adjustments stay in the log with their person redacted: they count for nobody.
where adjustments.person_id is not null
    and adjustments.happened_at <= {{ as_of }}
    and date_diff('second', adjustments.happened_at, {{ as_of }}) / 86400.0 < settings.lookback_days
group by adjustments.person_id, cast(adjustments.happened_at as date)
