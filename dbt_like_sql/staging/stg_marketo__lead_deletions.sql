-- One row per Marketo lead deleted (activity 37, Delete Lead), with when.
select
    lead_id,
    min(activity_at) as deleted_at
from {{ ref('stg_marketo__activities') }}
where activity_type_id = 37
group by lead_id
