"""The identity graph on hand-made data, on DuckDB and PostgreSQL.

fixtures/identity_landing, worked by hand:
  Ann Lee is one person across all four sources: CRM contact 003..A01 (" Ann.Lee@Acme.com "),
    its merged duplicate 003..A02 (deleted, MasterRecordId 003..A01; another email), the converted
    lead 00Q..A01, Marketo lead 100 ("ANN.LEE@ACME.COM", sfdcContactId 003..A01) and LinkedIn urn:1.
  Dee Doe: CRM lead 00Q..D01 (d@x.com) and Marketo lead 300 (a different email, dd@x.com, but
    sfdcLeadId 00Q..D01).
  Bob: Marketo lead 200 (bob@beta.io) and LinkedIn urn:2 (bob@gmail.com): different emails and no
    shared id, so two persons. The LinkedIn test lead urn:3 is no person.
  -> 9 source records, 4 persons; each person's component key is its smallest source key.
"""

from __future__ import annotations

import shutil

import pandas as pd
import pytest

from blueprint_pipeline.identity.graph import components, update_components, write_components
from blueprint_pipeline_tests.conftest import FIXTURES, copy_of, shared_warehouse
from blueprint_pipeline_tests.ingestion.test_two_drops import build

ANN = "003000000000A01AAA@prod.Salesforce"
DEE = "00Q000000000D01AAA@prod.Salesforce"


@pytest.fixture(scope="module", params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def graph(request, tmp_path_factory):
    """fixtures/identity_landing built once per engine, for the tests that read it (and a copy for
    one that builds on it)."""
    folder = tmp_path_factory.mktemp("identity-graph")
    landing = shutil.copytree(FIXTURES / "identity_landing", folder / "landing")
    with shared_warehouse(request.param, folder) as warehouse:
        with pytest.MonkeyPatch.context() as monkeypatch:  # the build's settings, for the build only
            summary = build(landing, warehouse, monkeypatch)
        assert summary.success, summary.render()
        yield warehouse


def test_components_pure():
    nodes = pd.Series(["c", "a", "b", "d", "e"])
    edges = pd.DataFrame({"source_key": ["b", "e", "c"], "other_key": ["c", "d", "b"]})
    found = dict(components(nodes, edges).itertuples(index=False))
    assert found == {"a": "a", "b": "b", "c": "b", "d": "d", "e": "d"}


def test_update_components_computes_again_only_the_components_that_moved(warehouse):
    """update_components() brings kept components to a new graph's. By hand: the old graph
    a1-a2, B1-b2 (components a1, B1; c, d, e alone). Since: a2-b2 added, B1-b2 removed, e gone,
    f new with f-d. Seeds: a2, b2, B1 (ends of the edges added and removed), f and d; the
    components they or e were in (a1, B1, d, e) are computed again over a1, a2, B1, b2, d, f:
    {a1, a2, b2} named a1, B1 alone, {d, f} named d. c is kept without being computed."""
    old_edges = pd.DataFrame({"source_key": ["a1", "B1"], "other_key": ["a2", "b2"]})
    new_edges = pd.DataFrame({"source_key": ["a1", "a2", "f"], "other_key": ["a2", "b2", "d"]})
    with warehouse.transaction() as session:
        session.replace_table(
            "graph_test_nodes", pd.DataFrame({"source_key": ["a1", "a2", "B1", "b2", "c", "d", "e"]})
        )
        session.replace_table("graph_test_edges", old_edges)
        write_components(
            session,
            "graph_test_components",
            "select * from graph_test_nodes",
            "select * from graph_test_edges",
        )
        session.replace_table("graph_test_edges", new_edges)
        session.replace_table("graph_test_seeds", pd.DataFrame({"source_key": ["a2", "b2", "B1", "f", "d"]}))
        session.replace_table("graph_test_gone", pd.DataFrame({"source_key": ["e"]}))
        redone = update_components(
            session, "graph_test_components", "select * from graph_test_edges", "graph_test_seeds",
            "graph_test_gone", "graph_test_redone",
        )  # fmt: skip
        found = dict(session.fetchall("select source_key, component_key from graph_test_components"))
        computed = {k for (k,) in session.fetchall("select source_key from graph_test_redone")}
        session.execute("drop table graph_test_redone")
    expected = {"a1": "a1", "a2": "a1", "b2": "a1", "B1": "B1", "c": "c", "d": "d", "f": "d"}
    assert found == expected and redone == 6 and computed == {"a1", "a2", "B1", "b2", "d", "f"}
    assert found == dict(components(pd.Series(list(expected)), new_edges).itertuples(index=False))


def test_deterministic_components_in_the_warehouse(warehouse):
    """write_components() numbers the keys in the warehouse and gives components()' answer. By
    hand: b-c (twice, once each way), e-d, a self-loop on f; a and g alone. Components {b, c}
    named b, {d, e} named d; "Z" sorts before "a" byte by byte, so {Z, a} is named Z."""
    nodes = ["c", "a", "b", "d", "e", "f", "g", "Z"]
    edges = pd.DataFrame({"source_key": ["b", "c", "e", "f", "a"], "other_key": ["c", "b", "d", "f", "Z"]})
    expected = {"a": "Z", "Z": "Z", "b": "b", "c": "b", "d": "d", "e": "d", "f": "f", "g": "g"}
    with warehouse.transaction() as session:
        session.replace_table("graph_test_nodes", pd.DataFrame({"source_key": nodes}))
        session.replace_table("graph_test_edges", edges)
        written = write_components(
            session,
            "graph_test_components",
            "select * from graph_test_nodes",
            "select * from graph_test_edges",
        )
        found = dict(session.fetchall("select source_key, component_key from graph_test_components"))
    assert written == (8, 5) and found == expected
    assert found == dict(components(pd.Series(nodes), edges).itertuples(index=False))
    with warehouse.transaction() as session:
        with pytest.raises(ValueError, match="not a node"):
            write_components(
                session,
                "graph_test_other",
                "select * from graph_test_nodes",
                "select 'a' as source_key, 'x' as other_key",
            )
        # The failed call dropped its temporary tables: their names are free in this session.
        session.execute("create temporary table identity_graph__nodes (x integer)")
        session.execute("drop table identity_graph__nodes")
    with warehouse.transaction() as session:  # no records: an empty table, not an error
        written = write_components(
            session,
            "graph_test_empty",
            "select * from graph_test_nodes where false",
            "select * from graph_test_edges where false",
        )
        assert written == (0, 0) and session.fetchall("select * from graph_test_empty") == []


def test_identity_graph_on_hand_made_sources(graph):
    warehouse = graph
    found = dict(warehouse.fetchall("select source_key, component_key from int_identity_components"))
    assert found == {
        ANN: ANN,
        "003000000000A02AAA@prod.Salesforce": ANN,
        "00Q000000000A01AAA@prod.Salesforce": ANN,
        "100@prod.Marketo": ANN,
        "urn:1@prod.LinkedIn": ANN,
        DEE: DEE,
        "300@prod.Marketo": DEE,
        "200@prod.Marketo": "200@prod.Marketo",
        "urn:2@prod.LinkedIn": "urn:2@prod.LinkedIn",
    }
    reasons = {r for (r,) in warehouse.fetchall("select distinct link_reason from int_identity_edges")}
    assert reasons == {
        "email",
        "crm_merge",
        "lead_conversion",
        "marketo_sfdc_contact_id",
        "marketo_sfdc_lead_id",
    }


def test_person_ids_are_stable_across_builds_merges_and_splits(graph, tmp_path, monkeypatch, request):
    """Build 1 and 2 on the same files: the same ids, nothing recorded the second time.
    Drop 2 (identity_drop2/marketo/leads_update.csv): Marketo lead 200 now has bob@gmail.com, the
    email of LinkedIn urn:2, so Bob's two persons merge; lead 300 loses its sfdcLeadId, so Dee's
    person splits: the CRM lead keeps Dee's id (tie of one record each, smallest source key), 300
    gets a new one. Ann's id never changes."""
    landing = shutil.copytree(FIXTURES / "identity_landing", tmp_path / "landing")
    if graph.dialect == "duckdb":
        warehouse = copy_of(graph, tmp_path)  # build 1
    else:
        warehouse = request.getfixturevalue("postgres_warehouse")
        assert build(landing, warehouse, monkeypatch).success

    def ids() -> dict[str, str]:
        return dict(warehouse.fetchall("select source_key, person_id from person_registry"))

    first = ids()
    assert len(set(first.values())) == 4
    assert warehouse.fetchall("select event, count(*) from person_id_history group by 1") == [("created", 4)]

    assert build(landing, warehouse, monkeypatch).success
    assert ids() == first
    assert warehouse.scalar("select count(*) from person_id_history") == 4  # nothing new

    shutil.copytree(FIXTURES / "identity_drop2", landing, dirs_exist_ok=True)
    assert build(landing, warehouse, monkeypatch).success
    third = ids()
    assert third[ANN] == first[ANN] and third["100@prod.Marketo"] == first[ANN]
    bob = {first["200@prod.Marketo"], first["urn:2@prod.LinkedIn"]}
    assert third["200@prod.Marketo"] == third["urn:2@prod.LinkedIn"] == min(bob)
    assert third[DEE] == first[DEE]
    assert third["300@prod.Marketo"] not in first.values()
    events = sorted(
        warehouse.fetchall(
            "select event, person_id, other_person_id from person_id_history where event <> 'created'"
        )
    )
    assert events == [
        ("merged", max(bob), min(bob)),
        ("split", first[DEE], third["300@prod.Marketo"]),
    ]
    assert len(set(third.values())) == 4


@pytest.mark.parametrize("graph", ["duckdb"], indirect=True)
def test_registry_keeps_creation_times_as_timestamps(graph):
    duckdb_warehouse = graph
    with duckdb_warehouse.session() as session:
        assert dict(session.columns("person_registry"))["person_created_at"].startswith("TIMESTAMP")
    assert (
        str(duckdb_warehouse.scalar("select min(person_created_at) from person_registry"))
        == "2026-03-01 00:00:00"
    )
