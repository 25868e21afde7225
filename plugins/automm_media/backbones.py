"""ResNet-34 backbones (torchvision, never downloaded) exposing their 4 stages as taps.

Image: face crops ``(B, K, 3, S, S)``; each stage output is averaged over space per frame,
frames form the time axis. Audio: spectrograms ``(B, 1, 257, 300)``; each stage output is
averaged over frequency, time stays. Every tap is pooled to ``L`` positions: ``(B, ch, L)``.
"""

from __future__ import annotations

import copy
import hashlib
import os
import warnings
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
import torchvision
from torch import nn

from automm.errors import DataError
from automm_media.weights import load_state_dict_file, mismatch

STAGE_CHANNELS = (64, 128, 256, 512)
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def random_init_label(seed: int) -> str:
    """How the manifest and reports name randomly initialised weights."""
    return f"random-init (seed {seed})"


def file_sha256(path: str | os.PathLike[str]) -> str:
    """sha256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def state_sha256(module: nn.Module) -> str:
    """sha256 over a module's parameters and buffers (names, shapes, bytes)."""
    h = hashlib.sha256()
    for name, t in sorted(module.state_dict().items()):
        h.update(f"{name}:{tuple(t.shape)}:{t.dtype}".encode())
        h.update(t.detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()


class ResNet34Taps(nn.Module):
    """A torchvision ResNet-34 trunk whose 4 stage outputs are the taps ``{modality}/1..4``.

    ``weights``: a local state-dict file (torchvision key names, :mod:`automm_media.weights`;
    ``fc.*`` is ignored; for a 1-channel input a 3-channel ``conv1`` is summed over its input
    channels), or None for a
    random initialisation drawn with ``seed`` (the global RNG is left untouched).
    Always in eval mode: batch norm uses the stored statistics.
    """

    def __init__(self, modality: str, in_channels: int, L: int = 16,
                 weights: str | os.PathLike[str] | None = None, seed: int = 0) -> None:
        super().__init__()
        self.modality, self.L = modality, L
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            net = torchvision.models.resnet34(weights=None)
            if in_channels != 3:
                net.conv1 = nn.Conv2d(in_channels, 64, 7, 2, 3, bias=False)
                nn.init.kaiming_normal_(net.conv1.weight, mode="fan_out", nonlinearity="relu")
        net.fc = nn.Identity()
        if weights is not None:
            state = {k: v for k, v in load_state_dict_file(weights).items() if not k.startswith("fc.")}
            conv = state.get("conv1.weight")
            if conv is not None and conv.ndim == 4 and conv.shape[1] == 3 and in_channels == 1:
                state["conv1.weight"] = conv.sum(dim=1, keepdim=True)
            problem = mismatch(state, in_channels)
            if problem:
                raise DataError(f"{weights}: not ResNet-34 weights for {modality}: {problem} (automm weights "
                                "convert maps torchvision and AutoSpeech checkpoints to torchvision's keys)")
            net.load_state_dict(state, strict=True)
            self.weights_label = str(Path(weights).resolve())
        else:
            self.weights_label = random_init_label(seed)
        self.net = net
        self.taps = [(f"{modality}/{i}", ch) for i, ch in enumerate(STAGE_CHANNELS, start=1)]
        self.blocked = False
        self.eval()

    def train(self, mode: bool = True) -> ResNet34Taps:
        """Stays in eval mode (frozen feature extractor)."""
        return super().train(False)

    def inference_copy(self) -> ResNet34Taps:
        """A copy for CPU inference that runs the trunk in oneDNN's blocked layout with prepacked
        weights (:func:`torch.utils.mkldnn.to_mkldnn`): about 15% faster, the same operations
        (equal results within float rounding); not for training, tracing or export."""
        fast = copy.deepcopy(self)
        with warnings.catch_warnings():  # its modules are TorchScript ones, a deprecated API
            warnings.simplefilter("ignore", DeprecationWarning)
            from torch.utils.mkldnn import to_mkldnn

            fast.net = to_mkldnn(fast.net)
        fast.blocked = True
        return fast

    def stages(self, x: torch.Tensor) -> list[torch.Tensor]:
        """The 4 stage outputs for a batch of 2-D inputs."""
        n = self.net
        x = n.maxpool(n.relu(n.bn1(n.conv1(x.contiguous().to_mkldnn() if self.blocked else x))))
        out = []
        for layer in (n.layer1, n.layer2, n.layer3, n.layer4):
            x = layer(x)
            out.append(x.to_dense() if self.blocked else x)
        return out

    def describe(self) -> dict[str, Any]:
        """The manifest record: architecture, weights and their fingerprint."""
        return {"arch": "torchvision resnet34", "weights": self.weights_label,
                "sha256": state_sha256(self.net), "params": sum(p.numel() for p in self.net.parameters()),
                "L": self.L}


class ImageBackbone(ResNet34Taps):
    """Face crops ``(B, K, 3, S, S)`` in [0, 1] -> taps ``image/1..4`` ``(B, ch, L)``."""

    def __init__(self, L: int = 16, weights: str | os.PathLike[str] | None = None, seed: int = 0) -> None:
        super().__init__("image", 3, L, weights, seed)
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), persistent=False)

    def example_input(self, batch: int) -> torch.Tensor:
        """``batch`` clips of 2 random 64-pixel face crops in [0, 1]."""
        return torch.rand(batch, 2, 3, 64, 64)

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        b, k = x.shape[:2]
        x = (x.flatten(0, 1) - self.mean) / self.std
        out = {}
        for (name, ch), y in zip(self.taps, self.stages(x), strict=True):
            per_frame = y.mean(dim=(2, 3)).view(b, k, ch).transpose(1, 2)
            out[name] = F.adaptive_avg_pool1d(per_frame, self.L)
        return out


class AudioBackbone(ResNet34Taps):
    """Spectrograms ``(B, 1, 257, T)`` -> taps ``audio/1..4`` ``(B, ch, L)``."""

    def __init__(self, L: int = 16, weights: str | os.PathLike[str] | None = None, seed: int = 0) -> None:
        super().__init__("audio", 1, L, weights, seed)

    def example_input(self, batch: int) -> torch.Tensor:
        """``batch`` random log spectrograms of 257 bins by 100 frames."""
        return torch.randn(batch, 1, 257, 100)

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        return {name: F.adaptive_avg_pool1d(y.mean(dim=2), self.L)
                for (name, _), y in zip(self.taps, self.stages(x), strict=True)}
