-- One row per Marketo lead merged into another (activity 32, Merge Leads): the surviving lead is
-- the activity's lead; "Merge IDs" lists the merged-away leads, e.g. [1286861] or [12, 13].
with merges as (
    select
        lead_id as surviving_lead_id,
        activity_at as merged_at,
        replace(replace({{ attribute('attributes', ['Merge IDs', 'merge_ids']) }}, '[', ''), ']', '') as merge_ids
    from {{ ref('stg_marketo__activities') }}
    where activity_type_id = 32
),

positions as (
    select position from (values (1), (2), (3), (4), (5), (6), (7), (8), (9), (10)) as p (position)
)

select
    merges.surviving_lead_id,
    cast(trim(split_part(merges.merge_ids, ',', positions.position)) as bigint) as merged_lead_id,
    merges.merged_at
from merges
cross join positions
where trim(split_part(merges.merge_ids, ',', positions.position)) <> ''
