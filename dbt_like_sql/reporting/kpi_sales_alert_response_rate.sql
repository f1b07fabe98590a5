-- Alerts followed, within reporting.alert_response_days (the table reporting_settings), by a CRM
-- Task on the account or an opportunity created on it, by the week the alert fired.
with follow_ups as (
    select account_id, followed_at
    from (
        select coalesce(account_id, what_id) as account_id, created_at as followed_at
        from {{ ref('stg_salesforce__tasks') }}
        union all
        select account_id, created_at
        from ({{ opportunities_by_interest() }}) as opportunities
    ) as events
    where account_id is not null and followed_at is not null
),

responses as (
    select
        {{ week('alerts.fired_at') }} as week,
        groups.solution_interest,
        case
            when exists (
                select 1
                from follow_ups
                where follow_ups.account_id = groups.account_id
                    and follow_ups.followed_at >= alerts.fired_at
                    and follow_ups.followed_at
                        <= alerts.fired_at + interval '1 day' * settings.alert_response_days
            ) then 1
            else 0
        end as responded
    from {{ ref('sales_alerts') }} as alerts
    inner join {{ ref('buying_groups') }} as groups on groups.buying_group_id = alerts.buying_group_id
    cross join {{ ref('reporting_settings') }} as settings
    where alerts.fired_at is not null and groups.solution_interest is not null
),

weekly as (
    select week, solution_interest, count(*) as alerts, cast(sum(responded) as bigint) as responded
    from responses
    group by week, solution_interest
)

select
    week,
    solution_interest,
    alerts,
    responded,
    {{ rate('responded', 'alerts') }} as response_rate
from weekly
