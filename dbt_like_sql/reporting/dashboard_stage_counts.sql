-- How many buying groups are in each stage now: the stage funnel.
select
    stage,
    count(*) as buying_groups
from {{ ref('buying_group_stages') }}
group by stage
