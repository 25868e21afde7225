"""Torch modules built from the IR: the supernet and the derived network.

One class serves both: without an architecture every candidate is present and each
choice is a weighted mixture (weights supplied per forward by the strategy); with an
architecture only the chosen candidates are built. Parameter names are identical in
both, so a derived network can load the matching subset of a supernet's weights.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from automm.errors import ArchitectureError
from automm.ir.architecture import Architecture
from automm.ir.kinds import NodeKind
from automm.ir.space import SearchSpace
from automm.nn.plan import Node, Plan, make_plan

OpFactory = Callable[[int, int], nn.Module]


def _registry_factory(name: str) -> OpFactory:
    from automm import plugins

    return plugins.fusion_ops.get(name)


class TapReducer(nn.Module):
    """Pool a tap ``(B, channels, L')`` to ``L`` positions, then 1x1 conv + BN + ReLU to ``C``."""

    def __init__(self, channels: int, C: int, L: int) -> None:
        super().__init__()
        self.L = L
        self.conv = nn.Conv1d(channels, C, 1, bias=False)
        self.bn = nn.BatchNorm1d(C)

    def forward(self, x: Tensor) -> Tensor:
        if x.shape[-1] != self.L:
            x = F.adaptive_avg_pool1d(x, self.L)
        return F.relu(self.bn(self.conv(x)))


class CellProjection(nn.Module):
    """Concatenated step outputs ``(B, steps*C, L)`` projected back to ``(B, C, L)``."""

    def __init__(self, steps: int, C: int) -> None:
        super().__init__()
        self.conv = nn.Conv1d(steps * C, C, 1, bias=False)
        self.bn = nn.BatchNorm1d(C)

    def forward(self, x: Tensor) -> Tensor:
        return F.relu(self.bn(self.conv(x)))


def _mix(weights: Tensor, values: list[Tensor], per_example: bool = False) -> Tensor:
    """sum_k weights[..., k] * values[k] as one matrix product.

    ``weights`` is ``(K,)`` or ``(J, K)`` (J mixtures of the same values), shared by the batch;
    with ``per_example`` it is ``(B, K)`` or ``(J, B, K)``: example b mixes its own values.
    """
    stacked = torch.stack(values)  # (K, B, ...)
    flat = stacked.flatten(2) if per_example else stacked.flatten(1)
    w = weights.to(stacked.dtype)
    if per_example:
        mixed = torch.einsum("...bk,kbn->...bn", w, flat)
        return mixed.view(*weights.shape[:-1], *stacked.shape[2:])
    mixed = w @ flat
    return mixed.view(*weights.shape[:-1], *stacked.shape[1:])


@dataclass(frozen=True)
class Route:
    """Hard one-hot weights of one choice as indices (see :func:`routes`).

    ``shared``: the candidate of every example, else ``None`` and, per example, ``flat`` (the row
    of its candidate's value in the ``(K*B, ...)`` stack of candidate values), ``order`` (the
    examples sorted by candidate, stably), ``inverse`` (its inverse permutation) and ``counts``
    (examples per candidate: candidate k takes the k-th chunk of ``order``).
    """

    shared: int | None
    flat: Tensor | None = None
    order: Tensor | None = None
    inverse: Tensor | None = None
    counts: tuple[int, ...] = ()


def routes(weights: Mapping[str, Tensor], batch: int) -> dict[str, Route]:
    """The :class:`Route` of every choice of hard one-hot ``weights`` (``(K,)`` or ``(B, K)``)
    for a batch of ``batch`` examples: a few tensor ops for all choices together and one host
    synchronisation."""
    if not weights:
        return {}
    width = max(w.shape[-1] for w in weights.values())
    index = torch.stack([w.detach().argmax(-1).expand(batch) for w in weights.values()])  # (G, B)
    counts = F.one_hot(index, width).sum(1).tolist()
    order = torch.argsort(index, dim=-1, stable=True)
    rows = torch.arange(batch, device=index.device).expand_as(order)
    inverse = torch.empty_like(order).scatter_(1, order, rows)
    flat = index * batch + rows
    out = {}
    for (name, w), n, f, o, i in zip(weights.items(), counts, flat.unbind(), order.unbind(), inverse.unbind(),
                                     strict=True):
        n = n[:w.shape[-1]]
        out[name] = Route(n.index(batch)) if max(n) == batch else Route(None, f, o, i, tuple(n))
    return out


def _gather(candidates: list[Tensor], route: list[Route], order: Tensor | None = None) -> list[Tensor]:
    """Per slot (its ``route``), each example's chosen value among the slots' common
    ``candidates``: one stack and one gather for all the per-example slots. With ``order`` (a
    permutation of the examples), the rows of every value come in that order, composed into the
    same gather (the order of a step's per-example op route, :meth:`FusionNetwork._routed_step`)."""
    rows = [r.flat if order is None else r.flat.index_select(0, order) for r in route if r.flat is not None]
    gathered = iter(torch.stack(candidates).flatten(0, 1).index_select(0, torch.cat(rows)).chunk(len(rows))
                    if rows else ())

    def shared(value: Tensor) -> Tensor:
        return value if order is None else value.index_select(0, order)

    return [shared(candidates[r.shared]) if r.shared is not None else next(gathered) for r in route]


def _batch_coupled(op: nn.Module) -> bool:
    """Whether ``op``'s output for an example depends on the other examples (batch norm)."""
    return any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in op.modules())


def _module_dict(modules: dict[str, nn.Module]) -> nn.ModuleDict:
    """``modules`` keyed by their node or op names (a ``.``, which torch forbids, becomes ``_``)."""
    out = nn.ModuleDict()
    for name, module in modules.items():
        key = name.replace(".", "_")
        if key in out:
            raise ArchitectureError(f"names {name!r} and another differ only by '.' and '_'")
        out[key] = module
    return out


def _groups(plan: Plan, space: SearchSpace) -> list[list[Node]]:
    """The computed nodes in order, consecutive cell-input nodes over the same candidates in one
    group (mixed from one stack in the supernet); the head is left out."""
    out: list[list[Node]] = []
    for node in plan.nodes:
        last = out[-1][0] if out else None
        if (node.kind == NodeKind.CELL_INPUT and last is not None and last.kind == NodeKind.CELL_INPUT
                and space.choices[last.slots[0]].candidates == space.choices[node.slots[0]].candidates):
            out[-1].append(node)
        elif node is not plan.head:
            out.append([node])
    return out


class FusionNetwork(nn.Module):
    """Taps -> reducers -> cells of fusion steps -> head (pool, dropout, linear), read from the
    space's graph (node kinds, edges and their choices: :mod:`automm.nn.plan`).

    ``forward(taps, weights=None)``: ``taps`` maps tap names to ``(B, channels, L')``;
    ``weights`` maps each choice name to its weights over its candidates (supernet only):
    ``(K,)`` shared by the batch or ``(B, K)`` per example; ``hard=True`` says they are one-hot
    and runs only the chosen candidates (:meth:`features`).
    """

    def __init__(
        self,
        space: SearchSpace,
        architecture: Architecture | None = None,
        *,
        dropout: float = 0.0,
        op_factory: Callable[[str], OpFactory] = _registry_factory,
    ) -> None:
        super().__init__()
        self.space = space
        self.fixed: dict[str, str] | None = None
        if architecture is not None:
            architecture.validate(space)
            self.fixed = dict(architecture.choices)
        self.plan = plan = make_plan(space)
        self.C, self.L = plan.C, plan.L
        self._groups = _groups(plan, self.space)
        self._taps = self._used_taps()
        self.reducers = _module_dict({
            t: TapReducer(space.graph.nodes[t]["channels"], self.C, self.L) for t in self._taps})
        self._ops: dict[str, nn.ModuleDict] = {}
        self._coupled: dict[str, list[bool]] = {}
        self._proj: dict[str, nn.Module] = {}
        self.cells = nn.ModuleList()
        for cell in plan.cells:
            module = nn.Module()
            module.steps = nn.ModuleList(self._op_modules(s, op_factory)
                                         for s in plan.nodes if s.cell == cell.name)
            module.proj = self._proj[cell.name] = CellProjection(len(cell.preds), self.C)
            self.cells.append(module)
        self.steps = _module_dict({s.name: self._op_modules(s, op_factory)
                                   for s in plan.nodes if s.kind == NodeKind.STEP and s.cell is None})
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(len(plan.head.preds) * self.C, plan.num_classes)

    @property
    def taps(self) -> list[str]:
        """The input taps the network reads: those of its architecture (the supernet: every tap)."""
        return list(self._taps)

    def _candidates(self, choice: str) -> tuple[str, ...]:
        if self.fixed is not None:
            return (self.fixed[choice],)
        return self.space.choices[choice].candidates

    def _op_modules(self, step: Node, op_factory: Callable[[str], OpFactory]) -> nn.ModuleDict:
        assert step.op is not None
        ops = self._ops[step.name] = _module_dict(
            {op: op_factory(op)(self.C, self.L) for op in self._candidates(step.op)})
        self._coupled[step.name] = [_batch_coupled(op) for op in ops.values()]
        return ops

    def _used_taps(self) -> list[str]:
        used = {c for node in self.plan.nodes for slot in node.slots for c in self._candidates(slot)}
        used |= {p for node in self.plan.nodes for p in node.preds}
        return [t for t in self.plan.taps if t in used]

    def _select(self, slots: tuple[str, ...], values: Mapping[str, Tensor],
                weights: Mapping[str, Tensor] | None, route: Mapping[str, Route] | None = None,
                order: Tensor | None = None) -> list[Tensor]:
        """The values of a node's input slots; in the supernet, slots over the same candidates
        are mixed together (one stack of the candidates for all of them), or, with the ``route``
        of hard weights, each example's chosen candidate is gathered (rows in ``order`` if given:
        see :func:`_gather`)."""
        if self.fixed is not None:
            return [values[self.fixed[slot]] for slot in slots]
        if weights is None:
            raise ArchitectureError("the supernet needs architecture weights for every forward")
        groups: dict[tuple[str, ...], list[str]] = {}
        for slot in slots:
            groups.setdefault(self.space.choices[slot].candidates, []).append(slot)
        out: dict[str, Tensor] = {}
        for cands, names in groups.items():
            if route is not None:
                out.update(zip(names, _gather([values[c] for c in cands], [route[n] for n in names], order),
                               strict=True))
                continue
            w = torch.stack([weights[n] for n in names])
            mixed = _mix(w, [values[c] for c in cands], per_example=w.dim() == 3)
            out.update(zip(names, mixed.unbind(0), strict=True))
        return [out[slot] for slot in slots]

    def _routed_step(self, node: Node, values: Mapping[str, Tensor], weights: Mapping[str, Tensor],
                     route: Mapping[str, Route]) -> Tensor:
        """A step's output under hard weights: each op runs only on the examples that chose it
        (the inputs are gathered in the order of the op route, sorted by op, in one gather).
        A batch-coupled op (batch norm in training) runs on the whole batch, chosen or not, as in
        the full mixture, and only its chosen rows are kept."""
        assert node.op is not None
        ops = list(self._ops[node.name].values())
        coupled = self._coupled[node.name] if self.training else [False] * len(ops)
        op_route = route[node.op]
        if op_route.shared is not None:
            x, y = self._select(node.slots, values, weights, route)
            outs = [op(x, y) if k == op_route.shared or c else None
                    for k, (op, c) in enumerate(zip(ops, coupled, strict=True))]
            out = outs[op_route.shared]
        else:
            assert op_route.order is not None and op_route.inverse is not None
            xs, ys = self._select(node.slots, values, weights, route, op_route.order)
            # one split per input (backward: one concatenation, not a zero-padded gradient per op)
            chunks = zip(xs.split(op_route.counts), ys.split(op_route.counts), strict=True)
            parts, start = [], 0
            for op, c, n, (x, y) in zip(ops, coupled, op_route.counts, chunks, strict=True):
                if c:
                    parts.append(op(xs, ys)[start:start + n])
                elif n:
                    parts.append(op(x, y))
                start += n
            out = torch.cat(parts).index_select(0, op_route.inverse)
        assert out is not None
        return out

    def features(self, taps: Mapping[str, Tensor], weights: Mapping[str, Tensor] | None = None,
                 *, hard: bool = False) -> Tensor:
        """The concatenated inputs of the head ``(B, N*C, L)`` (N: its predecessors).

        ``hard``: the supernet's weights are one-hot (per example or shared) and need no gradient
        (a weight step of a single-path strategy). Each candidate then runs only on the examples
        that chose it, unchosen ones not at all; outputs and gradients of the network weights are
        those of the full mixture. (The gradient of the weights themselves needs every
        candidate's output: architecture steps run the full mixture.)"""
        values: dict[str, Tensor] = {}
        route = None
        if hard and self.fixed is None and weights is not None:
            if any(w.requires_grad for w in weights.values()):
                raise ArchitectureError("hard=True is for weights that need no gradient (their gradient "
                                        "needs every candidate's output)")
            route = routes(weights, next(iter(taps.values())).shape[0])
        for name, reducer in zip(self._taps, self.reducers.values(), strict=True):
            try:
                values[name] = reducer(taps[name])
            except KeyError:
                raise ArchitectureError(f"input tap {name!r} is missing") from None
        for group in self._groups:
            node = group[0]
            if node.kind == NodeKind.CELL_INPUT:
                slots = tuple(n.slots[0] for n in group)
                values.update(zip((n.name for n in group), self._select(slots, values, weights, route),
                                  strict=True))
            elif node.kind == NodeKind.STEP and route is not None:
                values[node.name] = self._routed_step(node, values, weights, route)  # type: ignore[arg-type]
            elif node.kind == NodeKind.STEP:
                x, y = self._select(node.slots, values, weights)
                ops = self._ops[node.name]
                if self.fixed is not None:
                    values[node.name] = next(iter(ops.values()))(x, y)
                else:
                    w = weights[node.op]  # type: ignore[index]
                    values[node.name] = _mix(w, [op(x, y) for op in ops.values()], per_example=w.dim() == 2)
            elif node.kind == NodeKind.CELL:
                values[node.name] = self._proj[node.name](torch.cat([values[p] for p in node.preds], dim=1))
        return torch.cat([values[p] for p in self.plan.head.preds], dim=1)

    def forward(self, taps: Mapping[str, Tensor], weights: Mapping[str, Tensor] | None = None,
                *, hard: bool = False) -> Tensor:
        """Class logits ``(B, num_classes)`` (``hard``: see :meth:`features`)."""
        h = self.features(taps, weights, hard=hard).mean(dim=-1)
        return self.classifier(self.dropout(h))


def count_parameters(module: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad)
