-- One row per person with scored activity: the explainable score (the sum of the person's
-- contributions: absolute, never normalised against others), velocity over 14 and 30 days (points
-- earned in the last N days minus the N days before, undecayed) and the primary account.
with totals as (
    select
        person_id,
        -- rounded: see person_engagement_contributions; never below 0 (journeys may subtract)
        greatest(round(sum(contribution), 9), 0.0) as score,
        sum(points_last_14) - sum(points_prior_14) as velocity_14,
        sum(points_last_30) - sum(points_prior_30) as velocity_30,
        sum(case when kind <> 'journey_adjustment' then counted else 0 end) as activities_counted,
        max(last_activity_at) as last_activity_at
    from {{ ref('person_engagement_contributions') }}
    group by person_id
)

select totals.*, links.account_id
from totals
left join {{ ref('person_account_links') }} as links
    on links.person_id = totals.person_id and links.is_primary
