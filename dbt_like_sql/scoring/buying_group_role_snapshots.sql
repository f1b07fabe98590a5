{{ config(materialized='incremental', full_refresh=false, unique_key=['snapshot_date', 'buying_group_id', 'role']) }}
-- One row per buying group, template role and as-of date: members in the role, as they were
-- (incremental like buying_group_snapshots).
select
    cast({{ as_of }} as date) as snapshot_date,
    buying_group_id,
    role,
    required,
    weight,
    members_required,
    assigned as members,
    role_completeness,
    {{ as_of }} as snapshot_at
from {{ ref('buying_group_roles') }}
