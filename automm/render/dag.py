"""Graphviz drawings of a search space and of an architecture (the paper's Figure 7 style).

Left to right, in the natural order of the IR: the modality feature taps in one column (by
modality, then stage), then per cell its input nodes in one column and a cluster of its steps
(in order) and output node, then the head. Graphviz node ids are
the IR node names (``image/1``, ``cell/2/step/1``, ``head``), so a drawing maps back to
the space without guessing. Every drawing is built from the IR alone (node ``kind``,
``modality``, ``cell`` attributes, edge ``choice`` attributes): any number of cells, steps,
taps and modalities.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import graphviz
import networkx as nx

from automm.ir import INPUT, OP, Architecture, SearchSpace, build_space_for
from automm.ir.kinds import NodeKind

FONT = "Helvetica"

MODALITY_COLOURS = {"image": "#b4a7d6", "audio": "#f9cb9c"}
"""Fill colour of the taps of well-known modalities."""

PALETTE = ("#a2c4c9", "#d5a6bd", "#b6d7a8", "#ffd966", "#9fc5e8", "#e6b8af")
"""Fill colours given, in order of first appearance, to the taps of other modalities."""

ROLE_STYLES: Mapping[str, Mapping[str, str]] = {
    NodeKind.TAP: {"shape": "box", "style": "rounded,filled"},
    NodeKind.CELL_INPUT: {"shape": "ellipse", "style": "filled", "fillcolor": "#eeeeee"},
    NodeKind.STEP: {"shape": "box", "style": "filled", "fillcolor": "#cfe2f3"},
    NodeKind.CELL: {"shape": "box", "style": "filled,bold", "fillcolor": "#ffe599"},
    NodeKind.HEAD: {"shape": "box", "style": "filled,bold", "fillcolor": "#ea9999"},
}
"""Node attributes per IR node kind; kinds not listed are drawn as a grey box."""

OTHER_ROLE = {"shape": "box", "style": "filled", "fillcolor": "#dddddd"}
FADED_NODE = {"color": "#b7b7b7", "fontcolor": "#999999", "fillcolor": "#f7f7f7"}
"""Attributes of unused nodes (their style also gets ``dashed``)."""
FADED_EDGE = {"color": "#cccccc", "style": "dashed"}
CANDIDATE_EDGE = {"color": "#999999", "arrowsize": "0.5", "penwidth": "0.6"}
UNCLUSTERED = (NodeKind.TAP, NodeKind.CELL_INPUT)
"""Node kinds drawn outside the cell clusters, in ordered columns."""
ORDER_EDGE = {"style": "invis"}
"""Attributes of the invisible edges that fix the drawing order (:func:`_add_order`)."""


@dataclass(frozen=True)
class _Edge:
    tail: str
    head: str
    tooltip: str


def modality_colours(space: SearchSpace) -> dict[str, str]:
    """Modality -> fill colour: well-known ones fixed, others from :data:`PALETTE` in tap order."""
    out: dict[str, str] = {}
    others = 0
    for tap in space.taps:
        modality = space.graph.nodes[tap].get("modality", "")
        if modality in out:
            continue
        if modality in MODALITY_COLOURS:
            out[modality] = MODALITY_COLOURS[modality]
        else:
            out[modality] = PALETTE[others % len(PALETTE)]
            others += 1
    return out


def architecture_graph(
    arch: Architecture,
    space: SearchSpace | None = None,
    *,
    omit_unused: bool = False,
    title: str | None = None,
) -> graphviz.Digraph:
    """The derived DAG of ``arch``: one edge per chosen input slot, steps labelled with their op.

    Nodes whose output never reaches a sink of the space (e.g. taps no cell picks) are faded,
    or left out with ``omit_unused``. ``space`` defaults to the one rebuilt from ``arch``.
    """
    if space is None:
        space = build_space_for(arch)
    edges = [_Edge(arch[c.name], c.node, c.name) for c in space.choices.values() if c.kind == INPUT]
    edges += _fixed_edges(space)
    ops: dict[str, list[str]] = {}
    for c in space.choices.values():
        if c.kind == OP:
            ops.setdefault(c.node, []).append(arch[c.name])
    chosen = nx.MultiDiGraph()
    chosen.add_nodes_from(space.graph)
    chosen.add_edges_from((e.tail, e.head) for e in edges)
    live = set(_sinks(space))
    for sink in list(live):
        live |= nx.ancestors(chosen, sink)
    return _draw(space, edges, ops, live=live, omit_unused=omit_unused,
                 title=_arch_title(arch) if title is None else title, edge_style={})


def space_graph(space: SearchSpace, *, title: str | None = None) -> graphviz.Digraph:
    """The whole search space: every candidate edge, each step labelled with its op pool."""
    slots: dict[tuple[str, str], list[str]] = {}  # candidate edge -> the choices offering it
    ops: dict[str, list[str]] = {}
    for c in space.choices.values():
        if c.kind == INPUT:
            for candidate in c.candidates:
                slots.setdefault((candidate, c.node), []).append(c.name)
        elif c.kind == OP:
            ops.setdefault(c.node, []).extend(c.candidates)
    edges = [_Edge(u, v, ", ".join(names)) for (u, v), names in slots.items()] + _fixed_edges(space)
    return _draw(space, edges, ops, live=set(space.graph), omit_unused=False,
                 title=f"search space {space.name}" if title is None else title,
                 edge_style=CANDIDATE_EDGE)


def _fixed_edges(space: SearchSpace) -> list[_Edge]:
    """Edges that are not choices (steps -> cell output, cells -> head)."""
    return [_Edge(u, v, f"{u} -> {v}") for u, v, d in space.graph.edges(data=True) if not d.get("choice")]


def _sinks(space: SearchSpace) -> list[str]:
    return [n for n in space.graph if space.graph.out_degree(n) == 0]


TITLE_ITEM_CHARS = 60
"""Longest strategy name or parameter shown in a title (an arch.json may hold any string)."""


def _short(value: object) -> str:
    text = str(value)
    return text if len(text) <= TITLE_ITEM_CHARS else text[:TITLE_ITEM_CHARS - 1] + "…"


def _arch_title(arch: Architecture) -> str:
    parts = [arch.space]
    strategy = dict(arch.strategy)
    if "name" in strategy:
        params = ", ".join(f"{_short(k)}={_short(v)}" for k, v in strategy.items()
                           if k != "name" and isinstance(v, int | float | str))
        name = _short(strategy["name"])
        parts.append(f"{name} ({params})" if params else name)
    for key, label in (("val_acc", "search validation acc"), ("val_auc", "search validation AUC")):
        value = arch.metrics.get(key)
        if isinstance(value, int | float):
            parts.append(f"{label} {value:.3f}")
    return "  ·  ".join(parts)


def _label(space: SearchSpace, node: str, ops: Mapping[str, list[str]]) -> str:
    data = space.graph.nodes[node]
    kind = data["kind"]
    cell = data.get("cell")
    if kind == NodeKind.TAP:
        text = node.replace("/", " ")
        if "channels" in data:
            text += f"\\n{data['channels']} ch"
    elif kind == NodeKind.CELL:
        text = "output"
    elif kind == NodeKind.HEAD:
        classes = getattr(space.config, "num_classes", None)
        text = f"head\\n{classes} classes" if classes else "head"
    else:
        inside = cell and kind not in UNCLUSTERED
        text = (node.removeprefix(f"{cell}/") if inside else node).replace("/", " ")
    return "\\n".join([text, *ops.get(node, [])])


def _node_attrs(space: SearchSpace, node: str, colours: Mapping[str, str]) -> dict[str, str]:
    data = space.graph.nodes[node]
    attrs = dict(ROLE_STYLES.get(data["kind"], OTHER_ROLE))
    if data["kind"] == NodeKind.TAP:
        attrs["fillcolor"] = colours.get(data.get("modality", ""), PALETTE[0])
    return attrs


def _draw(
    space: SearchSpace,
    edges: Iterable[_Edge],
    ops: Mapping[str, list[str]],
    *,
    live: set[str],
    omit_unused: bool,
    title: str,
    edge_style: Mapping[str, str],
) -> graphviz.Digraph:
    graph = graphviz.Digraph(
        space.name,
        graph_attr={"rankdir": "LR", "label": title, "labelloc": "t", "fontname": FONT,
                    "fontsize": "14", "nodesep": "0.25", "ranksep": "0.45"},
        node_attr={"fontname": FONT, "fontsize": "11", "color": "#444444"},
        edge_attr={"color": "#444444", "arrowsize": "0.7"},
    )
    shown = [n for n in space.graph if n in live or not omit_unused]
    colours = modality_colours(space)
    groups: dict[str, list[str]] = {}  # cluster id ("" = none) -> nodes, in space order
    labels: dict[str, str] = {}
    for node in shown:
        key, label = _cluster(space, node)
        groups.setdefault(key, []).append(node)
        labels[key] = label
    for key, nodes in groups.items():
        if not key:
            _add_nodes(graph, space, nodes, ops, colours, live)
            continue
        with graph.subgraph(name=key) as sub:
            sub.attr(label=labels[key], style="rounded", color="#999999", fontcolor="#333333")
            _add_nodes(sub, space, nodes, ops, colours, live)
    visible = set(shown)
    for e in edges:
        if e.tail in visible and e.head in visible:
            style = edge_style if e.tail in live else FADED_EDGE
            graph.edge(e.tail, e.head, tooltip=e.tooltip, **style)
    _add_order(graph, space, visible)
    return graph


def _add_order(graph: graphviz.Digraph, space: SearchSpace, visible: set[str]) -> None:
    """Invisible edges that draw the nodes in their natural order, as in the paper's Figure 7:
    the taps in one column, top to bottom by modality then stage; before each cell its inputs in
    one column, top to bottom; the steps of a cell and the cells left to right. (Graphviz keeps
    the order of a column reliably only outside clusters, hence taps and inputs are in none.)"""
    for column in _columns(space, visible):
        with graph.subgraph() as sub:
            sub.attr(rank="same")
            for tail, head in itertools.pairwise(column):
                sub.edge(tail, head, **ORDER_EDGE)
    for tail, head in _sequence(space, visible):
        graph.edge(tail, head, **ORDER_EDGE)


def _columns(space: SearchSpace, visible: set[str]) -> list[list[str]]:
    """The visible nodes drawn in one column each, top to bottom: the taps (modalities in order
    of first appearance, then space order), then each cell's inputs."""
    modalities = list(modality_colours(space))
    taps = sorted(space.taps, key=lambda t: modalities.index(space.graph.nodes[t].get("modality", "")))
    columns = [[t for t in taps if t in visible]]
    columns += [_in_cell(space, cell, NodeKind.CELL_INPUT, visible) for cell in space.nodes_of(NodeKind.CELL)]
    return [c for c in columns if len(c) > 1]


def _in_cell(space: SearchSpace, cell: str, kind: NodeKind, visible: set[str]) -> list[str]:
    """The visible nodes of ``kind`` in ``cell``, in space order."""
    return [n for n in space.nodes_of(kind) if space.graph.nodes[n].get("cell") == cell and n in visible]


def _sequence(space: SearchSpace, visible: set[str]) -> list[tuple[str, str]]:
    """Ordering edges left to right: step k -> step k+1 of each cell, and each cell's output ->
    the next cell's first input (between visible nodes only)."""
    pairs: list[tuple[str, str]] = []
    cells = space.nodes_of(NodeKind.CELL)
    for cell in cells:
        pairs += itertools.pairwise(_in_cell(space, cell, NodeKind.STEP, visible))
    for cell, following in itertools.pairwise(cells):
        if cell in visible:
            pairs += [(cell, n) for n in _in_cell(space, following, NodeKind.CELL_INPUT, visible)[:1]]
    return pairs


def _cluster(space: SearchSpace, node: str) -> tuple[str, str]:
    """(cluster id, cluster label) of a node: its cell for the steps and output of a cell; none
    for taps and cell inputs (see :func:`_add_order`)."""
    data = space.graph.nodes[node]
    if data["kind"] in UNCLUSTERED:
        return "", ""
    cell = node if data["kind"] == NodeKind.CELL else data.get("cell")
    if cell:
        return f"cluster_{cell.replace('/', '_')}", cell.replace("/", " ")
    return "", ""


def _add_nodes(
    graph: graphviz.Digraph,
    space: SearchSpace,
    nodes: Iterable[str],
    ops: Mapping[str, list[str]],
    colours: Mapping[str, str],
    live: set[str],
) -> None:
    for node in nodes:
        attrs = _node_attrs(space, node, colours)
        if node not in live:
            attrs.update(FADED_NODE, style=f"{attrs['style']},dashed")
        graph.node(node, label=_label(space, node, ops), tooltip=node, **attrs)
