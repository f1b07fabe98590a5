-- Everything a person's records say about the account they work for, one row per record and clue:
-- a CRM contact's AccountId, the CRM account id Marketo carries, the account a lead was converted
-- into, the work email domain, the company name typed in a form. person_account_links weighs them.
with clues as (
    select {{ source_key('contact_id', 'Salesforce') }} as source_key, 'crm_account_id' as method,
        account_id as value, last_modified_at as observed_at
    from {{ ref('stg_salesforce__contacts') }} where account_id is not null
    union all
    select {{ source_key('lead_id', 'Marketo') }}, 'marketo_sfdc_account', sfdc_account_id, updated_at
    from {{ ref('stg_marketo__leads') }} where sfdc_account_id is not null
    union all
    select {{ source_key('lead_id', 'Salesforce') }}, 'lead_conversion', converted_account_id, last_modified_at
    from {{ ref('stg_salesforce__leads') }} where is_converted and converted_account_id is not null
    union all
    select {{ source_key('contact_id', 'Salesforce') }}, 'email_domain', email_domain, last_modified_at
    from {{ ref('stg_salesforce__contacts') }} where email_domain is not null
    union all
    select {{ source_key('lead_id', 'Salesforce') }}, 'email_domain', email_domain, last_modified_at
    from {{ ref('stg_salesforce__leads') }} where email_domain is not null
    union all
    select {{ source_key('lead_id', 'Marketo') }}, 'email_domain', email_domain, updated_at
    from {{ ref('stg_marketo__leads') }} where email_domain is not null
    union all
    select {{ source_key('lead_gen_response_id', 'LinkedIn') }}, 'email_domain', email_domain, submitted_at
    from {{ ref('stg_linkedin__lead_gen_responses') }} where email_domain is not null and not is_test_lead
    union all
    select {{ source_key('lead_id', 'Salesforce') }}, 'company_name', company, last_modified_at
    from {{ ref('stg_salesforce__leads') }} where company is not null
    union all
    select {{ source_key('lead_id', 'Marketo') }}, 'company_name', company, updated_at
    from {{ ref('stg_marketo__leads') }} where company is not null
    union all
    select {{ source_key('lead_gen_response_id', 'LinkedIn') }}, 'company_name', company, submitted_at
    from {{ ref('stg_linkedin__lead_gen_responses') }} where company is not null and not is_test_lead
)

select registry.person_id, clues.source_key, clues.method, clues.value, clues.observed_at
from clues
inner join {{ ref('person_registry') }} as registry on registry.source_key = clues.source_key
