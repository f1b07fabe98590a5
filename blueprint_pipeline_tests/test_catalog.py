"""blueprint_pipeline/catalog.py is the one place that sets every asset's group, owner and
automation condition: the group is the folder of the file that declares the asset."""

from __future__ import annotations

import ast
from pathlib import Path

import dagster as dg

from blueprint_pipeline import catalog
from blueprint_pipeline.definitions import build_definitions
from blueprint_pipeline_tests.conftest import FIXTURES

PACKAGE = Path(catalog.__file__).parent
SET_BY_THE_CATALOG = {"group_name", "owners", "automation_condition"}


def _settings_outside_the_catalog() -> list[str]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path == Path(catalog.__file__):
            continue
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Call):
                found += [
                    f"{path.relative_to(PACKAGE.parent)}:{node.lineno}: {k.arg}="
                    for k in node.keywords
                    if k.arg in SET_BY_THE_CATALOG
                ]
    return found


def test_no_asset_sets_its_own_group_owner_or_automation():
    # An asset decorator or spec that passes one of these is overwritten by the catalog: say it
    # in blueprint_pipeline/catalog.py instead.
    assert _settings_outside_the_catalog() == []


def test_the_group_is_the_folder_that_declares_the_asset():
    @dg.asset
    def probe() -> None: ...

    (spec,) = catalog.catalogued(dg.Definitions(assets=[probe]), "duckdb").assets[0].specs
    assert spec.group_name == Path(__file__).parent.name == "blueprint_pipeline_tests"
    assert spec.tags["layer"] == "blueprint_pipeline_tests"
    assert spec.owners == [catalog.DEFAULT_OWNER]
    assert spec.kinds == {"duckdb"}
    assert spec.automation_condition == catalog.ON_CHECKED_INPUTS
    assert spec.metadata[catalog.CODE_REFERENCES].code_references[0].file_path == __file__


def test_sql_models_and_sources_get_their_layer_and_automation():
    # The shop fixture: staging/ and marts/ folders of SQL models over one raw source.
    graph = build_definitions(FIXTURES / "sql_project", with_layer_packages=False).resolve_asset_graph()
    totals = graph.get(dg.AssetKey("customer_totals"))
    assert totals.group_name == "marts" and totals.tags["layer"] == "marts"
    assert totals.automation_condition == catalog.ON_CHECKED_INPUTS
    assert totals.owners == [catalog.DEFAULT_OWNER]
    assert graph.get(dg.AssetKey("stg_shop__orders")).owners == ["team:data-platform"]
    raw = graph.get(dg.AssetKey("raw_shop__orders"))
    assert raw.group_name == "sources" and raw.automation_condition is None


def test_the_named_exceptions_are_assets():
    # A renamed asset must not silently fall back to the default condition.
    keys = {k.to_user_string() for k in build_definitions().resolve_asset_graph().get_all_asset_keys()}
    assert set(catalog.AUTOMATION_BY_ASSET) - keys == set()
    assert set(catalog.GRAINS) - keys == set()
