-- One row per Salesforce user (account owners, alert recipients), latest version of each Id.
with latest as (
    {{ latest_fields('salesforce', 'User', 'trim(id)', 'last_modified_date') }}
)

select
    trim(id) as user_id,
    {{ text('name') }} as user_name,
    {{ email('email') }} as email,
    coalesce({{ to_bool('is_active') }}, true) as is_active,
    _source_file as source_file
from latest
