"""Field checks applied to every loaded row, set-based, while DuckDB reads the file.

Each typed field of a source contract (dbt_like_sql/sources.yml) has a rule; a row that breaks any
rule goes to the `quarantine` table with the failing fields and the reasons, instead of the raw
table. Staging models can then cast without fear: every value that reaches them parses.
"""

from __future__ import annotations

import re

# type -> (SQL that is TRUE when the trimmed, non-empty value `v` is bad, what was expected)
RULES: dict[str, tuple[str, str]] = {
    "text": ("false", "text"),
    "sfid": (
        "not regexp_full_match(v, '[a-zA-Z0-9]{15}([a-zA-Z0-9]{3})?')",
        "a 15- or 18-character Salesforce id",
    ),
    # Plain decimal text only (no 1_000, inf, nan, hex): what every engine casts the same way.
    "integer": ("not regexp_full_match(v, '[-+]?[0-9]{1,18}([.]0*)?')", "an integer"),
    "number": (
        "not regexp_full_match(v, '[-+]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][-+]?[0-9]{1,3})?') "
        "or not coalesce(isfinite(try_cast(v as double)), false)",
        "a number",
    ),
    "boolean": ("lower(v) not in ('true', 'false', '1', '0', 'yes', 'no')", "true or false"),
    "timestamp": ("try_cast(v as timestamptz) is null", "an ISO-8601 timestamp"),
    "date": ("try_cast(v as date) is null", "a date (YYYY-MM-DD)"),
    "date_mdy": ("try_strptime(replace(v, '/', '-'), '%m-%d-%Y') is null", "a date as M-D-Y"),
    "time_12h": ("try_strptime(upper(v), '%I:%M %p') is null", "a time as h:mm AM/PM"),
    "json": ("not coalesce(json_valid(v), false)", "JSON"),
    "email": ("not regexp_full_match(v, '[^@\\s]+@[^@\\s]+\\.[^@\\s]+')", "an email address"),
}


def error_expression(field: str, column_sql: str, type_name: str, required: bool) -> str:
    """SQL giving a reason string when the field is bad, else NULL."""
    if type_name not in RULES:
        raise ValueError(f"unknown field type {type_name!r}; expected one of {', '.join(RULES)}")
    bad, expected = RULES[type_name]
    value = f"nullif(trim({column_sql}), '')"
    label = field.replace("'", "''")
    check = re.sub(r"\bv\b", value, bad)  # the rule's `v` (a whole word) is the value
    parts = []
    if required:
        parts.append(f"when {value} is null then '{label}: required, missing'")
    if type_name != "text":
        parts.append(
            f"when {value} is not null and ({check}) then "
            f"'{label}: expected {expected}, got ' || left({value}, 60)"
        )
    return f"(case {' '.join(parts)} end)" if parts else "cast(null as varchar)"


def salesforce_id_18(value: str) -> str:
    """SQL turning a 15-character Salesforce id into its 18-character form (others unchanged).

    Reports and some syncs export the case-sensitive 15-character id; the API and the Data Loader
    write 18 characters, the last three encoding which of the first fifteen are upper case. Without
    this the same record would be two keys.
    """
    suffix = []
    for chunk in range(3):
        bits = " + ".join(
            f"{1 << i} * (case when substr({value}, {chunk * 5 + i + 1}, 1) between 'A' and 'Z' "
            "then 1 else 0 end)"
            for i in range(5)
        )
        suffix.append(f"substr('ABCDEFGHIJKLMNOPQRSTUVWXYZ012345', 1 + {bits}, 1)")
    return f"(case when length({value}) = 15 then {value} || {' || '.join(suffix)} else {value} end)"


def errors_column(checks: list[str]) -> str:
    """All of a row's reasons joined by '; ' (NULL when the row is good)."""
    if not checks:
        return "cast(null as varchar)"
    return f"nullif(concat_ws('; ', {', '.join(checks)}), '')"
