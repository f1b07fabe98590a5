-- How many buying groups each solution interest has now.
select
    solution_interest,
    count(*) as buying_groups
from {{ ref('buying_groups') }}
group by solution_interest
