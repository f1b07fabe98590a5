-- One row per live Salesforce account: the latest version of each Id across all files.
-- Deleted accounts (IsDeleted on the latest version) are in stg_salesforce__deleted_records.
with latest as (
    {{ latest_fields('salesforce', 'Account', 'trim(id)', 'last_modified_date') }}
)

select
    trim(id) as account_id,
    {{ text('name') }} as account_name,
    {{ text('website') }} as website,
    {{ url_domain('website') }} as website_domain,
    {{ text('industry') }} as industry,
    {{ to_int('number_of_employees') }} as employees,
    {{ to_number('annual_revenue') }} as annual_revenue,
    {{ text('billing_country') }} as billing_country,
    {{ text('billing_state') }} as billing_state,
    {{ text('owner_id') }} as owner_user_id,
    {{ text('parent_id') }} as parent_account_id,
    {{ text('type') }} as account_type,
    {{ to_timestamp('created_date') }} as created_at,
    {{ to_timestamp('last_modified_date') }} as last_modified_at,
    _source_file as source_file
from latest
where not coalesce({{ to_bool('is_deleted') }}, false)
