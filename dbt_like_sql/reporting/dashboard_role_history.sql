-- Members per role on each day, over every buying group (the daily role snapshots): role
-- acquisition over time. Rows in the order of the days, which the chart draws in.
select
    snapshot_date,
    role,
    cast(sum(members) as bigint) as members
from {{ ref('buying_group_role_snapshots') }}
group by snapshot_date, role
order by snapshot_date
