-- Each person's custom fields, one row per source record that has any: the CRM and Marketo
-- columns the source contract does not name (JSON objects packed at load), and LinkedIn form
-- answers. Role conditions on custom fields (buying_groups.yaml) read them.
with records as (
    select {{ source_key('contact_id', 'Salesforce') }} as source_key, custom_fields as fields
    from {{ ref('stg_salesforce__contacts') }} where custom_fields <> '{}'
    union all
    select {{ source_key('lead_id', 'Salesforce') }}, custom_fields
    from {{ ref('stg_salesforce__leads') }} where custom_fields <> '{}'
    union all
    select {{ source_key('lead_id', 'Marketo') }}, custom_fields
    from {{ ref('stg_marketo__leads') }} where custom_fields <> '{}'
    union all
    select {{ source_key('lead_gen_response_id', 'LinkedIn') }}, answers
    from {{ ref('stg_linkedin__lead_gen_responses') }} where answers <> '{}' and not is_test_lead
)

select registry.person_id, records.source_key, records.fields
from records
inner join {{ ref('person_registry') }} as registry on registry.source_key = records.source_key
