"""The governance lineage's unified person fields (governance/lineage.py, `UNIFIED_SOURCES`) checked
against the column lineage sqlglot derives from the SQL models (sql_models/lineage.py), traced
from unified_persons through every model down to the raw source tables of a whole build.

Every source field the map names must be one sqlglot finds. The derived lineage is wider than
the map: unified_persons picks each field from rows that carry every source's values side by side
(the survivorship step orders a person's records by precedence and recency, which reads the
records' other columns), so sqlglot's answer is a superset and the policy check keeps its map."""

from __future__ import annotations

from blueprint_pipeline.core.naming import source_table
from blueprint_pipeline.core.paths import SQL_PROJECT_DIR
from blueprint_pipeline.governance.lineage import UNIFIED_SOURCES
from blueprint_pipeline.ingestion.landing import raw_column
from blueprint_pipeline.sql_models.lineage import derive, upstream_columns
from blueprint_pipeline.sql_models.project import load_project


def _traced(session, project, table: str, column: str, memo: dict) -> set[tuple[str, str]]:
    """The (table, column) pairs outside the SQL models that `table.column` is computed from."""
    if table not in project.models:
        return {(table, column)}
    if table not in memo:
        model = project.models[table]
        memo[table] = derive(project.render(model), upstream_columns(session, project, model))
    found: set[tuple[str, str]] = set()
    for upstream, name in memo[table].get(column, []):
        found |= _traced(session, project, upstream, name, memo)
    return found


# A field the map files under the unified person that a model of its own computes: role conditions
# read a person's custom fields from int_person_custom_fields (buying_groups/roles.py).
COMPUTED_ELSEWHERE = {"unified_persons.custom_fields": ("int_person_custom_fields", "fields")}


def _raw(source_field: str) -> tuple[str, str]:
    system, obj, field = source_field.split(".", 2)
    return source_table(system, obj), raw_column(field)


def test_every_source_field_of_a_unified_person_field_is_in_its_derived_lineage(tmp_path, uninterrupted_copy):
    warehouse = uninterrupted_copy(tmp_path)
    project, memo = load_project(SQL_PROJECT_DIR), {}
    missing = {}
    with warehouse.transaction() as session:
        for field, sources in UNIFIED_SOURCES.items():
            if not field.startswith("unified_persons."):
                continue  # unified_accounts is a Python asset: no SQL to derive from
            table, column = COMPUTED_ELSEWHERE.get(field) or field.split(".")
            derived = _traced(session, project, table, column, memo)
            assert derived, f"sqlglot finds no lineage for {field}"
            if gaps := sorted(s for s in sources if _raw(s) not in derived):
                missing[field] = gaps
    assert missing == {}
