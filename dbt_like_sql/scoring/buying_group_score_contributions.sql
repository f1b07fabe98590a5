-- One row per buying group and member: what the member adds to the group's score under each
-- model, so every group score can be explained (and a check sums these back to it).
-- `contribution` (explainable, by scoring.explainable.group_aggregation): `sum`, the member's
-- score; `role_weighted_average`, score x role weight / the sum of the members' role weights;
-- `min_per_role`, the member's score if their role is the weakest counted role (ties: the first
-- role by name), else 0. `suite_raw_contribution`: the member's suite score x role weight / the
-- sum of the template's role weights (the group's suite raw points are their sum).
with settings as (
    select * from {{ ref('scoring_settings') }}
),

roles as (
    select
        buying_group_id,
        role,
        required,
        weight,
        weight / nullif(sum(weight) over (partition by buying_group_id), 0) as template_share
    from {{ ref('buying_group_roles') }}
),

members as (
    select
        members.buying_group_id,
        members.person_id,
        members.role,
        roles.weight,
        roles.template_share,
        coalesce(scores.score, 0.0) as person_score,
        coalesce(suite.score, 0.0) as person_suite_score,
        sum(roles.weight) over (partition by members.buying_group_id) as member_weights
    from {{ ref('buying_group_members') }} as members
    inner join roles on roles.buying_group_id = members.buying_group_id and roles.role = members.role
    left join {{ ref('person_engagement_scores') }} as scores on scores.person_id = members.person_id
    left join {{ ref('person_suite_scores') }} as suite on suite.person_id = members.person_id
),

per_role as (
    select
        roles.buying_group_id,
        roles.role,
        round(coalesce(sum(members.person_score), 0.0), 9) as role_score,
        roles.required,
        max(case when roles.required then 1 else 0 end) over (partition by roles.buying_group_id) as has_required
    from roles
    left join members on members.buying_group_id = roles.buying_group_id and members.role = roles.role
    group by roles.buying_group_id, roles.role, roles.required
),

weakest as (
    select buying_group_id, role
    from (
        select
            buying_group_id,
            role,
            row_number() over (partition by buying_group_id order by role_score, role collate "C") as rank
        from per_role
        where required or has_required = 0
    ) as ranked
    where rank = 1
)

select
    members.buying_group_id,
    members.person_id,
    members.role,
    members.weight,
    members.person_score,
    settings.group_aggregation as aggregation,
    round(case settings.group_aggregation
        when 'sum' then members.person_score
        when 'role_weighted_average' then members.person_score * members.weight / nullif(members.member_weights, 0)
        else case when weakest.role is not null then members.person_score else 0.0 end
    end, 9) as contribution,
    members.person_suite_score,
    round(members.person_suite_score * members.template_share, 9) as suite_raw_contribution
from members
cross join settings
left join weakest on weakest.buying_group_id = members.buying_group_id and weakest.role = members.role
