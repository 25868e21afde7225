"""Torch modules built from the IR: the supernet and the derived network.

One class serves both: without an architecture every candidate is present and each
choice is a weighted mixture (weights supplied per forward by the strategy); with an
architecture only the chosen candidates are built. Parameter names are identical in
both, so a derived network can load the matching subset of a supernet's weights.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from automm.errors import ArchitectureError
from automm.ir.architecture import Architecture
from automm.ir.space import SearchSpace

OpFactory = Callable[[int, int], nn.Module]


def _registry_factory(name: str) -> OpFactory:
    from automm import registry

    return registry.fusion_ops.get(name)


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


class FusionNetwork(nn.Module):
    """Taps -> reducers -> cells of fusion steps -> head (pool, dropout, linear).

    ``forward(taps, weights=None)``: ``taps`` maps tap names to ``(B, channels, L')``;
    ``weights`` maps each choice name to its weights over its candidates (supernet only):
    ``(K,)`` shared by the batch or ``(B, K)`` per example.
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
        cfg = space.config
        self.space = space
        self.C, self.L = int(cfg.C), int(cfg.L)  # type: ignore[attr-defined]
        num_classes = int(getattr(cfg, "num_classes", 2))
        self.fixed: dict[str, str] | None = None
        if architecture is not None:
            architecture.validate(space)
            self.fixed = dict(architecture.choices)
        self._plan = self._make_plan()
        taps = self._used_taps()
        self.reducers = nn.ModuleDict({
            t: TapReducer(space.graph.nodes[t]["channels"], self.C, self.L) for t in taps})
        self.cells = nn.ModuleList()
        for cell in space.cells:
            steps = space.steps(cell)
            module = nn.Module()
            module.steps = nn.ModuleList(
                nn.ModuleDict({op: op_factory(op)(self.C, self.L) for op in self._ops(s)})
                for s in steps)
            module.proj = CellProjection(len(steps), self.C)
            self.cells.append(module)
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(len(space.cells) * self.C, num_classes)

    def _candidates(self, choice: str) -> tuple[str, ...]:
        if self.fixed is not None:
            return (self.fixed[choice],)
        return self.space.choices[choice].candidates

    def _ops(self, step: str) -> tuple[str, ...]:
        return self._candidates(f"{step}/op")

    def _make_plan(self) -> list[tuple[str, list[tuple[str, str, str]]]]:
        plan = []
        for cell in self.space.cells:
            steps = [(s, f"{s}/in/1", f"{s}/in/2") for s in self.space.steps(cell)]
            plan.append((cell, steps))
        return plan

    def _used_taps(self) -> list[str]:
        taps = set(self.space.taps)
        used = {c for cell in self.space.cells for k in (1, 2)
                for c in self._candidates(f"{cell}/in/{k}")}
        return [t for t in self.space.taps if t in taps & used]

    def _select(self, slots: tuple[str, ...], values: Mapping[str, Tensor],
                weights: Mapping[str, Tensor] | None) -> list[Tensor]:
        """The values of a node's input slots; in the supernet, slots over the same candidates
        are mixed together (one stack of the candidates for all of them)."""
        if self.fixed is not None:
            return [values[self.fixed[slot]] for slot in slots]
        if weights is None:
            raise ArchitectureError("the supernet needs architecture weights for every forward")
        groups: dict[tuple[str, ...], list[str]] = {}
        for slot in slots:
            groups.setdefault(self.space.choices[slot].candidates, []).append(slot)
        out: dict[str, Tensor] = {}
        for cands, names in groups.items():
            w = torch.stack([weights[n] for n in names])
            mixed = _mix(w, [values[c] for c in cands], per_example=w.dim() == 3)
            out.update(zip(names, mixed.unbind(0), strict=True))
        return [out[slot] for slot in slots]

    def features(self, taps: Mapping[str, Tensor],
                 weights: Mapping[str, Tensor] | None = None) -> Tensor:
        """The concatenated cell outputs ``(B, N*C, L)``."""
        values: dict[str, Tensor] = {}
        for name, reducer in self.reducers.items():
            try:
                values[name] = reducer(taps[name])
            except KeyError:
                raise ArchitectureError(f"input tap {name!r} is missing") from None
        outputs = []
        for (cell, steps), module in zip(self._plan, self.cells, strict=True):
            cell_slots = (f"{cell}/in/1", f"{cell}/in/2")
            values.update(zip(cell_slots, self._select(cell_slots, values, weights), strict=True))
            step_outs = []
            for (step, in1, in2), ops in zip(steps, module.steps, strict=True):
                x, y = self._select((in1, in2), values, weights)
                if self.fixed is not None:
                    out = next(iter(ops.values()))(x, y)
                else:
                    w = weights[f"{step}/op"]
                    out = _mix(w, [op(x, y) for op in ops.values()], per_example=w.dim() == 2)
                values[step] = out
                step_outs.append(out)
            values[cell] = module.proj(torch.cat(step_outs, dim=1))
            outputs.append(values[cell])
        return torch.cat(outputs, dim=1)

    def forward(self, taps: Mapping[str, Tensor],
                weights: Mapping[str, Tensor] | None = None) -> Tensor:
        """Class logits ``(B, num_classes)``."""
        h = self.features(taps, weights).mean(dim=-1)
        return self.classifier(self.dropout(h))


def count_parameters(module: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad)
