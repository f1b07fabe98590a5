-- How many persons are in one buying group, in two, ...: contact overlap. Persons only as counts.
with per_person as (
    select
        person_id,
        count(distinct buying_group_id) as buying_groups
    from {{ ref('buying_group_members') }}
    group by person_id
)

select
    buying_groups as groups,
    count(*) as persons
from per_person
group by buying_groups
order by buying_groups
