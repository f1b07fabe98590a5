-- Sales' usable decisions on marketing-qualified accounts (`sales_feedback`), accepted and
-- rejected, and the reason given most often for a rejection (case and surrounding spaces aside;
-- ties: the first in code-point order), by the week of the decision.
with decisions as (
    select {{ week('decided_at') }} as week, solution_interest, decision, reason
    from {{ ref('sales_feedback') }}
    where problem = '' and decided_at is not null and solution_interest is not null
),

weekly as (
    select
        week,
        solution_interest,
        count(*) as decisions,
        cast(sum(case when decision = 'accepted' then 1 else 0 end) as bigint) as accepted,
        cast(sum(case when decision = 'rejected' then 1 else 0 end) as bigint) as rejected
    from decisions
    group by week, solution_interest
),

reasons as (
    select
        week,
        solution_interest,
        reason,
        row_number() over (
            partition by week, solution_interest order by count(*) desc, reason collate "C"
        ) as place
    from (
        select week, solution_interest, lower(regexp_replace(reason, '^\s+|\s+$', '', 'g')) as reason
        from decisions
        where decision = 'rejected' and reason is not null
    ) as rejections
    group by week, solution_interest, reason
)

select
    weekly.week,
    weekly.solution_interest,
    weekly.decisions,
    weekly.accepted,
    weekly.rejected,
    {{ rate('weekly.accepted', 'weekly.decisions') }} as acceptance_rate,
    coalesce(reasons.reason, '') as top_rejection_reason
from weekly
left join reasons
    on reasons.week = weekly.week and reasons.solution_interest = weekly.solution_interest and reasons.place = 1
