-- One row per source record that can be (part of) a person: CRM contacts and leads, Marketo leads,
-- LinkedIn form responses (test leads excluded), plus records merged away (still keys that must
-- resolve to the person they became).
with contacts as (
    select {{ source_key('contact_id', 'Salesforce') }} as source_key, 'Salesforce' as system,
        'Contact' as object_name, contact_id as record_id, email, true as is_live
    from {{ ref('stg_salesforce__contacts') }}
),

leads as (
    select {{ source_key('lead_id', 'Salesforce') }} as source_key, 'Salesforce' as system,
        'Lead' as object_name, lead_id as record_id, email, true as is_live
    from {{ ref('stg_salesforce__leads') }}
),

merged_crm_records as (
    select {{ source_key('record_id', 'Salesforce') }} as source_key, 'Salesforce' as system,
        object_name, record_id, cast(null as varchar) as email, false as is_live
    from {{ ref('stg_salesforce__deleted_records') }}
    where object_name in ('Contact', 'Lead') and master_record_id is not null
),

marketo_leads as (
    select {{ source_key('lead_id', 'Marketo') }} as source_key, 'Marketo' as system,
        'Lead' as object_name, cast(lead_id as varchar) as record_id, email, true as is_live
    from {{ ref('stg_marketo__leads') }}
),

merged_marketo_leads as (
    select distinct {{ source_key('merged_lead_id', 'Marketo') }} as source_key, 'Marketo' as system,
        'Lead' as object_name, cast(merged_lead_id as varchar) as record_id,
        cast(null as varchar) as email, false as is_live
    from {{ ref('stg_marketo__lead_merges') }}
),

linkedin as (
    select {{ source_key('lead_gen_response_id', 'LinkedIn') }} as source_key, 'LinkedIn' as system,
        'LeadGenResponse' as object_name, lead_gen_response_id as record_id, email, true as is_live
    from {{ ref('stg_linkedin__lead_gen_responses') }}
    where not is_test_lead
)

select * from contacts
union all select * from leads
union all select * from merged_crm_records
union all select * from marketo_leads
union all select * from merged_marketo_leads
union all select * from linkedin
