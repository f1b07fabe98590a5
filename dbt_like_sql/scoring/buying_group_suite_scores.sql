-- The suite-compatible buying-group score: each member's suite score times their role's weight
-- normalised over the template's roles (weight / the sum of the template's weights); raw = their
-- sum; score = 100 x sqrt(raw) / the largest sqrt(raw) of any group (0-100 across all groups).
with normalised as (
    select buying_group_id, role, weight / nullif(sum(weight) over (partition by buying_group_id), 0) as share
    from {{ ref('buying_group_roles') }}
),

raw as (
    select
        groups.buying_group_id,
        round(coalesce(sum(coalesce(scores.score, 0.0) * normalised.share), 0.0), 9) as raw_points
    from {{ ref('buying_groups') }} as groups
    left join {{ ref('buying_group_members') }} as members on members.buying_group_id = groups.buying_group_id
    left join normalised
        on normalised.buying_group_id = members.buying_group_id and normalised.role = members.role
    left join {{ ref('person_suite_scores') }} as scores on scores.person_id = members.person_id
    group by groups.buying_group_id
)

select
    buying_group_id,
    raw_points,
    case when max(sqrt(raw_points)) over () > 0
        then round(100.0 * sqrt(raw_points) / max(sqrt(raw_points)) over (), 9) else 0.0 end as score
from raw
