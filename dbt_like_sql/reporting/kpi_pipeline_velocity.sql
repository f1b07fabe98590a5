-- Days from a group's creation (its first stage-history entry, else its first snapshot) to the
-- first opportunity of its interest on its account created on or after it (the sales-qualified
-- opportunity), by the week that opportunity came.
with groups as (
    select
        groups.buying_group_id,
        groups.account_id,
        groups.solution_interest,
        coalesce(history.created_at, first_snapshots.created_at) as created_at
    from {{ ref('buying_groups') }} as groups
    left join (
        select buying_group_id, min(changed_at) as created_at
        from {{ ref('buying_group_stage_history') }}
        group by buying_group_id
    ) as history on history.buying_group_id = groups.buying_group_id
    left join (
        select buying_group_id, cast(min(snapshot_date) as timestamp) as created_at
        from {{ ref('buying_group_snapshots') }}
        group by buying_group_id
    ) as first_snapshots on first_snapshots.buying_group_id = groups.buying_group_id
),

firsts as (
    select
        groups.solution_interest,
        opportunities.created_at,
        date_diff('microsecond', groups.created_at, opportunities.created_at) as microseconds,
        row_number() over (partition by groups.buying_group_id order by opportunities.created_at)
            as nth
    from ({{ opportunities_by_interest() }}) as opportunities
    inner join groups
        on groups.account_id = opportunities.account_id
        and groups.solution_interest = opportunities.solution_interest
    where opportunities.created_at >= groups.created_at
),

velocities as (
    select
        {{ week('created_at') }} as week,
        solution_interest,
        microseconds,
        -- microseconds to seconds, then to days: the doubles the median is taken of
        cast(microseconds as double) / cast(1000000 as double) / cast(86400 as double) as days
    from firsts
    where nth = 1
),

medians as (
    {{ medians('velocities', 'week, solution_interest', 'days') }}
),

weekly as (
    select
        week,
        solution_interest,
        count(*) as opportunities,
        cast(sum(microseconds) as double) / cast(1000000 as double) / cast(86400 as double)
            / cast(count(*) as double) as mean_days
    from velocities
    group by week, solution_interest
)

{{ weekly_mean_and_median('opportunities', 'days') }}
