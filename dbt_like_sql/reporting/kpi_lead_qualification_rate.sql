-- Persons in a role of the interest's groups at each group's last role snapshot of the week, over
-- the persons linked (primary link, today) to those groups' accounts.
with weekly as (
    select
        roles.buying_group_id,
        {{ week('roles.snapshot_date') }} as week,
        cast(sum(roles.members) as bigint) as members,
        row_number() over (
            partition by roles.buying_group_id, date_trunc('week', cast(roles.snapshot_date as timestamp))
            order by roles.snapshot_date desc
        ) as last_of_week
    from {{ ref('buying_group_role_snapshots') }} as roles
    group by roles.buying_group_id, roles.snapshot_date
),

linked as (
    select account_id, count(distinct person_id) as persons
    from {{ ref('person_account_links') }}
    where is_primary
    group by account_id
),

counted as (
    select
        weekly.week,
        groups.solution_interest,
        cast(sum(coalesce(linked.persons, 0)) as bigint) as linked_persons,
        cast(sum(weekly.members) as bigint) as qualified_persons
    from weekly
    inner join {{ ref('buying_groups') }} as groups on groups.buying_group_id = weekly.buying_group_id
    left join linked on linked.account_id = groups.account_id
    where weekly.last_of_week = 1
    group by weekly.week, groups.solution_interest
)

select
    week,
    solution_interest,
    linked_persons,
    qualified_persons,
    {{ rate('qualified_persons', 'linked_persons') }} as qualification_rate
from counted
