-- Account-level activity for engagement filters: each Marketo activity of a person whose primary
-- account link (person_account_links) names an account. Activities of merged-away leads count for
-- the person they became (the registry keeps their keys).
select
    links.account_id,
    registry.person_id,
    activities.activity_id,
    activities.activity_type_id,
    activities.activity_type_name,
    activities.activity_at
from {{ ref('stg_marketo__activities') }} as activities
inner join {{ ref('person_registry') }} as registry
    on registry.source_key = {{ source_key('activities.lead_id', 'Marketo') }}
inner join {{ ref('person_account_links') }} as links
    on links.person_id = registry.person_id and links.is_primary
