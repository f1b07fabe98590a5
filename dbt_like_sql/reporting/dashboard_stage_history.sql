-- How many buying groups were in each stage on each day (the daily snapshots): stages over time.
-- Rows in the order of the days, which the chart draws in.
select
    snapshot_date,
    stage,
    count(*) as buying_groups
from {{ ref('buying_group_snapshots') }}
group by snapshot_date, stage
order by snapshot_date
