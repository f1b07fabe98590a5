-- One row per buying group: `score` from the model config scoring.model picks (`score_explainable`
-- and `score_suite` beside it). The explainable one aggregates members' scores as
-- scoring.explainable.group_aggregation says (all three are kept beside it): `sum`; `role_weighted_average`, each
-- member's score weighted by their role's weight; `min_per_role`, the weakest role's summed
-- member score over the template's required roles (all roles if none is required; a role with
-- no member counts 0). Velocity aggregates the members' velocities as the explainable score
-- aggregates their scores (the weighted mean with the same weights, the sum, or the weakest
-- role's), so it reads on that score's scale (docs/figures.md).
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
    select
        roles.buying_group_id,
        roles.role,
        roles.required,
        round(coalesce(sum(members.score), 0.0), 9) as role_score,
        coalesce(sum(members.velocity_14), 0.0) as role_velocity_14,
        coalesce(sum(members.velocity_30), 0.0) as role_velocity_30
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

-- The role whose score is the group's under min_per_role (the first by name on a tie): its velocity.
weakest_role as (
    select buying_group_id, role_velocity_14, role_velocity_30
    from (
        select
            per_role.*,
            row_number() over (
                partition by per_role.buying_group_id
                order by
                    case when per_role.required or not has_required.any_required then 0 else 1 end,
                    per_role.role_score,
                    per_role.role
            ) as weakest_first
        from per_role
        inner join (
            select buying_group_id, bool_or(required) as any_required from per_role group by buying_group_id
        ) as has_required on has_required.buying_group_id = per_role.buying_group_id
    ) as ranked
    where weakest_first = 1
),

totals as (
    select
        buying_group_id,
        round(sum(score), 9) as score_sum,  -- rounded: a re-run gives the same table
        round(sum(score * weight) / nullif(sum(weight), 0), 9) as score_weighted,
        sum(velocity_14) as velocity_14_sum,
        sum(velocity_30) as velocity_30_sum,
        sum(velocity_14 * weight) / nullif(sum(weight), 0) as velocity_14_weighted,
        sum(velocity_30 * weight) / nullif(sum(weight), 0) as velocity_30_weighted
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
    round(coalesce(case settings.group_aggregation
        when 'sum' then totals.velocity_14_sum
        when 'role_weighted_average' then totals.velocity_14_weighted
        else weakest_role.role_velocity_14
    end, 0.0), 9) as velocity_14,
    round(coalesce(case settings.group_aggregation
        when 'sum' then totals.velocity_30_sum
        when 'role_weighted_average' then totals.velocity_30_weighted
        else weakest_role.role_velocity_30
    end, 0.0), 9) as velocity_30
from {{ ref('buying_groups') }} as groups
cross join settings
left join explainable on explainable.buying_group_id = groups.buying_group_id
left join {{ ref('buying_group_suite_scores') }} as suite on suite.buying_group_id = groups.buying_group_id
left join totals on totals.buying_group_id = groups.buying_group_id
left join weakest on weakest.buying_group_id = groups.buying_group_id
left join weakest_role on weakest_role.buying_group_id = groups.buying_group_id
