-- The explainable model's arithmetic, one row per person, kind and day: how many activities there
-- were, how many counted (at most the kind's daily cap, the earliest first), and what they add to
-- the person's score: points x decay, where decay is 0.5 ^ (age in days / half-life), or 1 inside
-- the window and 0 outside. Activities after the as-of time or older than the lookback are left
-- out. points_last_N / points_prior_N (undecayed) feed velocity. Points journeys add
-- (person_score_adjustments, kind `journey_adjustment`) count as they are, without decay or cap,
-- within the lookback; they may be negative.
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
    where activities.activity_at <= {{ as_of }}
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
)

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
where adjustments.happened_at <= {{ as_of }}
    and date_diff('second', adjustments.happened_at, {{ as_of }}) / 86400.0 < settings.lookback_days
group by adjustments.person_id, cast(adjustments.happened_at as date)
