{#- An order-free fingerprint of a group's rows, for an aggregate over the group: the row count
    and the sum of each row's 64-bit hash of `columns` (DuckDB's hash(); on PostgreSQL the
    warehouse writes hashtextextended over the columns' text, postgres.py). No sort: an
    incremental model compares it with the one it kept to find the groups whose rows changed. -#}
{% macro set_fingerprint(columns) -%}
(cast(count(*) as varchar) || ':' || cast(sum(hash({{ columns | join(', ') }})) as varchar))
{%- endmacro %}
