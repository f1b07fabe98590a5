-- One row per live opportunity contact role (latest version of each Id).
with latest as (
    {{ latest_fields('salesforce', 'OpportunityContactRole', 'trim(id)', 'last_modified_date') }}
)

select
    trim(id) as opportunity_contact_role_id,
    {{ text('opportunity_id') }} as opportunity_id,
    {{ text('contact_id') }} as contact_id,
    {{ text('role') }} as contact_role,
    coalesce({{ to_bool('is_primary') }}, false) as is_primary,
    _source_file as source_file
from latest
where not coalesce({{ to_bool('is_deleted') }}, false)
