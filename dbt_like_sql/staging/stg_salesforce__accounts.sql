-- One row per Salesforce account: the newest version of each Id across all ingested files.
with source as (
    select * from {{ source('salesforce', 'Account') }}
),

ranked as (
    select
        *,
        row_number() over (
            partition by trim(id)
            order by try_cast(last_modified_date as timestamptz) desc nulls last,
                _source_file desc, _source_row desc
        ) as version_rank
    from source
    where nullif(trim(id), '') is not null
)

select
    trim(id) as account_id,
    nullif(trim(name), '') as account_name,
    nullif(trim(website), '') as website,
    nullif(trim(industry), '') as industry,
    try_cast(nullif(trim(number_of_employees), '') as bigint) as employees,
    try_cast(nullif(trim(annual_revenue), '') as double) as annual_revenue,
    nullif(trim(billing_country), '') as billing_country,
    nullif(trim(owner_id), '') as owner_user_id,
    nullif(trim(parent_id), '') as parent_account_id,
    nullif(trim(type), '') as account_type,
    coalesce(lower(trim(is_deleted)) in ('true', '1'), false) as is_deleted
from ranked
where version_rank = 1
