{#- Helpers of the scoring models (dbt_like_sql/scoring/, docs/scoring.md). -#}

{#- Seconds from the start of a UTC day (a date) to the as-of time: an activity on that day is at
    most this old, and more than this less one day. -#}
{% macro day_age_seconds(day) -%}
date_diff('second', cast({{ day }} as timestamp), {{ as_of }})
{%- endmacro %}

{#- Whether a cut-off at `days` before the as-of time falls inside the day `day_age` seconds old
    (day_age_seconds): the day's activities fall on both sides of it. -#}
{% macro cut_inside(day_age, days) -%}
({{ day_age }} >= {{ days }} * 86400 and {{ day_age }} < ({{ days }} + 1) * 86400)
{%- endmacro %}

{#- Whether the explainable model weighs a day's activities one by one at this as-of time: the
    day holds the as-of time, the lookback's start, a velocity period's bound or the window's
    end. Every other day's rows (person_activity_days) are worth their sums. -#}
{% macro explainable_cut_day(day_age) -%}
({{ cut_inside(day_age, 0) }}
    or {{ cut_inside(day_age, 'settings.lookback_days') }}
    or {{ cut_inside(day_age, 14) }} or {{ cut_inside(day_age, 28) }}
    or {{ cut_inside(day_age, 30) }} or {{ cut_inside(day_age, 60) }}
    or (settings.window_days is not null and {{ cut_inside(day_age, 'settings.window_days') }}))
{%- endmacro %}
