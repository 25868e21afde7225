"""Builder of the generic cell-based fusion space: taps -> cells of steps -> head."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import networkx as nx

from automm.errors import AutommError
from automm.ir.kinds import NodeKind
from automm.ir.space import INPUT, OP, Choice, SearchSpace, SpaceConfig

CELL_INPUT = "cell-input"
STEP_INPUT = "step-input"
OP_FAMILY = "op"
INPUTS_PER_NODE = 2


@dataclass(frozen=True)
class Tap:
    """A modality feature tap: ``name`` like ``image/1`` with its channel count."""

    name: str
    modality: str
    channels: int


def build_cell_space(
    name: str,
    config: SpaceConfig,
    taps: Sequence[Tap],
    *,
    cells: int,
    steps: int,
    ops: Sequence[str],
) -> SearchSpace:
    """The two-level space: each cell picks 2 inputs among taps and earlier cells;
    each step picks 2 inputs among its cell's inputs and earlier steps, and one op."""
    if cells < 1 or steps < 1:
        raise AutommError(f"space {name!r}: cells and steps must be >= 1 (got {cells}, {steps})")
    if not ops:
        raise AutommError(f"space {name!r}: the op pool is empty")
    if len(set(ops)) != len(ops):
        raise AutommError(f"space {name!r}: the op pool repeats a name: {','.join(ops)}")
    if len(taps) < 1:
        raise AutommError(f"space {name!r}: no feature taps")
    g = nx.DiGraph()
    choices: list[Choice] = []
    for tap in taps:
        g.add_node(tap.name, kind=NodeKind.TAP, modality=tap.modality, channels=tap.channels)
    upper: list[str] = [t.name for t in taps]
    for i in range(1, cells + 1):
        cell = f"cell/{i}"
        inputs = []
        for k in range(1, INPUTS_PER_NODE + 1):
            node = f"{cell}/in/{k}"
            g.add_node(node, kind=NodeKind.CELL_INPUT, cell=cell)
            choices.append(Choice(node, INPUT, CELL_INPUT, node, tuple(upper)))
            g.add_edges_from((u, node, {"choice": node}) for u in upper)
            inputs.append(node)
        lower = list(inputs)
        for j in range(1, steps + 1):
            step = f"{cell}/step/{j}"
            g.add_node(step, kind=NodeKind.STEP, cell=cell)
            for k in range(1, INPUTS_PER_NODE + 1):
                slot = f"{step}/in/{k}"
                choices.append(Choice(slot, INPUT, STEP_INPUT, step, tuple(lower)))
                g.add_edges_from((u, step, {"choice": slot}) for u in lower)
            choices.append(Choice(f"{step}/op", OP, OP_FAMILY, step, tuple(ops)))
            lower.append(step)
        g.add_node(cell, kind=NodeKind.CELL)
        g.add_edges_from((s, cell, {"choice": None}) for s in lower[INPUTS_PER_NODE:])
        upper.append(cell)
    g.add_node("head", kind=NodeKind.HEAD)
    g.add_edges_from((f"cell/{i}", "head", {"choice": None}) for i in range(1, cells + 1))
    return SearchSpace(name, config, g, choices)
