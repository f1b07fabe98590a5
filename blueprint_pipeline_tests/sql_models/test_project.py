"""Parsing the SQL project: clear errors naming the file for every mistake a model author can make."""

from __future__ import annotations

from pathlib import Path

import pytest

from blueprint_pipeline.core.errors import SqlModelError
from blueprint_pipeline.sql_models.project import load_project


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"a/x.sql": "select * from {{ ref('nope') }}"}, "ref('nope'): no model named nope"),
        ({"a/x.sql": "select * from {{ ref('y') }}", "a/y.sql": "select * from {{ ref('x') }}"}, "cycle"),
        ({"a/x.sql": "{{ config(materialized='ephemeral') }} select 1"}, "materialized='ephemeral'"),
        ({"a/x.sql": "{{ config(partition_by='d') }} select 1"}, "unknown config() keys"),
        ({"a/x.sql": "{{ config(removed_when='k is null') }} select 1 as k"}, "removed_when needs"),
        (
            {"a/x.sql": "{{ config(materialized='view', unique_key='k') }} select 1 as k"},
            "a view keeps no rows",
        ),
        ({"a/x.sql": "{{ config(full_refresh='no') }} select 1 as k"}, "full_refresh='no'; expected true or"),
        ({"a/x.sql": "select {{ oops }}"}, "x.sql: 'oops' is undefined"),
        ({"a/x.sql": "select 1 as k", "a/a.yml": "models:\n  - name: z\n"}, "model 'z' has no z.sql"),
        (
            {
                "a/x.sql": "select 1 as k",
                "a/a.yml": "models:\n  - name: x\n    columns:\n      - name: k\n        tests: [uniq]\n",
            },
            "unknown test 'uniq'",
        ),
        (
            {
                "a/x.sql": "select 1 as k",
                "a/a.yml": "models:\n  - name: x\n    tests:\n      - expression: {name: e, sql: 'k > 0; drop table x'}\n",
            },
            "expected one boolean condition",
        ),
        (
            {
                "a/x.sql": "select 1 as k",
                "a/a.yml": "models:\n  - name: x\n    columns:\n      - name: k\n        data_tests:\n          - not_null: {config: {severity: fatal}}\n",
            },
            "severity 'fatal'",
        ),
        (  # dbt's place for it is the test's config
            {
                "a/x.sql": "select 1 as k",
                "a/a.yml": "models:\n  - name: x\n    columns:\n      - name: k\n        tests:\n          - not_null: {severity: error}\n",
            },
            "severity goes under config",
        ),
        (
            {
                "a/x.sql": "select 1 as k",
                "a/a.yml": "models:\n  - name: x\n    columns:\n      - name: k\n        data_tests:\n          - unique: {colum: k}\n",
            },
            "unknown option(s)",
        ),
        (
            {
                "a/x.sql": "select 1 as k",
                "a/a.yml": "models:\n  - name: x\n    columns:\n      - name: k\n        data_tests:\n          - unique: {config: {severity: error, limit: 3}}\n",
            },
            "config takes",
        ),
        (
            {
                "a/x.sql": "select 1 as k",
                "a/a.yml": "models:\n  - name: x\n    columns:\n      - name: k\n        data_tests:\n          - unique: {config: {where: 'k > 0; drop table x'}}\n",
            },
            "where: expected one boolean condition",
        ),
        (
            {
                "a/x.sql": "select 1 as k",
                "a/a.yml": "models:\n  - name: x\n    tests: [{unique_combination: {columns: [k, j]}}]\n    data_tests: []\n",
            },
            "both data_tests and tests",
        ),
        ({"a/x.sql": "select 1", "b/x.sql": "select 2"}, "already exists"),
        ({"a/x-y.sql": "select 1"}, "invalid model name"),
    ],
)
def test_errors_name_the_problem(tmp_path, files, message):
    with pytest.raises((SqlModelError, ValueError), match=message.replace("(", r"\(").replace(")", r"\)")):
        load_project(write(tmp_path, files))


def test_unknown_source_is_an_error(tmp_path):
    write(
        tmp_path,
        {"sources.yml": "sources:\n  - name: s\n    objects:\n      - {name: o, key: id, columns: [id]}\n"},
    )
    write(tmp_path, {"a/x.sql": "select * from {{ source('s', 'other') }}"})
    with pytest.raises(SqlModelError, match=r"source\('s', 'other'\): not declared"):
        load_project(tmp_path)


def test_a_python_model_alias_is_read_as_its_table_and_depended_on_as_its_asset(tmp_path):
    # dbt's alias: the asset `sends` writes the table `outbox`; a model refs the asset.
    write(
        tmp_path,
        {
            "python_models.yml": "python_models:\n  - name: sends\n    alias: outbox\n  - name: plain\n",
            "a/x.sql": "select * from {{ ref('sends') }} join {{ ref('plain') }} using (k)",
            "a/a.yml": "models:\n  - name: x\n    meta: {figure: group_score}\n",
        },
    )
    project = load_project(tmp_path)
    model = project.models["x"]
    assert model.refs == ("sends", "plain") and model.meta == {"figure": "group_score"}
    rendered = project.render(model)
    assert '"outbox"' in rendered and '"plain"' in rendered and '"sends"' not in rendered


def test_an_aliased_python_model_cannot_declare_tests_yet(tmp_path):
    # Its tests would run on the asset's name, which is no table.
    write(
        tmp_path,
        {
            "python_models.yml": "python_models:\n  - {name: sends, alias: outbox, primary_key: id}\n",
            "a/x.sql": "select 1 as k",
        },
    )
    with pytest.raises(SqlModelError, match="would read the table sends, not outbox"):
        load_project(tmp_path)


@pytest.mark.parametrize("incremental", [False, True])
def test_every_model_renders_as_its_macros_and_sql_in_one_template(incremental):
    # The renderer compiles the macros once and runs them before each model: the text must be
    # what one template of the macros followed by the model gives (code versions and the runner
    # read it), down to the newline Jinja keeps between them.
    import jinja2

    from blueprint_pipeline.core.naming import snake_case
    from blueprint_pipeline.core.paths import SQL_PROJECT_DIR
    from blueprint_pipeline.sql_models.project import SourceFunctions
    from blueprint_pipeline.warehouse.base import quote

    project = load_project(SQL_PROJECT_DIR)
    contract = SourceFunctions(project.sources)
    env = jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=False)
    for name, model in project.models.items():
        expected = env.from_string(project.macros + model.sql).render(
            config=lambda **_: "",
            code_version=f"'{model.code_version}'",
            ref=project._ref,
            source=project._source,
            source_columns=contract.columns,
            source_objects=contract.objects,
            this=quote(name),
            is_incremental=lambda: incremental,
            as_of="CAST($as_of AS TIMESTAMP)",
            config_version="$config_version",
            snake_case=snake_case,
        )
        assert project.render(model, incremental=incremental) == expected, name
