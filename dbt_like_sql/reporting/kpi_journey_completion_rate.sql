-- Enrolments (test ones aside) that met the journey's exit criteria or reached an exit node, by
-- the week they entered.
with weekly as (
    select
        {{ week('entered_at') }} as week,
        journey_id,
        count(*) as enrolments,
        cast(sum(
            case when status = 'exited' or (status = 'finished' and end_reason like 'exit node%') then 1 else 0 end
        ) as bigint) as completed
    from {{ ref('journey_enrolments') }}
    where not coalesce(test, false)
    group by 1, 2
)

select
    week,
    journey_id,
    enrolments,
    completed,
    {{ rate('completed', 'enrolments') }} as completion_rate
from weekly
