-- Each engaged account's score and 14-day velocity as the dashboard's tables and the build
-- summary show them (rounded to one decimal).
select
    engaged.account_id,
    account.account_name,
    round(engaged.score, 1) as score,
    round(engaged.velocity_14, 1) as velocity_14
from {{ ref('account_engagement_scores') }} as engaged
inner join {{ ref('unified_accounts') }} as account on account.account_id = engaged.account_id
