-- One row per person (a stable person_id with at least one live source record). Source keys sort
-- byte by byte (collate "C") on every engine: Salesforce ids mix cases, and a database collation
-- such as en_US would order them otherwise. Each field comes
-- from the record the merge policy prefers (identity_field_precedence: source order per field from
-- config identity.yaml), then the most recently updated, then the smallest source key. Consent is
-- combined, not chosen: an email opt-out anywhere is an opt-out; SMS is opted in only when some
-- record says yes and none says no.
with records as (
    select {{ source_key('contact_id', 'Salesforce') }} as source_key, 'salesforce_contact' as person_source,
        email, email_domain, first_name, last_name, title, department, country,
        coalesce(phone, mobile_phone) as phone, cast(null as varchar) as company,
        email_opt_out, cast(null as boolean) as sms_opt_in, last_modified_at as updated_at
    from {{ ref('stg_salesforce__contacts') }}
    union all
    select {{ source_key('lead_id', 'Salesforce') }}, 'salesforce_lead',
        email, email_domain, first_name, last_name, title, null, country, null, company,
        email_opt_out, null, last_modified_at
    from {{ ref('stg_salesforce__leads') }}
    union all
    select {{ source_key('lead_id', 'Marketo') }}, 'marketo_lead',
        email, email_domain, first_name, last_name, title, null, country, null, company,
        unsubscribed, sms_consent, updated_at
    from {{ ref('stg_marketo__leads') }}
    union all
    select {{ source_key('lead_gen_response_id', 'LinkedIn') }}, 'linkedin_response',
        email, email_domain, first_name, last_name, title, null, country, null, company,
        null, null, submitted_at
    from {{ ref('stg_linkedin__lead_gen_responses') }}
    where not is_test_lead
),

person_records as (
    -- Countries as one spelling each (US, USA, United States of America -> United States; the
    -- seed country_names), others kept as typed.
    select
        registry.person_id, records.source_key, records.person_source, records.email, records.email_domain,
        records.first_name, records.last_name, records.title, records.department,
        coalesce(countries.country, records.country) as country,
        records.phone, records.company, records.email_opt_out, records.sms_opt_in, records.updated_at
    from records
    inner join {{ ref('person_registry') }} as registry on registry.source_key = records.source_key
    left join {{ ref('country_names') }} as countries on countries.alias = lower(trim(records.country))
),

candidates as (
    {%- for field in ['email', 'first_name', 'last_name', 'title', 'department', 'country', 'phone', 'company'] %}
    select person_id, '{{ field }}' as field, {{ field }} as value, person_source, updated_at, source_key
    from person_records where {{ field }} is not null
    {{- "\n    union all" if not loop.last }}
    {%- endfor %}
),

chosen as (
    select person_id, field, value, person_source
    from (
        select
            candidates.*,
            row_number() over (
                partition by candidates.person_id, candidates.field
                order by precedence.precedence, candidates.updated_at desc nulls last, candidates.source_key collate "C"
            ) as choice
        from candidates
        inner join {{ ref('identity_field_precedence') }} as precedence
            on precedence.field = candidates.field and precedence.person_source = candidates.person_source
    ) as ranked
    where choice = 1
),

fields as (
    select
        person_id,
        {%- for field in ['email', 'first_name', 'last_name', 'title', 'department', 'country', 'phone', 'company'] %}
        max(case when field = '{{ field }}' then value end) as {{ field }},
        {%- endfor %}
        max(case when field = 'email' then person_source end) as email_source
    from chosen
    group by person_id
),

consent as (
    select
        person_id,
        coalesce(bool_or(email_opt_out), false) as email_opt_out,
        coalesce(bool_or(sms_opt_in) and not coalesce(bool_or(not sms_opt_in), false), false) as sms_opt_in,
        string_agg(source_key, ',' order by source_key collate "C") as source_keys,
        count(*) as source_records,
        max(updated_at) as last_updated_at
    from person_records
    group by person_id
),

-- Journey emails: an unsubscribe is an opt-out; a hard bounce suppresses the address.
tracked as (
    select
        person_id,
        bool_or(event = 'unsubscribe') as unsubscribed,
        bool_or(event = 'bounce') as bounced
    from {{ ref('stg_tracking__events') }}
    where person_id is not null
    group by person_id
)

select
    consent.person_id,
    fields.email,
    nullif(split_part(fields.email, '@', 2), '') as email_domain,
    fields.first_name,
    fields.last_name,
    fields.title,
    fields.department,
    fields.country,
    fields.phone,
    fields.company,
    consent.email_opt_out or coalesce(tracked.unsubscribed, false) as email_opt_out,
    coalesce(tracked.bounced, false) as email_bounced,
    consent.sms_opt_in,
    fields.email_source,
    consent.source_keys,
    consent.source_records,
    consent.last_updated_at
from consent
left join fields on fields.person_id = consent.person_id
left join tracked on tracked.person_id = consent.person_id
