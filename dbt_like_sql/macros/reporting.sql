{#- Helpers of the KPI models (dbt_like_sql/reporting/, docs/reporting.md). -#}

{#- The Monday a time's week starts on, at midnight: every KPI's `week`, a timestamp on both
    engines. -#}
{% macro week(col) -%}
cast(date_trunc('week', cast({{ col }} as timestamp)) as timestamp)
{%- endmacro %}

{#- A double rounded to `places` decimals as numpy rounds: scaled, to the nearest integer with
    halves to the even one, scaled back. (SQL's round takes halves away from zero, and PostgreSQL's
    depends on the type.) -#}
{% macro rounded(value, places) -%}
{%- set scaled = '(cast(' ~ value ~ ' as double) * cast(' ~ 10 ** places ~ ' as double))' -%}
(case when {{ scaled }} - floor({{ scaled }}) > 0.5
           or ({{ scaled }} - floor({{ scaled }}) = 0.5 and floor(floor({{ scaled }}) / 2) * 2 <> floor({{ scaled }}))
      then floor({{ scaled }}) + 1
      else floor({{ scaled }})
 end / cast({{ 10 ** places }} as double))
{%- endmacro %}

{#- numerator / denominator to four decimals; null when the denominator is not above 0. -#}
{% macro rate(numerator, denominator) -%}
{{ rounded('case when ' ~ denominator ~ ' > 0 then cast(' ~ numerator ~ ' as double) / cast(' ~ denominator ~ ' as double) end', 4) }}
{%- endmacro %}

{#- Each buying group's last daily snapshot of each week, with that `week`: what the week ended
    with. -#}
{% macro week_end_snapshots() -%}
select * from (
    select
        s.*,
        {{ week('s.snapshot_date') }} as week,
        row_number() over (
            partition by s.buying_group_id, date_trunc('week', cast(s.snapshot_date as timestamp))
            order by s.snapshot_date desc
        ) as last_of_week
    from {{ ref('buying_group_snapshots') }} as s
) as weekly
where last_of_week = 1
{%- endmacro %}

{#- Opportunities on the account they are on after merges, once per solution interest whose
    `opportunity_type` they carry (an interest without one takes every type). -#}
{% macro opportunities_by_interest() -%}
select
    o.opportunity_id,
    coalesce(a.account_id, o.account_id) as account_id,
    i.solution_interest,
    o.created_at,
    coalesce(o.is_closed, false) as is_closed,
    coalesce(o.is_won, false) as is_won
from {{ ref('stg_salesforce__opportunities') }} as o
left join {{ ref('account_aliases') }} as a on a.alias_account_id = o.account_id
inner join {{ ref('reporting_solution_interests') }} as i
    on i.opportunity_type is null or i.opportunity_type = o.opportunity_type
{%- endmacro %}

{#- The median of `value` per `by` (comma-separated columns of `relation`), as pandas takes it:
    the middle value, or the mean of the two middle ones. Rows whose value is null are left out. -#}
{% macro medians(relation, by, value) -%}
select {{ by }}, sum(middle) / count(*) as median
from (
    select
        {{ by }},
        cast({{ value }} as double) as middle,
        row_number() over (partition by {{ by }} order by {{ value }}) as place_in_group,
        count(*) over (partition by {{ by }}) as values_in_group
    from {{ relation }}
    where {{ value }} is not null
) as ranked
where 2 * place_in_group between values_in_group and values_in_group + 2
group by {{ by }}
{%- endmacro %}

{#- The KPI row of a weekly mean and median per interest: the CTEs `weekly` (week,
    solution_interest, `count_column`, mean_<unit>) and `medians` joined, both to two decimals. -#}
{% macro weekly_mean_and_median(count_column, unit) -%}
select
    weekly.week,
    weekly.solution_interest,
    weekly.{{ count_column }},
    {{ rounded('weekly.mean_' ~ unit, 2) }} as mean_{{ unit }},
    {{ rounded('medians.median', 2) }} as median_{{ unit }}
from weekly
left join medians on medians.week = weekly.week and medians.solution_interest = weekly.solution_interest
{%- endmacro %}

{#- Each row of the relation `measured` (with `measure` and `measured_value`) beside the band of
    its measure that holds its value (reporting_bands: lower edge in, upper edge out); 'no snapshot
    before' when none does, as the band labels say. -#}
{% macro banded(measured) -%}
select
    {{ measured }}.*,
    coalesce(bands.band, 'no snapshot before') as band
from {{ measured }}
left join {{ ref('reporting_bands') }} as bands
    on bands.measure = {{ measured }}.measure
    and (bands.lower_edge is null or {{ measured }}.measured_value >= bands.lower_edge)
    and (bands.upper_edge is null or {{ measured }}.measured_value < bands.upper_edge)
{%- endmacro %}
