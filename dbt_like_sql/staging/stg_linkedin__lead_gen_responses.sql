-- One row per LinkedIn Lead Gen form response. Its id is lead_id when the export has a usable one;
-- otherwise (no column, empty, or mangled by Excel into 7.50339E+18, which would merge different
-- people) it is email|form|date|time, which stays the same when the same response comes again in
-- a later, cumulative download. Test leads are kept and flagged (is_test_lead): not people.
-- created_date is M-D-Y (09-10-2026 or 9/13/2026), created_time h:mm AM/PM; together, UTC.
{% set response_id -%}
coalesce(
    case when not regexp_matches(trim(lead_id), '^[0-9.]+[eE][+][0-9]+$') then nullif(trim(lead_id), '') end,
    lower(trim(email_address)) || '|' || coalesce(trim(form_id), '') || '|'
        || coalesce(trim(created_date), '') || '|' || coalesce(trim(created_time), '')
)
{%- endset %}
with latest as (
    {{ latest_version(source('linkedin', 'lead_gen_responses'), response_id) }}
),

parts as (
    select
        *,
        replace(trim(created_date), '/', '-') as mdy,
        upper(coalesce(nullif(trim(created_time), ''), '12:00 AM')) as hm
    from latest
)

select
    {{ response_id }} as lead_gen_response_id,
    {{ email('email_address') }} as email,
    {{ email_domain('email_address') }} as email_domain,
    {{ text('first_name') }} as first_name,
    {{ text('last_name') }} as last_name,
    {{ text('company_name') }} as company,
    {{ text('job_title') }} as title,
    {{ text('city') }} as city,
    {{ text('country_region') }} as country,
    {{ text('phone_number') }} as phone,
    {{ text('form_id') }} as form_id,
    coalesce({{ to_bool('test_lead') }}, false) as is_test_lead,
    case when mdy is not null then make_timestamp(
        cast(split_part(mdy, '-', 3) as integer),
        cast(split_part(mdy, '-', 1) as integer),
        cast(split_part(mdy, '-', 2) as integer),
        cast(split_part(hm, ':', 1) as integer) % 12 + case when hm like '%PM' then 12 else 0 end,
        cast(left(split_part(hm, ':', 2), 2) as integer),
        0.0
    ) end as submitted_at,
    coalesce({{ text('answers') }}, '{}') as answers,
    _source_file as source_file
from parts
