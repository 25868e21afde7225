"""How :class:`automm.nn.FusionNetwork` reads a :class:`~automm.ir.SearchSpace` graph.

Only node kinds, edges, choices and node/graph attributes are read, never node names. A choice
belongs to the node named by ``Choice.node`` (input choices in the order of ``space.choices``), and
each of an input choice's candidates has an edge to that node; edges without a ``choice``
attribute are fixed inputs. Kinds (:class:`automm.ir.kinds.NodeKind`):

- ``tap``: a modality feature input (attribute ``channels``), reduced to ``(C, L)``;
- ``cell-input``: one input choice; its value is the chosen node;
- ``step``: two input choices and one op choice; its value is ``op(x, y)``;
- ``cell``: no choice; the concatenation of its predecessors, projected back to ``C``;
- ``head``: exactly one; its predecessors are concatenated, pooled over ``L`` and classified.

A step's op modules live in the cell named by its ``cell`` attribute (if that node is a cell),
otherwise on their own. Sizes: graph attributes ``C`` and ``L`` (else the config's fields),
the head's ``num_classes`` (else the config's, else 2).
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx

from automm.errors import ArchitectureError
from automm.ir.kinds import NodeKind
from automm.ir.space import OP, SearchSpace

SLOTS = {NodeKind.CELL_INPUT: 1, NodeKind.STEP: 2, NodeKind.CELL: 0, NodeKind.HEAD: 0}
"""Input slots (choices on in-edges) of each computed kind."""


@dataclass(frozen=True)
class Node:
    """One computed node: its input choices (names, in choice order), its op choice, its fixed
    predecessors (edges without a choice, in graph order) and the cell holding its op modules."""

    name: str
    kind: NodeKind
    slots: tuple[str, ...] = ()
    op: str | None = None
    preds: tuple[str, ...] = ()
    cell: str | None = None


@dataclass(frozen=True)
class Plan:
    """Taps, computed nodes in a stable topological order, the head, and the sizes."""

    taps: tuple[str, ...]
    nodes: tuple[Node, ...]
    head: Node
    C: int
    L: int
    num_classes: int

    @property
    def cells(self) -> list[Node]:
        """Nodes of kind ``cell``, in graph order."""
        return [n for n in self.nodes if n.kind == NodeKind.CELL]


def make_plan(space: SearchSpace) -> Plan:
    """The plan of ``space``; a graph the builder cannot compute is a one-line
    :class:`ArchitectureError` naming the node."""
    g = space.graph
    order = {n: i for i, n in enumerate(g)}
    where = f"space {space.name!r}"
    try:
        topo = list(nx.lexicographical_topological_sort(g, key=order.__getitem__))
    except nx.NetworkXUnfeasible:
        raise ArchitectureError(f"{where}: the graph has a cycle") from None
    slots: dict[str, list[str]] = {}
    ops: dict[str, list[str]] = {}
    for c in space.choices.values():
        (ops if c.kind == OP else slots).setdefault(c.node, []).append(c.name)
    taps, nodes = [], []
    for name in topo:
        kind = g.nodes[name].get("kind")
        if kind not in tuple(NodeKind):
            raise ArchitectureError(f"{where}: node {name!r} has kind {kind!r}; the network builder "
                                    f"knows {', '.join(NodeKind)}")
        kind = NodeKind(kind)
        if kind == NodeKind.TAP:
            if not isinstance(g.nodes[name].get("channels"), int):
                raise ArchitectureError(f"{where}: tap {name!r} needs an integer 'channels' attribute")
            taps.append(name)
            continue
        nodes.append(_node(space, name, kind, slots.get(name, []), ops.get(name, [])))
    heads = [n for n in nodes if n.kind == NodeKind.HEAD]
    if len(heads) != 1:
        raise ArchitectureError(f"{where}: the network needs exactly one head node (found {len(heads)})")
    C, L = (_size(space, key) for key in ("C", "L"))
    classes = g.nodes[heads[0].name].get("num_classes", getattr(space.config, "num_classes", 2))
    return Plan(tuple(taps), tuple(nodes), heads[0], C, L, int(classes))


def _node(space: SearchSpace, name: str, kind: NodeKind, slots: list[str], ops: list[str]) -> Node:
    g, where = space.graph, f"space {space.name!r}: {kind} node {name!r}"
    preds = tuple(u for u, _, d in g.in_edges(name, data=True) if not d.get("choice"))
    for slot in slots:
        missing = [c for c in space.choices[slot].candidates if not g.has_edge(c, name)]
        if missing:
            raise ArchitectureError(f"{where}: candidate {missing[0]!r} of choice {slot!r} has no edge "
                                    "to the node")
    if len(slots) != SLOTS[kind] or (kind == NodeKind.STEP) != bool(ops) or len(ops) > 1:
        raise ArchitectureError(f"{where}: has {len(slots)} input choice(s) and {len(ops)} op choice(s); "
                                f"a {kind} node needs {SLOTS[kind]} and {1 if kind == NodeKind.STEP else 0}")
    if kind in (NodeKind.CELL, NodeKind.HEAD) and not preds:
        raise ArchitectureError(f"{where}: has no incoming edges")
    cell = g.nodes[name].get("cell")
    in_cell = kind == NodeKind.STEP and cell in g and g.nodes[cell].get("kind") == NodeKind.CELL
    return Node(name, kind, tuple(slots), ops[0] if ops else None, preds, cell if in_cell else None)


def _size(space: SearchSpace, key: str) -> int:
    value = space.graph.graph.get(key, getattr(space.config, key, None))
    if not isinstance(value, int) or value < 1:
        raise ArchitectureError(f"space {space.name!r}: the network needs a positive integer {key} "
                                "(graph attribute or config field)")
    return value
