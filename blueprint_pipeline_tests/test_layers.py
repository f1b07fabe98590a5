"""Which package may import which, in the spirit of import-linter, read from the source's imports.

Units: each package under `blueprint_pipeline/` (each `defs/<layer>` on its own) and each loose
module. Rules: `core` imports nothing else of the project and only `runtime` imports `runtime`
(the bottom and the top of docs/architecture.md#package-layout); no import cycle between units;
the domain packages never import the wiring (`defs`), which only `definitions.py` assembles; one
`defs` layer never imports another. The
cycles and exceptions that exist today are listed here, each to be removed by issue 24 slice (a)
(docs/plan.md): a new one fails, and so does a listed one that is gone (delete its line)."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components

PACKAGE = Path(__file__).parents[1] / "blueprint_pipeline"

# Edges inside today's one package cycle (importer -> imported), with why each exists. (The config
# no longer reaches up: the journeys' and policies' checks run from resources.load_config.)
KNOWN_CYCLE_EDGES = {
    ("governance", "ingestion"),  # forget and identifiers read the landing contract
    ("governance", "sql_models"),
    ("ingestion", "governance"),  # raw_load suppresses forgotten identifiers
    ("ingestion", "sql_models"),  # the file contract lives in sources.yml
    ("sql_models", "ingestion"),  # the generic runner loads raw files
    ("sql_models", "resources"),  # the SQL layers' assets take the config resource
    ("resources", "governance"),  # load_config runs the policies' check
}
KNOWN_WIRING_IMPORTS = {("runtime", "defs.governance"), ("runtime", "defs.journeys")}  # cli, bench
KNOWN_DEFS_IMPORTS = {("defs.qualification", "defs.journeys")}
WIRING = "definitions"  # the one module that assembles the defs


def _unit(parts: tuple[str, ...]) -> str:
    if parts[0] == "defs" and len(parts) > 1:
        return f"defs.{parts[1]}"
    return parts[0]


def _imports() -> dict[str, set[str]]:
    edges: dict[str, set[str]] = defaultdict(set)
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        unit = _unit(parts) if len(parts) > 1 else parts[0]
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            for name in names:
                inner = tuple(name.split(".")[1:])
                if name.startswith("blueprint_pipeline.") and _unit(inner) != unit:
                    edges[unit].add(_unit(inner))
    return edges


def _cycle_edges(edges: dict[str, set[str]]) -> set[tuple[str, str]]:
    units = sorted(set(edges) | {v for targets in edges.values() for v in targets})
    index = {u: i for i, u in enumerate(units)}
    pairs = [(index[u], index[v]) for u, targets in edges.items() for v in targets]
    rows, cols = zip(*pairs, strict=True)
    graph = csr_matrix(([1] * len(pairs), (rows, cols)), shape=(len(units), len(units)))
    _, label = connected_components(graph, directed=True, connection="strong")
    return {(u, v) for u, targets in edges.items() for v in targets if label[index[u]] == label[index[v]]}


def test_no_new_import_cycle_between_packages():
    found = _cycle_edges(_imports())
    assert found - KNOWN_CYCLE_EDGES == set(), "new imports that close a cycle between packages"
    assert KNOWN_CYCLE_EDGES - found == set(), "a listed cycle edge is gone: delete it from KNOWN_CYCLE_EDGES"


def test_only_the_wiring_imports_the_defs():
    edges = _imports()
    found = {(u, v) for u, targets in edges.items() for v in targets if v.startswith("defs") and u != WIRING}
    across = {(u, v) for u, v in found if u.startswith("defs")}
    assert found - across == KNOWN_WIRING_IMPORTS
    assert across == KNOWN_DEFS_IMPORTS


def test_the_core_imports_nothing_and_nothing_imports_the_runtime():
    edges = _imports()
    assert edges.get("core", set()) == set(), "core imports another part of the project"
    assert {u for u, targets in edges.items() if "runtime" in targets and u != "runtime"} == set()
