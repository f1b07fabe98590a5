-- One row per buying group: `score` from the model config scoring.model picks (`score_explainable`
-- and `score_suite` beside it). The explainable one aggregates members' scores as
-- scoring.explainable.group_aggregation says (all three are kept beside it): `sum`; `role_weighted_average`, each
-- member's score weighted by their role's weight; `min_per_role`, the weakest role's summed
-- member score over the template's required roles (all roles if none is required; a role with
-- no member counts 0). Velocity is the sum of members' velocities.
with settings as (
    select * from {{ ref('scoring_settings') }}
),

members as (
    select
        members.buying_group_id,
        members.person_id,
        members.role,
        roles.weight,
        coalesce(scores.score, 0.0) as score,
        coalesce(scores.velocity_14, 0.0) as velocity_14,
        coalesce(scores.velocity_30, 0.0) as velocity_30
    from {{ ref('buying_group_members') }} as members
    inner join {{ ref('buying_group_roles') }} as roles
        on roles.buying_group_id = members.buying_group_id and roles.role = members.role
    left join {{ ref('person_engagement_scores') }} as scores on scores.person_id = members.person_id
),

per_role as (
    select roles.buying_group_id, roles.role, roles.required, round(coalesce(sum(members.score), 0.0), 9) as role_score
    from {{ ref('buying_group_roles') }} as roles
    left join members on members.buying_group_id = roles.buying_group_id and members.role = roles.role
    group by roles.buying_group_id, roles.role, roles.required
),

weakest as (
    select
        buying_group_id,
        min(case when required then role_score end) as min_required,
        min(role_score) as min_all
    from per_role
    group by buying_group_id
),

totals as (
    select
        buying_group_id,
        round(sum(score), 9) as score_sum,  -- rounded: a re-run gives the same table
        round(sum(score * weight) / nullif(sum(weight), 0), 9) as score_weighted,
        sum(velocity_14) as velocity_14,
        sum(velocity_30) as velocity_30
    from members
    group by buying_group_id
),

explainable as (
    select
        groups.buying_group_id,
        case settings.group_aggregation
            when 'sum' then coalesce(totals.score_sum, 0.0)
            when 'role_weighted_average' then coalesce(totals.score_weighted, 0.0)
            else coalesce(weakest.min_required, weakest.min_all, 0.0)
        end as score
    from {{ ref('buying_groups') }} as groups
    cross join settings
    left join totals on totals.buying_group_id = groups.buying_group_id
    left join weakest on weakest.buying_group_id = groups.buying_group_id
)

select
    groups.buying_group_id,
    case when settings.model = 'suite_compatible' then coalesce(suite.score, 0.0) else explainable.score end
        as score,
    settings.model,
    explainable.score as score_explainable,
    coalesce(suite.score, 0.0) as score_suite,
    settings.group_aggregation as aggregation,
    coalesce(totals.score_sum, 0.0) as score_sum,
    coalesce(totals.score_weighted, 0.0) as score_role_weighted,
    coalesce(weakest.min_required, weakest.min_all, 0.0) as score_min_per_role,
    coalesce(totals.velocity_14, 0.0) as velocity_14,
    coalesce(totals.velocity_30, 0.0) as velocity_30
from {{ ref('buying_groups') }} as groups
cross join settings
left join explainable on explainable.buying_group_id = groups.buying_group_id
left join {{ ref('buying_group_suite_scores') }} as suite on suite.buying_group_id = groups.buying_group_id
left join totals on totals.buying_group_id = groups.buying_group_id
left join weakest on weakest.buying_group_id = groups.buying_group_id
