{#- Cleaning and typing helpers for staging models. Every value reaching them passed the load-time
    checks of its field type (blueprint_pipeline/ingestion/validation.py), so plain casts are safe. -#}

{% macro text(col) -%} nullif(trim({{ col }}), '') {%- endmacro %}

{% macro email(col) -%} nullif(lower(trim({{ col }})), '') {%- endmacro %}

{% macro email_domain(col) -%} nullif(split_part(lower(trim({{ col }})), '@', 2), '') {%- endmacro %}

{#- https://www.Acme.com/about -> acme.com -#}
{% macro url_domain(col) -%}
nullif(regexp_replace(lower(trim({{ col }})), '^([a-z]+://)?(www[.])?([^/:?#]+).*$', '\3'), '')
{%- endmacro %}

{% macro to_bool(col) -%}
(case when lower(trim({{ col }})) in ('true', '1', 'yes') then true
      when lower(trim({{ col }})) in ('false', '0', 'no') then false end)
{%- endmacro %}

{#- Integers were checked at load as plain digits, optionally followed by ".0": exact, no float. -#}
{% macro to_int(col) -%} cast(nullif(split_part(trim({{ col }}), '.', 1), '') as bigint) {%- endmacro %}

{% macro to_number(col) -%} cast(nullif(trim({{ col }}), '') as double) {%- endmacro %}

{#- Any ISO-8601 form (Z, +0000, +00:00, none = UTC) -> a UTC timestamp. -#}
{% macro to_timestamp(col) -%}
cast(cast(nullif(trim({{ col }}), '') as timestamptz) at time zone 'UTC' as timestamp)
{%- endmacro %}

{% macro to_date(col) -%} cast(nullif(trim({{ col }}), '') as date) {%- endmacro %}

{#- The first present of several keys of a Marketo attributes object: the bulk-extract name
    ("Merge IDs") and the per-type table column (merge_ids). -#}
{% macro attribute(col, names) -%}
coalesce(
    {%- for name in names %}
    json_extract_string(cast({{ col }} as json), '$."{{ name }}"'){{ "," if not loop.last }}
    {%- endfor %}
)
{%- endmacro %}
