-- One row per live Salesforce task (sales follow-ups), latest version of each Id.
with latest as (
    {{ latest_fields('salesforce', 'Task', 'trim(id)', 'last_modified_date') }}
)

select
    trim(id) as task_id,
    {{ text('who_id') }} as who_id,
    {{ text('what_id') }} as what_id,
    {{ text('account_id') }} as account_id,
    {{ text('subject') }} as subject,
    {{ text('type') }} as task_type,
    {{ text('status') }} as task_status,
    {{ to_date('activity_date') }} as activity_date,
    {{ text('owner_id') }} as owner_user_id,
    {{ to_timestamp('created_date') }} as created_at,
    _source_file as source_file
from latest
where not coalesce({{ to_bool('is_deleted') }}, false)
