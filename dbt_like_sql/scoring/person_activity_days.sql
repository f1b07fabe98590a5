{{ config(materialized='incremental', unique_key=['person_id', 'kind', 'activity_day'],
    removed_when='activities is null', on_schema_change='rebuild') }}
-- What a person's activities of a kind add up to on one day, whatever the as-of time: the scores
-- at any as-of are computed from these rows (person_engagement_contributions,
-- person_suite_contributions), except on the few days a cut-off falls in, whose activities are
-- weighed one by one. `anchored` is the day's counted points decayed to the day's start,
-- sum(points x 2^(hours after midnight / half-life)): at an as-of time T it is worth
-- anchored x 0.5^((T - midnight) / half-life), the same as decaying each activity to T, with no
-- overflow however old the data (docs/decisions.md, "scores stay exact when runs work
-- incrementally"). With a plain window instead of a half-life it is the day's counted points.
--
-- Incremental: a build sums again only the persons whose activities or scoring rules changed
-- (inputs_hash, an order-free fingerprint of their activities with the rules and this model's
-- code), and removes the days of persons with none left.
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

persons as (
    select activities.person_id, md5(rules.rules_hash || ':' || activities.fingerprint) as inputs_hash
    from (
        select person_id, {{ set_fingerprint(['activity_id', 'kind', 'activity_at']) }} as fingerprint
        from {{ ref('int_person_activities') }}
        group by person_id
    ) as activities
    cross join rules
),

{%- if is_incremental() %}

kept as (
    select person_id, min(inputs_hash) as inputs_hash from {{ this }} group by person_id
),

touched as (
    select persons.person_id from persons
    left join kept on kept.person_id = persons.person_id
    where kept.inputs_hash is distinct from persons.inputs_hash
),

activities as (
    select activities.*
    from {{ ref('int_person_activities') }} as activities
    inner join touched on touched.person_id = activities.person_id
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
        max(ranked.activity_at) as last_activity_at
    from ranked
    cross join settings
    group by ranked.person_id, ranked.kind, ranked.activity_day
)

select summed.*, persons.inputs_hash
from summed
inner join persons on persons.person_id = summed.person_id
{%- if is_incremental() %}

union all

-- The days a touched person no longer has, and every day of a person with no activity left.
select
    here.person_id, here.kind, here.activity_day, cast(null as bigint), cast(null as bigint),
    cast(null as double), cast(null as double), cast(null as double), cast(null as timestamp),
    here.inputs_hash
from {{ this }} as here
where (
        here.person_id in (select person_id from touched)
        or not exists (select 1 from persons where persons.person_id = here.person_id)
    )
    and not exists (
        select 1 from summed
        where summed.person_id = here.person_id and summed.kind = here.kind
            and summed.activity_day = here.activity_day
    )
{%- endif %}
