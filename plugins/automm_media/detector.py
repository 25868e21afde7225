"""The whole detector after preprocessing as one module: backbone inputs -> P(fake).

Each modality's backbone makes its taps, the fusion network maps the taps it uses to class
logits, a softmax gives P(fake). ``automm predict`` runs it in-process; ``automm export`` traces
it into TorchScript and ONNX.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import Tensor, nn

from automm.errors import DataError
from automm.nn.network import FusionNetwork
from automm_media.classes import FAKE


class Detector(nn.Module):
    """``forward(*inputs)`` -> P(fake) ``(batch,)``: one input tensor (batch first) per entry of
    ``modalities``, the modalities of ``backbones`` that make a tap the network reads (a
    modality the architecture does not use is neither an input nor computed)."""

    def __init__(self, backbones: Mapping[str, nn.Module], network: FusionNetwork) -> None:
        super().__init__()
        made = {tap: m for m, b in backbones.items() for tap, _ in b.taps}
        missing = [t for t in network.taps if t not in made]
        if missing:
            raise DataError(f"the backbones give no tap(s) {', '.join(missing)}")
        self.modalities = [m for m in backbones if m in {made[t] for t in network.taps}]
        self.backbones = nn.ModuleDict({m: backbones[m] for m in self.modalities})
        self.network = network
        self.taps = network.taps

    def forward(self, *inputs: Tensor) -> Tensor:
        feats: dict[str, Tensor] = {}
        for modality, x in zip(self.modalities, inputs, strict=True):
            feats.update(self.backbones[modality](x))
        logits = self.network({t: feats[t] for t in self.taps})
        return torch.softmax(logits, dim=-1)[:, FAKE]
