-- One row per Marketo activity type: the standard list shipped with the project
-- (seeds/marketo_activity_types_standard.csv), overridden and extended by activity_types.csv.
with standard as (
    select cast({{ to_int('activity_type_id') }} as integer) as activity_type_id, {{ text('name') }} as name
    from {{ ref('marketo_activity_types_standard') }}
),

overrides as (
    select cast({{ to_int('activity_type_id') }} as integer) as activity_type_id, {{ text('name') }} as name
    from (
        {{ latest_version(source('marketo', 'activity_types'), to_int('activity_type_id')) }}
    ) as latest
)

select
    coalesce(overrides.activity_type_id, standard.activity_type_id) as activity_type_id,
    coalesce(overrides.name, standard.name) as activity_type_name,
    case when overrides.activity_type_id is null then 'standard' else 'activity_types.csv' end
        as defined_by
from standard
full outer join overrides on overrides.activity_type_id = standard.activity_type_id
