"""The DARTS strategy (see :mod:`automm_darts` for what it does and why)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from automm.ir import Choice, SearchSpace
from automm.strategy import Strategy
from automm_darts import OPTIONS


@dataclass(frozen=True)
class _Layout:
    """Where each choice's logits sit in one padded ``(choices, max candidates)`` matrix."""

    sizes: tuple[int, ...]
    gather: Tensor  # (G, Kmax) indices into cat(flat logits, [-inf]); padding -> the last entry
    scatter: Tensor  # (sum K,) indices into the flattened (G, Kmax) matrix, choice by choice


def _layout(sizes: tuple[int, ...], device: torch.device) -> _Layout:
    total, width = sum(sizes), max(sizes)
    gather = torch.full((len(sizes), width), total, dtype=torch.long)
    scatter, start = [], 0
    for row, k in enumerate(sizes):
        gather[row, :k] = torch.arange(start, start + k)
        scatter.extend(range(row * width, row * width + k))
        start += k
    return _Layout(sizes, gather.to(device), torch.tensor(scatter, device=device))


class DartsStrategy(Strategy):
    """DARTS: ``w = softmax(phi)`` for every choice, in training and evaluation."""

    name = "darts"
    options = OPTIONS

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        self._layouts: dict[tuple, _Layout] = {}

    def relax(self, logits: Tensor, training: bool, batch: int | None = None) -> Tensor:
        """Weights from logits over the last dimension; any leading dimensions are independent
        choices. Entries of ``-inf`` (padding) must get weight 0. A relaxation with weights per
        example returns them with a leading ``batch`` dimension."""
        return torch.softmax(logits, dim=-1)

    def weights(self, choice: Choice, logits: Tensor, training: bool,
                batch: int | None = None) -> Tensor:
        return self.relax(logits, training, batch)

    def all_weights(self, space: SearchSpace, logits: Mapping[str, Tensor], training: bool,
                    batch: int | None = None) -> dict[str, Tensor]:
        """Every choice in one :meth:`relax` call: the logits are padded with ``-inf`` into one
        ``(choices, max candidates)`` matrix, relaxed row by row, and split back."""
        names = tuple(space.choices)
        flat = torch.cat([logits[n] for n in names])
        sizes = tuple(len(space.choices[n].candidates) for n in names)
        key = (sizes, flat.device)
        layout = self._layouts.get(key)
        if layout is None:
            layout = self._layouts[key] = _layout(sizes, flat.device)
        padded = torch.cat([flat, flat.new_full((1,), float("-inf"))])[layout.gather]
        w = self.relax(padded, training, batch).flatten(-2)[..., layout.scatter]
        return dict(zip(names, w.split(layout.sizes, dim=-1), strict=True))
