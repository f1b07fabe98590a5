-- One row per source record that can be (part of) a person: CRM contacts and leads, Marketo leads,
-- LinkedIn form responses (test leads excluded), plus records merged away (still keys that must
-- resolve to the person they became). The fields person matching compares (names, company, title,
-- city, country, phones) come along; phones as typed: person matching normalises them (E.164).
-- A contact's company is its CRM account's name.
with accounts as (
    select account_id, account_name from {{ ref('stg_salesforce__accounts') }}
),

contacts as (
    select {{ source_key('contact_id', 'Salesforce') }} as source_key, 'Salesforce' as system,
        'Contact' as object_name, contact_id as record_id, email, true as is_live,
        first_name, last_name, accounts.account_name as company, title, city, country,
        phone, mobile_phone
    from {{ ref('stg_salesforce__contacts') }} as c
    left join accounts on accounts.account_id = c.account_id
),

leads as (
    select {{ source_key('lead_id', 'Salesforce') }} as source_key, 'Salesforce' as system,
        'Lead' as object_name, lead_id as record_id, email, true as is_live,
        first_name, last_name, company, title, city, country, phone, mobile_phone
    from {{ ref('stg_salesforce__leads') }}
),

merged_crm_records as (
    select {{ source_key('record_id', 'Salesforce') }} as source_key, 'Salesforce' as system,
        object_name, record_id, cast(null as varchar) as email, false as is_live,
        cast(null as varchar) as first_name, cast(null as varchar) as last_name,
        cast(null as varchar) as company, cast(null as varchar) as title, cast(null as varchar) as city,
        cast(null as varchar) as country, cast(null as varchar) as phone,
        cast(null as varchar) as mobile_phone
    from {{ ref('stg_salesforce__deleted_records') }}
    where object_name in ('Contact', 'Lead') and master_record_id is not null
),

marketo_leads as (
    select {{ source_key('lead_id', 'Marketo') }} as source_key, 'Marketo' as system,
        'Lead' as object_name, cast(lead_id as varchar) as record_id, email, true as is_live,
        first_name, last_name, company, title, city, country, phone, mobile_phone
    from {{ ref('stg_marketo__leads') }}
),

merged_marketo_leads as (
    select distinct {{ source_key('merged_lead_id', 'Marketo') }} as source_key, 'Marketo' as system,
        'Lead' as object_name, cast(merged_lead_id as varchar) as record_id,
        cast(null as varchar) as email, false as is_live,
        cast(null as varchar) as first_name, cast(null as varchar) as last_name,
        cast(null as varchar) as company, cast(null as varchar) as title, cast(null as varchar) as city,
        cast(null as varchar) as country, cast(null as varchar) as phone,
        cast(null as varchar) as mobile_phone
    from {{ ref('stg_marketo__lead_merges') }}
),

linkedin as (
    select {{ source_key('lead_gen_response_id', 'LinkedIn') }} as source_key, 'LinkedIn' as system,
        'LeadGenResponse' as object_name, lead_gen_response_id as record_id, email, true as is_live,
        first_name, last_name, company, title, city, country, phone,
        cast(null as varchar) as mobile_phone
    from {{ ref('stg_linkedin__lead_gen_responses') }}
    where not is_test_lead
)

select * from contacts
union all select * from leads
union all select * from merged_crm_records
union all select * from marketo_leads
union all select * from merged_marketo_leads
union all select * from linkedin
