{#- A B2B source key, <id>@<instance>.<system>, e.g. 0015g00000AbCdE@prod.Salesforce.
    The instance is "prod" for now (one instance per system). -#}
{% macro source_key(id_sql, system) -%}
(cast({{ id_sql }} as varchar) || '@prod.{{ system }}')
{%- endmacro %}
