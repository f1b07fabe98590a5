-- The share of each solution interest's buying groups that have the role filled (at least one
-- member assigned): contact coverage.
select
    buying_group.solution_interest,
    group_role.role,
    avg(case when group_role.assigned > 0 then 1.0 else 0.0 end) as covered
from {{ ref('buying_group_roles') }} as group_role
inner join {{ ref('buying_groups') }} as buying_group on buying_group.buying_group_id = group_role.buying_group_id
group by buying_group.solution_interest, group_role.role
