{#- A B2B source key, <id>@<instance>.<system>, e.g. 0015g00000AbCdE@prod.Salesforce.
    The instance is "prod" for now (one instance per system). -#}
{% macro source_key(id_sql, system) -%}
(cast({{ id_sql }} as varchar) || '@prod.{{ system }}')
{%- endmacro %}

{#- The letter at position `i` of a name written in capitalised words: upper case at the start of
    the name, after any character without case (a space, a hyphen, an apostrophe: Mary-Jane,
    O'Brien) and after a word's "Mc" (McDonald); lower case elsewhere. -#}
{% macro capitalised_letter(value, i) -%}
(case
    when {{ i }} = 1
        or lower(substr({{ value }}, {{ i }} - 1, 1)) = upper(substr({{ value }}, {{ i }} - 1, 1))
        or ({{ i }} >= 3 and lower(substr({{ value }}, {{ i }} - 2, 2)) = 'mc'
            and ({{ i }} = 3 or substr({{ value }}, {{ i }} - 3, 1) in (' ', '-')))
        then upper(substr({{ value }}, {{ i }}, 1))
    else lower(substr({{ value }}, {{ i }}, 1))
end)
{%- endmacro %}
