-- One row per live campaign member (latest version of each Id): a lead or a contact in a campaign,
-- with its status (Sent, Registered, Attended, ...).
with latest as (
    {{ latest_fields('salesforce', 'CampaignMember', 'trim(id)', 'last_modified_date') }}
)

select
    trim(id) as campaign_member_id,
    {{ text('campaign_id') }} as campaign_id,
    {{ text('lead_id') }} as lead_id,
    {{ text('contact_id') }} as contact_id,
    {{ text('status') }} as member_status,
    coalesce({{ to_bool('has_responded') }}, false) as has_responded,
    {{ to_timestamp('created_date') }} as created_at,
    {{ to_timestamp('last_modified_date') }} as last_modified_at,
    _source_file as source_file
from latest
where not coalesce({{ to_bool('is_deleted') }}, false)
