-- One row per live Salesforce opportunity (latest version of each Id).
with latest as (
    {{ latest_fields('salesforce', 'Opportunity', 'trim(id)', 'last_modified_date') }}
)

select
    trim(id) as opportunity_id,
    {{ text('account_id') }} as account_id,
    {{ text('name') }} as opportunity_name,
    {{ text('type') }} as opportunity_type,
    {{ text('stage_name') }} as stage_name,
    {{ to_number('amount') }} as amount,
    coalesce({{ to_bool('is_closed') }}, false) as is_closed,
    coalesce({{ to_bool('is_won') }}, false) as is_won,
    {{ to_timestamp('created_date') }} as created_at,
    {{ to_date('close_date') }} as close_date,
    {{ to_timestamp('last_modified_date') }} as last_modified_at,
    _source_file as source_file
from latest
where not coalesce({{ to_bool('is_deleted') }}, false)
