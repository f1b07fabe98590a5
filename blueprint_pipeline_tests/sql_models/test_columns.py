"""The column catalogue (sql_models/columns.py): every column of every table a build leaves has
an entry with a description in its model's YAML, and the UI's column schema carries it."""

from __future__ import annotations

import pandas as pd
import pytest

from blueprint_pipeline.core.errors import SqlModelError
from blueprint_pipeline.core.paths import SQL_PROJECT_DIR
from blueprint_pipeline.sql_models.columns import parse_columns
from blueprint_pipeline.sql_models.project import load_project
from blueprint_pipeline.sql_models.published import column_schema, published
from blueprint_pipeline.warehouse.stateful import TABLES

# Described elsewhere: the raw tables by the source contract (sources.yml), the versions table by
# the migrations.
ELSEWHERE = ("raw_", "schema_versions")


def _undescribed(tables: dict) -> dict[str, list[str]]:
    docs = load_project(SQL_PROJECT_DIR).column_docs()
    missing = {}
    for table, (columns, *_) in tables.items():
        if table.startswith(ELSEWHERE):
            continue
        described = {name for name, doc in docs.get(table, {}).items() if doc.description}
        if gaps := [c for c in columns if c.lower() not in described]:
            missing[table] = gaps
    return missing


def test_every_built_column_is_described(duckdb_warehouse, uninterrupted_outputs):
    """Every column of every table a whole build writes has a description in the catalogue: a
    model's YAML, python_models.yml, seeds/seeds.yml or state_tables.yml."""
    assert _undescribed(uninterrupted_outputs(duckdb_warehouse)["tables"]) == {}


def test_the_column_schema_carries_types_descriptions_and_the_personal_tag(duckdb_warehouse):
    docs = parse_columns(
        SQL_PROJECT_DIR / "x.yml",
        "model x",
        [
            {"name": "email", "description": "The person's  email\n address.", "meta": {"personal": True}},
            {"name": "email_opt_out", "description": "Whether they opted out.", "meta": {"personal": False}},
        ],
    )
    schema = column_schema(
        [("person_id", "VARCHAR"), ("email", "VARCHAR"), ("email_opt_out", "BOOLEAN")],
        {d.name: d for d in docs},
    )
    assert [(c.name, c.type, c.description, c.tags) for c in schema.columns] == [
        ("person_id", "varchar", None, {}),  # not in the catalogue: the test above fails on it
        ("email", "varchar", "The person's email address.", {"personal": ""}),
        ("email_opt_out", "boolean", "Whether they opted out.", {}),
    ]


def test_a_published_table_shows_its_column_schema(duckdb_warehouse):
    with duckdb_warehouse.transaction() as session:
        session.replace_table(
            "unified_persons", pd.DataFrame({"person_id": ["p1"], "email_opt_out": [False]})
        )
    metadata = published(duckdb_warehouse, "unified_persons")
    columns = metadata["dagster/column_schema"].columns
    assert [(c.name, c.type) for c in columns] == [("person_id", "varchar"), ("email_opt_out", "boolean")]


def test_a_published_view_shows_its_columns_and_no_count_or_preview(duckdb_warehouse):
    """A view's rows are computed when read: a count or a preview would be a run of its query
    (person_engagement_contributions is a view over 13.5M day rows at the large scale)."""
    with duckdb_warehouse.transaction() as session:
        session.replace_table(
            "unified_persons", pd.DataFrame({"person_id": ["p1"], "email_opt_out": [False]})
        )
        session.execute(
            "create view dashboard_accounts as select person_id as account_id from unified_persons"
        )
    metadata = published(duckdb_warehouse, "dashboard_accounts")
    assert [c.name for c in metadata["dagster/column_schema"].columns] == ["account_id"]
    assert "dagster/row_count" not in metadata and "preview" not in metadata
    assert published(duckdb_warehouse, "unified_persons")["dagster/row_count"] == 1  # a table's


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        ([{"description": "no name"}], "a column is a mapping with a name"),
        ([{"name": "a", "meta": {"personal": "yes"}}], "personal is true or false"),
        ([{"name": "a", "meta": {"pii": True}}], "meta takes"),
        ([{"name": "a"}, {"name": "A"}], "listed twice"),
        ([{"name": "a", "meta": {"forget": "erase"}}], r"column a: forget takes a role .* got 'erase'"),
        ([{"name": "a", "meta": {"forget": ["redact", "blank"]}}], "forget takes a role"),
    ],
)
def test_bad_entries_name_the_file_and_column(tmp_path, entries, message):
    with pytest.raises(SqlModelError, match=message):
        parse_columns(tmp_path / "x.yml", "model x", entries)


def test_seeds_take_their_columns_from_seeds_yml(tmp_path):
    (tmp_path / "seeds").mkdir()
    (tmp_path / "seeds" / "tlds.csv").write_text("tld\ncom\n")
    entry = "  - name: {}\n    columns: [{{name: TLD, description: A top-level domain., meta: {{personal: false}}}}]\n"
    (tmp_path / "seeds" / "seeds.yml").write_text("seeds:\n" + entry.format("tlds"))
    assert load_project(tmp_path).column_docs()["tlds"]["tld"].description == "A top-level domain."
    (tmp_path / "seeds" / "seeds.yml").write_text("seeds:\n" + entry.format("tld"))
    with pytest.raises(SqlModelError, match=r"seeds.yml: each entry is `- name: <seed>` of a CSV"):
        load_project(tmp_path)


def test_the_state_tables_described_are_registered_with_those_columns():
    for table, columns in load_project(SQL_PROJECT_DIR).state_tables.items():
        assert table in TABLES, f"state_tables.yml: {table} is no stateful table (warehouse/stateful.py)"
        if TABLES[table].columns is not None:  # else its writer shapes it; the build test above reads it
            assert [c.name for c in columns] == list(TABLES[table].columns), table
