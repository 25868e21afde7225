"""The module-level imports of automm/ and plugins/ form no cycle.

Edges are the imports a module runs when it is first imported: statements at module level
(also inside module-level ``if``/``try``), not those under ``if TYPE_CHECKING:`` and not those
inside functions or classes' methods. Function-local imports are the deliberate lazy loading
(:mod:`automm._lazy`, :class:`automm.registry.LazyComponent`, CLI commands importing torch when
they run): they execute after every module involved has finished loading, so they cannot see a
half-initialised module and are allowed to point back. ``from package import name`` is an edge
to ``package.name`` when that is a module, else to ``package`` (whose ``__init__`` runs).
"""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx

import automm

ROOT = Path(automm.__file__).parents[1]
SOURCES = [ROOT / "automm", *sorted(p for p in (ROOT / "plugins").iterdir() if (p / "__init__.py").is_file())]


def _modules() -> dict[str, Path]:
    out = {}
    for top in SOURCES:
        for path in top.rglob("*.py"):
            parts = list(path.relative_to(top.parent).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            out[".".join(parts)] = path
    return out


def _module_level(body: list[ast.stmt]) -> list[ast.Import | ast.ImportFrom]:
    """Import statements that run on import: at module level, in ``if`` (not TYPE_CHECKING),
    ``try`` and ``with`` blocks, never in functions or classes."""
    out: list[ast.Import | ast.ImportFrom] = []
    for node in body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            out.append(node)
        elif isinstance(node, ast.If):
            if "TYPE_CHECKING" not in ast.unparse(node.test):
                out += _module_level(node.body)
            out += _module_level(node.orelse)
        elif isinstance(node, ast.Try):
            for block in (node.body, node.orelse, node.finalbody, *(h.body for h in node.handlers)):
                out += _module_level(block)
        elif isinstance(node, ast.With):
            out += _module_level(node.body)
    return out


def import_graph() -> nx.DiGraph:
    """Module -> modules it imports at module level, restricted to automm and the plugins."""
    modules = _modules()
    graph = nx.DiGraph()
    graph.add_nodes_from(modules)
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in _module_level(ast.parse(path.read_text()).body):
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            else:
                base = node.module or ""
                if node.level:
                    base = ".".join([*package.split(".")[: len(package.split(".")) - node.level + 1],
                                     *([base] if base else [])])
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names]
            graph.add_edges_from((name, t) for t in targets if t in modules and t != name)
    return graph


def test_the_graph_sees_the_imports():
    graph = import_graph()
    assert graph.has_edge("automm.plugins", "automm.registry")
    assert graph.has_edge("automm.ir.cells", "automm.ir.kinds")
    assert not graph.has_edge("automm.cli.evaluate", "automm.train.device")  # function-local


def test_module_level_imports_have_no_cycle():
    cycles = sorted(" -> ".join([*c, c[0]]) for c in nx.simple_cycles(import_graph()))
    assert cycles == []
