-- Accounts that reached each journey node, and those there now, over every outcome: accounts per
-- journey node.
select
    journey_id,
    node,
    sum(accounts) as accounts,
    sum(accounts_here_now) as here_now
from {{ ref('journey_node_counts') }}
group by journey_id, node
order by journey_id, node
