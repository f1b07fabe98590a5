{{ config(materialized='incremental', unique_key='person_id', on_schema_change='rebuild',
    removed_when='source_records is null') }}
-- One row per person (a stable person_id with at least one live source record). Source keys sort
-- byte by byte (collate "C") on every engine: Salesforce ids mix cases, and a database collation
-- such as en_US would order them otherwise. Each field comes
-- from the record the merge policy prefers (identity_field_precedence: source order per field from
-- config identity.yaml), then the most recently updated, then the smallest source key. Consent is
-- combined, not chosen: an email opt-out anywhere is an opt-out; SMS is opted in only when some
-- record says yes and none says no. First and last name come as a pair from one record (a
-- "Watson Noah" from two records' halves is impossible), turned round when most of the person's
-- records write them the other way, and written in capitalised words when typed all in one case
-- (docs/identity.md, merge policy).
--
-- Incremental: a build re-unifies only the persons whose inputs moved (inputs_hash: an order-free
-- fingerprint of their records as unified here, their tracked events, the merge policy and this
-- model's code), the new ones, and those whose name order was settled by all records' usage
-- (name_by_usage: any record can move those counts); persons with no live record left are
-- removed. A full refresh gives the same table (test_unified_incremental.py).
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

all_records as (
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

-- Journey emails: an unsubscribe is an opt-out; a hard bounce suppresses the address.
tracked as (
    select
        person_id,
        bool_or(event = 'unsubscribe') as unsubscribed,
        bool_or(event = 'bounce') as bounced
    from {{ ref('stg_tracking__events') }}
    where person_id is not null
    group by person_id
),

policy as (
    -- The merge policy's source order and this model's code: either changed re-unifies everyone.
    select md5({{ code_version }} || ':' || string_agg(
        field || '=' || person_source || '=' || cast(precedence as varchar), ',' order by field, person_source
    )) as policy_hash
    from {{ ref('identity_field_precedence') }}
),

inputs as (
    select
        per_person.person_id,
        md5(policy.policy_hash || ':' || per_person.records_fingerprint || ':'
            || coalesce(cast(tracked.unsubscribed as varchar), '-') || ':'
            || coalesce(cast(tracked.bounced as varchar), '-')) as inputs_hash
    from (
        select person_id, {{ set_fingerprint(['source_key', 'person_source', 'email', 'email_domain', 'first_name',
            'last_name', 'title', 'department', 'country', 'phone', 'company', 'email_opt_out', 'sms_opt_in',
            'updated_at']) }} as records_fingerprint
        from all_records
        group by person_id
    ) as per_person
    cross join policy
    left join tracked on tracked.person_id = per_person.person_id
),

{%- if is_incremental() %}

touched as (
    -- New persons, persons whose inputs moved, those named by usage, and those gone.
    select inputs.person_id
    from inputs left join {{ this }} as kept on kept.person_id = inputs.person_id
    where kept.inputs_hash is null or kept.inputs_hash <> inputs.inputs_hash or kept.name_by_usage
    union
    select kept.person_id from {{ this }} as kept
    where not exists (select 1 from inputs where inputs.person_id = kept.person_id)
),

person_records as (
    select * from all_records where person_id in (select person_id from touched)
),
{%- else %}

person_records as (
    select * from all_records
),
{%- endif %}

{%- for field in ['email', 'title', 'department', 'country', 'phone', 'company'] %}

chosen_{{ field }} as (
    -- The {{ field }} of the record the merge policy prefers for it, one CTE a field so that each
    -- unified field's lineage is its own source fields.
    select person_id, value, person_source
    from (
        select
            person_records.person_id, person_records.{{ field }} as value, person_records.person_source,
            row_number() over (
                partition by person_records.person_id
                order by precedence.precedence, person_records.updated_at desc nulls last,
                    person_records.source_key collate "C"
            ) as choice
        from person_records
        inner join {{ ref('identity_field_precedence') }} as precedence
            on precedence.field = '{{ field }}' and precedence.person_source = person_records.person_source
        where person_records.{{ field }} is not null
    ) as ranked
    where choice = 1
),
{%- endfor %}

name_records as (
    select * from person_records where first_name is not null or last_name is not null
),

name_choice as (
    -- The record that names the person: one with both names first, then first_name's source
    -- order, the most recently updated, the smallest key.
    select person_id, first_name, last_name
    from (
        select
            name_records.*,
            row_number() over (
                partition by name_records.person_id
                order by
                    case when name_records.first_name is not null and name_records.last_name is not null
                        then 0 else 1 end,
                    precedence.precedence, name_records.updated_at desc nulls last,
                    name_records.source_key collate "C"
            ) as choice
        from name_records
        inner join {{ ref('identity_field_precedence') }} as precedence
            on precedence.field = 'first_name' and precedence.person_source = name_records.person_source
    ) as ranked
    where choice = 1
),

name_votes as (
    -- How many of the person's records write the chosen pair as it is, and how many the other way.
    select
        chosen.person_id,
        count(case when lower(records.first_name) = lower(chosen.first_name)
            and lower(records.last_name) = lower(chosen.last_name) then 1 end) as as_chosen,
        count(case when lower(records.first_name) = lower(chosen.last_name)
            and lower(records.last_name) = lower(chosen.first_name) then 1 end) as turned
    from name_choice as chosen
    inner join person_records as records on records.person_id = chosen.person_id
    where chosen.first_name is not null and chosen.last_name is not null
        and lower(chosen.first_name) <> lower(chosen.last_name)
    group by chosen.person_id
),

name_usage as (
    -- A tie (one record each way) is settled by how all records use the two names: Noah is
    -- written as a first name more often than Watson is.
    select name, sum(as_first) as as_first, sum(as_last) as as_last
    from (
        select lower(first_name) as name, 1 as as_first, 0 as as_last from all_records
        where first_name is not null
        union all
        select lower(last_name), 0, 1 from all_records where last_name is not null
    ) as used
    group by name
),

names as (
    select
        chosen.person_id,
        case when turned then chosen.last_name else chosen.first_name end as first_name,
        case when turned then chosen.first_name else chosen.last_name end as last_name,
        by_usage
    from (
        select
            name_choice.*,
            coalesce(name_votes.turned = name_votes.as_chosen and name_votes.turned > 0, false) as by_usage,
            coalesce(
                name_votes.turned > name_votes.as_chosen
                or (name_votes.turned = name_votes.as_chosen and name_votes.turned > 0
                    and first_used.as_last + last_used.as_first > first_used.as_first + last_used.as_last),
                false
            ) as turned
        from name_choice
        left join name_votes on name_votes.person_id = name_choice.person_id
        left join name_usage as first_used on first_used.name = lower(name_choice.first_name)
        left join name_usage as last_used on last_used.name = lower(name_choice.last_name)
    ) as chosen
),

name_parts as (
    select person_id, 'first_name' as part, first_name as value from names where first_name is not null
    union all
    select person_id, 'last_name', last_name from names where last_name is not null
),

recased as (
    -- A name typed all in capitals or all in lower case, in capitalised words (JOHN -> John,
    -- o'brien -> O'Brien, mcdonald -> McDonald); a name in mixed case is kept as typed (DeShawn).
    select
        parts.person_id, parts.part,
        string_agg({{ capitalised_letter('parts.value', 'positions.i') }}, '' order by positions.i) as value
    from name_parts as parts
    cross join lateral generate_series(1, length(parts.value)) as positions(i)
    where parts.value in (upper(parts.value), lower(parts.value)) and upper(parts.value) <> lower(parts.value)
    group by parts.person_id, parts.part
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
)

select
    {% if is_incremental() %}touched{% else %}consent{% endif %}.person_id,
    chosen_email.value as email,
    nullif(split_part(chosen_email.value, '@', 2), '') as email_domain,
    coalesce(first_recased.value, names.first_name) as first_name,
    coalesce(last_recased.value, names.last_name) as last_name,
    chosen_title.value as title,
    chosen_department.value as department,
    chosen_country.value as country,
    chosen_phone.value as phone,
    chosen_company.value as company,
    consent.email_opt_out or coalesce(tracked.unsubscribed, false) as email_opt_out,
    coalesce(tracked.bounced, false) as email_bounced,
    consent.sms_opt_in,
    chosen_email.person_source as email_source,
    consent.source_keys,
    consent.source_records,
    consent.last_updated_at,
    inputs.inputs_hash,
    coalesce(names.by_usage, false) as name_by_usage
{%- if is_incremental() %}
from touched
left join consent on consent.person_id = touched.person_id
{%- else %}
from consent
{%- endif %}
left join inputs on inputs.person_id = consent.person_id
{%- for field in ['email', 'title', 'department', 'country', 'phone', 'company'] %}
left join chosen_{{ field }} on chosen_{{ field }}.person_id = consent.person_id
{%- endfor %}
left join names on names.person_id = consent.person_id
left join recased as first_recased on first_recased.person_id = consent.person_id and first_recased.part = 'first_name'
left join recased as last_recased on last_recased.person_id = consent.person_id and last_recased.part = 'last_name'
left join tracked on tracked.person_id = consent.person_id
