-- One row per live Salesforce campaign (latest version of each Id).
with latest as (
    {{ latest_fields('salesforce', 'Campaign', 'trim(id)', 'last_modified_date') }}
)

select
    trim(id) as campaign_id,
    {{ text('name') }} as campaign_name,
    {{ text('type') }} as campaign_type,
    {{ to_date('start_date') }} as start_date,
    _source_file as source_file
from latest
where not coalesce({{ to_bool('is_deleted') }}, false)
