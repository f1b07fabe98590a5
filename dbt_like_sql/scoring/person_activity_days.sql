{{ config(materialized='incremental', unique_key=['person_id', 'kind', 'activity_day'],
    removed_when='activities is null', on_schema_change='rebuild') }}
-- What a person's activities of a kind add up to on one day, whatever the as-of time: the scores
-- at any as-of are computed from these rows (person_engagement_contributions,
-- person_suite_contributions), except on the few days a cut-off falls in, whose activities are
-- weighed one by one. `anchored` is the day's counted points decayed to the day's start,
-- sum(points x 2^(days since midnight / half-life in days)): at an as-of time T it is worth
-- anchored x 0.5^((T - midnight) / half-life), the same as decaying each activity to T, with no
-- overflow however old the data (docs/decisions.md, "scores stay exact when runs work
-- incrementally"). With a plain window instead of a half-life it is the day's counted points.
--
-- Incremental: a build sums again only the days whose activities changed. Each row keeps the
-- count and the hash sum of its day's activities (activities, activities_hash); sums add up, so a
-- person's are the sums of their rows: the persons whose sums differ from their activities' are
-- found first (one pass over the activities, no sort), then their days that differ. New days are
-- added, changed ones replaced, and days with no activity left removed. A change of the scoring
-- rules or of this model's code (rules_hash) sums every day again.
with settings as (
    select * from {{ ref('scoring_settings') }}
),

points as (
    select * from {{ ref('scoring_points') }}
),

rules as (
    select md5({{ code_version }}
        || ':' || coalesce(cast(settings.half_life_days as varchar), '-')
        || ':' || coalesce(cast(settings.window_days as varchar), '-')
        || ':' || coalesce((
            select string_agg(kind || '=' || cast(points as varchar) || '=' || cast(daily_cap as varchar), ','
                order by kind)
            from points
        ), '-')) as rules_hash
    from settings
),

{%- if is_incremental() %}

rules_moved as (
    select exists (
        select 1 from {{ this }} as here where here.rules_hash is distinct from (select rules_hash from rules)
    ) as moved
),

touched as (
    select coalesce(now.person_id, here.person_id) as person_id
    from (
        select person_id, count(*) as n, sum(hash(activity_id, kind, activity_at)) as h
        from {{ ref('int_person_activities') }}
        group by person_id
    ) as now
    full outer join (
        select person_id, sum(activities) as n, sum(activities_hash) as h
        from {{ this }}
        group by person_id
    ) as here on here.person_id = now.person_id
    where now.n is distinct from here.n or now.h is distinct from here.h or (select moved from rules_moved)
),

touched_activities as (
    select * from {{ ref('int_person_activities') }}
    where person_id in (select person_id from touched)
),

changed_days as (
    select
        coalesce(now.person_id, here.person_id) as person_id,
        coalesce(now.kind, here.kind) as kind,
        coalesce(now.activity_day, here.activity_day) as activity_day,
        now.n
    from (
        select person_id, kind, cast(activity_at as date) as activity_day, count(*) as n,
            sum(hash(activity_id, kind, activity_at)) as h
        from touched_activities
        group by person_id, kind, cast(activity_at as date)
    ) as now
    full outer join (
        select * from {{ this }} where person_id in (select person_id from touched)
    ) as here
        on here.person_id = now.person_id and here.kind = now.kind and here.activity_day = now.activity_day
    where now.n is distinct from here.activities or now.h is distinct from here.activities_hash
        or (select moved from rules_moved)
),

activities as (
    select touched_activities.*
    from touched_activities
    inner join changed_days
        on changed_days.person_id = touched_activities.person_id
        and changed_days.kind = touched_activities.kind
        and changed_days.activity_day = cast(touched_activities.activity_at as date)
),
{%- else %}

activities as (
    select * from {{ ref('int_person_activities') }}
),
{%- endif %}

ranked as (
    select
        activities.person_id,
        activities.kind,
        activities.activity_id,
        activities.activity_at,
        cast(activities.activity_at as date) as activity_day,
        points.points,
        points.daily_cap,
        row_number() over (
            partition by activities.person_id, activities.kind, cast(activities.activity_at as date)
            order by activities.activity_at, activities.activity_id
        ) as nth_of_day
    from activities
    left join points on points.kind = activities.kind
),

summed as (
    select
        ranked.person_id,
        ranked.kind,
        ranked.activity_day,
        count(*) as activities,
        sum(case when ranked.nth_of_day <= ranked.daily_cap then 1 else 0 end) as counted,
        max(ranked.points) as points_each,
        sum(case when ranked.nth_of_day <= ranked.daily_cap then
            ranked.points * case when settings.half_life_days is not null
                then power(2.0, date_diff('second', cast(ranked.activity_day as timestamp), ranked.activity_at)
                    / 86400.0 / settings.half_life_days)
                else 1.0 end
            else 0.0 end) as anchored,
        sum(case when ranked.nth_of_day <= ranked.daily_cap then ranked.points else 0.0 end) as points_counted,
        -- Every activity's points, over the cap too, anchored to the microsecond: the readiness
        -- model's rule-score feature (qualification/features.py).
        sum(coalesce(ranked.points, 0.0) * case when settings.half_life_days is not null
            then power(2.0, epoch(ranked.activity_at - cast(ranked.activity_day as timestamp))
                / 86400.0 / settings.half_life_days)
            else 1.0 end) as anchored_all,
        min(ranked.activity_at) as first_activity_at,
        max(ranked.activity_at) as last_activity_at,
        sum(hash(ranked.activity_id, ranked.kind, ranked.activity_at)) as activities_hash
    from ranked
    cross join settings
    group by ranked.person_id, ranked.kind, ranked.activity_day
)

select summed.*, rules.rules_hash
from summed
cross join rules
{%- if is_incremental() %}

union all

-- The days with no activity left.
select
    changed_days.person_id, changed_days.kind, changed_days.activity_day, cast(null as bigint),
    cast(null as bigint), cast(null as double), cast(null as double), cast(null as double),
    cast(null as double), cast(null as timestamp), cast(null as timestamp), null, null
from changed_days
where changed_days.n is null
{%- endif %}
