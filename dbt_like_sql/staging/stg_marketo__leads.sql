-- One row per live Marketo lead (latest version of each id by updatedAt). Leads merged into
-- another (stg_marketo__lead_merges) or deleted (stg_marketo__lead_deletions) are left out here.
with latest as (
    {{ latest_fields('marketo', 'leads', to_int('id'), 'updated_at') }}
),

gone as (
    select merged_lead_id as lead_id from {{ ref('stg_marketo__lead_merges') }}
    union
    select lead_id from {{ ref('stg_marketo__lead_deletions') }}
)

select
    {{ to_int('latest.id') }} as lead_id,
    {{ email('latest.email') }} as email,
    {{ email_domain('latest.email') }} as email_domain,
    {{ text('latest.first_name') }} as first_name,
    {{ text('latest.last_name') }} as last_name,
    {{ text('latest.title') }} as title,
    {{ text('latest.company') }} as company,
    {{ text('latest.city') }} as city,
    {{ text('latest.country') }} as country,
    {{ text('latest.phone') }} as phone,
    {{ text('latest.mobile_phone') }} as mobile_phone,
    {{ text('latest.sfdc_account_id') }} as sfdc_account_id,
    {{ text('latest.sfdc_contact_id') }} as sfdc_contact_id,
    {{ text('latest.sfdc_lead_id') }} as sfdc_lead_id,
    {{ to_bool('latest.unsubscribed') }} as unsubscribed,
    {{ to_bool('latest.sms_consent') }} as sms_consent,
    {{ to_timestamp('latest.updated_at') }} as updated_at,
    coalesce({{ text('latest.custom_fields') }}, '{}') as custom_fields,
    latest._source_file as source_file
from latest
where {{ to_int('latest.id') }} not in (select lead_id from gone where lead_id is not null)
