-- One row per Salesforce record whose latest version is deleted. A merge deletes the losing
-- record with MasterRecordId pointing at the survivor: identity resolution follows it.
-- The objects come from sources.yml: every Salesforce object with IsDeleted.
{% for obj in source_objects('salesforce') if 'IsDeleted' in obj.columns %}
{% set object, has_master = obj.name, 'MasterRecordId' in obj.columns %}
{% set needed = ['id', 'is_deleted', 'last_modified_date'] + (['master_record_id'] if has_master else []) %}
select
    '{{ object }}' as object_name,
    trim(id) as record_id,
    {% if has_master %}{{ text('master_record_id') }}{% else %}cast(null as varchar){% endif %}
        as master_record_id,
    {{ to_timestamp('last_modified_date') }} as deleted_at,
    _source_file as source_file
from (
    {{ latest_fields('salesforce', object, 'trim(id)', 'last_modified_date', needed) }}
) as {{ object | lower }}_versions
where coalesce({{ to_bool('is_deleted') }}, false)
{% if not loop.last %}union all{% endif %}
{% endfor %}
