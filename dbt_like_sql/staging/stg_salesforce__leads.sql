-- One row per live Salesforce lead (latest version of each Id); converted leads stay, with the
-- account and contact they became.
with latest as (
    {{ latest_fields('salesforce', 'Lead', 'trim(id)', 'last_modified_date') }}
)

select
    trim(id) as lead_id,
    {{ text('first_name') }} as first_name,
    {{ text('last_name') }} as last_name,
    {{ email('email') }} as email,
    {{ email_domain('email') }} as email_domain,
    {{ text('company') }} as company,
    {{ text('website') }} as website,
    {{ url_domain('website') }} as website_domain,
    {{ text('title') }} as title,
    {{ text('city') }} as city,
    {{ text('country') }} as country,
    {{ text('phone') }} as phone,
    {{ text('mobile_phone') }} as mobile_phone,
    {{ text('status') }} as lead_status,
    coalesce({{ to_bool('is_converted') }}, false) as is_converted,
    {{ text('converted_account_id') }} as converted_account_id,
    {{ text('converted_contact_id') }} as converted_contact_id,
    {{ to_bool('has_opted_out_of_email') }} as email_opt_out,
    {{ to_bool('do_not_call') }} as do_not_call,
    {{ to_timestamp('created_date') }} as created_at,
    {{ to_timestamp('last_modified_date') }} as last_modified_at,
    coalesce({{ text('custom_fields') }}, '{}') as custom_fields,
    _source_file as source_file
from latest
where not coalesce({{ to_bool('is_deleted') }}, false)
