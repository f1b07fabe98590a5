-- One row per live Salesforce contact (latest version of each Id). Merged-away and deleted
-- contacts are in stg_salesforce__deleted_records with the surviving record's Id.
with latest as (
    {{ latest_fields('salesforce', 'Contact', 'trim(id)', 'last_modified_date') }}
)

select
    trim(id) as contact_id,
    {{ text('account_id') }} as account_id,
    {{ text('first_name') }} as first_name,
    {{ text('last_name') }} as last_name,
    {{ email('email') }} as email,
    {{ email_domain('email') }} as email_domain,
    {{ text('title') }} as title,
    {{ text('department') }} as department,
    {{ text('mailing_city') }} as city,
    {{ text('mailing_country') }} as country,
    {{ text('phone') }} as phone,
    {{ text('mobile_phone') }} as mobile_phone,
    {{ to_bool('has_opted_out_of_email') }} as email_opt_out,
    {{ to_bool('do_not_call') }} as do_not_call,
    {{ to_timestamp('created_date') }} as created_at,
    {{ to_timestamp('last_modified_date') }} as last_modified_at,
    coalesce({{ text('custom_fields') }}, '{}') as custom_fields,
    _source_file as source_file
from latest
where not coalesce({{ to_bool('is_deleted') }}, false)
