"""Fusion operations of Table 1 of the STGS-BMNAS paper: zero, sum, attention, linear-glu, concat-fc.

Each op maps ``(x, y)``, both ``(B, C, L)``, to ``(B, C, L)``.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn


class FusionOp(nn.Module):
    """A fusion op ``(x, y) -> z``, all ``(B, C, L)``, constructed from ``(C, L)``."""

    def __init__(self, C: int, L: int) -> None:
        super().__init__()


class Zero(FusionOp):
    """zero(x, y) = 0: the step contributes nothing."""

    def forward(self, x: Tensor, y: Tensor) -> Tensor:
        return torch.zeros_like(x)


class Sum(FusionOp):
    """sum(x, y) = x + y."""

    def forward(self, x: Tensor, y: Tensor) -> Tensor:
        return x + y


class Attention(FusionOp):
    """Scaled dot-product attention over the L positions: queries from x, keys and values from y."""

    def __init__(self, C: int, L: int) -> None:
        super().__init__(C, L)
        self.scale = 1.0 / math.sqrt(C)

    def forward(self, x: Tensor, y: Tensor) -> Tensor:
        scores = torch.bmm(x.transpose(1, 2), y) * self.scale  # (B, Lq, Lk)
        return torch.bmm(y, scores.softmax(dim=-1).transpose(1, 2))  # (B, C, Lq)


class LinearGLU(FusionOp):
    """linear-glu(x, y) = (x W1) * sigmoid(y W2), linear maps over channels."""

    def __init__(self, C: int, L: int) -> None:
        super().__init__(C, L)
        self.value = nn.Conv1d(C, C, 1)
        self.gate = nn.Conv1d(C, C, 1)

    def forward(self, x: Tensor, y: Tensor) -> Tensor:
        return self.value(x) * torch.sigmoid(self.gate(y))


class ConcatFC(FusionOp):
    """concat-fc(x, y) = ReLU(W [x; y] + b), a linear map of the channel concatenation."""

    def __init__(self, C: int, L: int) -> None:
        super().__init__(C, L)
        self.fc = nn.Conv1d(2 * C, C, 1)

    def forward(self, x: Tensor, y: Tensor) -> Tensor:
        return torch.relu(self.fc(torch.cat([x, y], dim=1)))
