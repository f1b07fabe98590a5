{#- Upsert semantics of a raw table: the latest version of each key.
    Newest `modified` timestamp first (when the object has one), then the later ingestion, the
    later file (name order) and the later row in it. -#}
{% macro latest_version(relation, key, modified=none) -%}
select * from (
    select
        *,
        row_number() over (
            partition by {{ key }}
            order by
                {% if modified %}{{ to_timestamp(modified) }} desc nulls last,{% endif %}
                _ingested_at desc, _source_file desc, _source_row desc
        ) as _version_rank
    from {{ relation }}
) as versions
where _version_rank = 1
{%- endmacro %}
