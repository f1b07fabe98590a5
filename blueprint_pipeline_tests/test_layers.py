"""Which package may import which, in the spirit of import-linter, read from the source's imports.

Units: each package under `blueprint_pipeline/` (each `defs/<layer>` on its own) and each loose
module. Rules: `core` imports nothing else of the project and only `runtime` imports `runtime`
(the bottom and the top of docs/architecture.md#package-layout); no import cycle between units;
the domain packages never import the wiring (`defs`), which only `definitions.py` assembles; one
`defs` layer never imports another. No exception is listed: a new import that breaks a rule fails
with the edges that do."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components

PACKAGE = Path(__file__).parents[1] / "blueprint_pipeline"

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
    assert _cycle_edges(_imports()) == set(), "imports that close a cycle between packages"


def test_only_the_wiring_imports_the_defs():
    edges = _imports()
    found = {(u, v) for u, targets in edges.items() for v in targets if v.startswith("defs") and u != WIRING}
    assert found == set(), "only definitions.py imports the defs (one layer's defs never another's)"


def test_the_core_imports_nothing_and_nothing_imports_the_runtime():
    edges = _imports()
    assert edges.get("core", set()) == set(), "core imports another part of the project"
    assert {u for u, targets in edges.items() if "runtime" in targets and u != "runtime"} == set()
