-- One row per account with engaged persons: the sum of its persons' scores (by primary link).
select
    account_id,
    round(sum(score), 9) as score,  -- rounded: a re-run gives the same table
    sum(velocity_14) as velocity_14,
    sum(velocity_30) as velocity_30,
    count(*) as engaged_persons,
    max(last_activity_at) as last_activity_at
from {{ ref('person_engagement_scores') }}
where account_id is not null
group by account_id
