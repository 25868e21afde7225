"""automm search spaces as NNI model spaces, and architectures as NNI samples.

:class:`AutommModelSpace` is an ``nni.nas.nn.pytorch.ModelSpace`` over the same feature taps as
:class:`automm.nn.FusionNetwork`, read from the same plan (:func:`automm.nn.make_plan`): every
op choice is a ``LayerChoice`` over the fusion ops (keys: the op names, ``.`` written ``_`` as in
FusionNetwork) and every input slot an ``InputChoice`` (one of its candidates, in the choice's
order). Labels are automm's choice names (``cell/1/step/1/op``; NNI's label scopes supply the
slashes), and parameter names are FusionNetwork's (``reducers.<tap>``,
``cells.<i>.steps.<j>.<op>``, ``cells.<i>.proj``, ``steps.<step>.<op>``, ``classifier``), so a
derived FusionNetwork loads its weights from a trained NNI supernet.

An NNI sample maps each op label to the op's key and each slot label to ``[index]``
(``InputChoice`` with ``n_chosen=1``).
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import ExitStack
from typing import Any

import torch
from torch import Tensor, nn

from automm import plugins
from automm.errors import ArchitectureError
from automm.ir import Architecture, SearchSpace
from automm.ir.kinds import NodeKind
from automm.ir.space import INPUT
from automm.nn import CellProjection, TapReducer, make_plan
from automm_nni._nni import InputChoice, LayerChoice, ModelSpace, label_scope


def op_key(op: str) -> str:
    """The LayerChoice key (and FusionNetwork module name) of fusion op ``op``."""
    return op.replace(".", "_")


def _labelled(name: str, make: Any) -> Any:
    """``make(last)`` inside NNI label scopes for every ``/``-separated part of ``name`` but the
    last, so that the mutable's label is exactly ``name``."""
    *scopes, last = name.split("/")
    with ExitStack() as stack:
        for scope in scopes:
            stack.enter_context(label_scope(scope))
        return make(last)


class AutommModelSpace(ModelSpace):
    """The NNI model space of an automm :class:`~automm.ir.SearchSpace` (see the module docstring);
    ``forward(taps)`` takes tap name -> ``(B, channels, L')`` and returns class logits."""

    def __init__(self, space: SearchSpace) -> None:
        super().__init__()
        self.space = space
        self.plan = plan = make_plan(space)
        used = {c for node in plan.nodes for slot in node.slots for c in space.choices[slot].candidates}
        used |= {p for node in plan.nodes for p in node.preds}
        self.tap_names = [t for t in plan.taps if t in used]
        self.reducers = nn.ModuleDict({op_key(t): TapReducer(space.graph.nodes[t]["channels"], plan.C, plan.L)
                                       for t in self.tap_names})
        self.inputs = nn.ModuleDict({op_key(slot): self._input_choice(slot)
                                     for node in plan.nodes for slot in node.slots})
        self.cells = nn.ModuleList()
        self._where: dict[str, tuple[int | None, int]] = {}
        for i, cell in enumerate(plan.cells):
            members = [s for s in plan.nodes if s.cell == cell.name]
            self._where.update({cell.name: (i, 0)} | {s.name: (i, j) for j, s in enumerate(members)})
            module = nn.Module()
            module.steps = nn.ModuleList(self._layer_choice(s.op) for s in members)
            module.proj = CellProjection(len(cell.preds), plan.C)
            self.cells.append(module)
        outside = [s for s in plan.nodes if s.kind == NodeKind.STEP and s.cell is None]
        self._where.update({s.name: (None, 0) for s in outside})
        self.steps = nn.ModuleDict({op_key(s.name): self._layer_choice(s.op) for s in outside})
        self.dropout = nn.Dropout(0.0)
        self.classifier = nn.Linear(len(plan.head.preds) * plan.C, plan.num_classes)

    def _input_choice(self, slot: str) -> nn.Module:
        n = len(self.space.choices[slot].candidates)
        return _labelled(slot, lambda last: InputChoice(n, 1, label=last))

    def _layer_choice(self, op_choice: str | None) -> nn.Module:
        assert op_choice is not None
        ops = self.space.choices[op_choice].candidates
        modules = {op_key(op): plugins.fusion_ops.get(op)(self.plan.C, self.plan.L) for op in ops}
        if len(modules) != len(ops):
            raise ArchitectureError(f"choice {op_choice!r}: op names that differ only by '.' and '_'")
        return _labelled(op_choice, lambda last: LayerChoice(modules, label=last))

    def forward(self, taps: Mapping[str, Tensor]) -> Tensor:
        values = {t: self.reducers[op_key(t)](taps[t]) for t in self.tap_names}
        for node in self.plan.nodes:
            chosen = [self.inputs[op_key(slot)]([values[c] for c in self.space.choices[slot].candidates])
                      for slot in node.slots]
            if node.kind == NodeKind.CELL_INPUT:
                values[node.name] = chosen[0]
            elif node.kind == NodeKind.STEP:
                cell, index = self._where[node.name]
                op = self.steps[op_key(node.name)] if cell is None else self.cells[cell].steps[index]
                values[node.name] = op(*chosen)
            elif node.kind == NodeKind.CELL:
                cell, _ = self._where[node.name]
                values[node.name] = self.cells[cell].proj(torch.cat([values[p] for p in node.preds], dim=1))
        h = torch.cat([values[p] for p in self.plan.head.preds], dim=1).mean(dim=-1)
        return self.classifier(self.dropout(h))


def to_model_space(space: SearchSpace) -> AutommModelSpace:
    """The NNI model space of ``space`` (mutables one to one with ``space.choices``)."""
    return AutommModelSpace(space)


def to_sample(arch: Architecture, space: SearchSpace | None = None) -> dict[str, Any]:
    """The NNI sample of ``arch``: op label -> op key, slot label -> ``[candidate index]``."""
    if space is None:
        from automm.ir.architecture import build_space_for

        space = build_space_for(arch)
    arch.validate(space)
    return {name: [c.candidates.index(arch[name])] if c.kind == INPUT else op_key(arch[name])
            for name, c in space.choices.items()}


def to_architecture(space: SearchSpace, sample: Mapping[str, Any], **records: Any) -> Architecture:
    """The automm :class:`Architecture` of an NNI sample (or frozen dict) over ``space``'s model
    space; ``records`` (``strategy``, ``metrics``, ``provenance``) go into arch.json."""
    choices: dict[str, str] = {}
    for name, c in space.choices.items():
        if name not in sample:
            raise ArchitectureError(f"the NNI sample has no value for {name!r}")
        value = sample[name]
        if c.kind == INPUT:
            index = value[0] if isinstance(value, list | tuple) and len(value) == 1 else value
            if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < len(c.candidates):
                raise ArchitectureError(f"{name!r}: {value!r} is not [index] of one of its "
                                        f"{len(c.candidates)} candidates")
            choices[name] = c.candidates[index]
        else:
            keys = [op_key(op) for op in c.candidates]
            if value not in keys:
                raise ArchitectureError(f"{name!r}: {value!r} is not one of {', '.join(keys)}")
            choices[name] = c.candidates[keys.index(value)]
    unknown = sorted(set(sample) - set(space.choices))
    if unknown:
        raise ArchitectureError(f"the NNI sample has label(s) that space {space.name!r} lacks: "
                                f"{', '.join(unknown[:5])}")
    arch = Architecture(space.name, space.config.to_dict(), choices, **records)
    arch.validate(space)
    return arch


def describe(model_space: AutommModelSpace) -> dict[str, Any]:
    """The mutables of an NNI model space as JSON: label -> kind, values and (for an input
    choice, whose values are indices) the automm candidates they stand for."""
    out: dict[str, Any] = {}
    for label, mutable in model_space.simplify().items():
        choice = model_space.space.choices[label]
        out[label] = {"kind": "LayerChoice", "values": list(mutable.values)}
        if choice.kind == INPUT:
            out[label] = {"kind": "InputChoice", "values": list(mutable.values),
                          "candidates": list(choice.candidates)}
    return out
