"""One video -> the backbones' inputs: decoded frames and audio, aligned face crops, spectrogram.

The single preprocessing path of ``automm extract``, ``automm predict`` and exported detectors;
its :meth:`Preprocessor.spec` is what an exported detector records and checks on loading.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable
from typing import Any

import torch

from automm_media.audio import FRAMES, N_FFT, LogSpectrogram
from automm_media.decode import load_clip
from automm_media.faces import FaceAligner

INPUTS = {
    "image": "RGB face crops in [0, 1] (batch, frames, 3, crop, crop), aligned to the 5-point "
             "template, frames uniformly spaced over the video",
    "audio": "log-power spectrogram (batch, 1, 257, 300) of the first 3 s at 16 kHz, in dB "
             "(top 80 dB), standardised per clip",
}
"""What each modality's input holds."""


class Preprocessor:
    """Video file -> ``{modality: (1, ...) float32 tensor}`` for ``modalities`` (``image``: face
    crops ``(1, frames, 3, crop, crop)`` in [0, 1]; ``audio``: a ``(1, 1, 257, 300)`` spectrogram).
    Unusable videos raise :class:`automm_media.decode.SkipVideo`. ``seconds`` adds up the time
    spent decoding and making the inputs."""

    def __init__(self, modalities: Iterable[str], *, frames: int, crop: int, min_seconds: float,
                 device: str | torch.device = "cpu") -> None:
        self.modalities = tuple(modalities)
        self.frames, self.crop, self.min_seconds = frames, crop, min_seconds
        self.device = torch.device(device)
        self.aligner = FaceAligner(crop, device=self.device)
        self.spectrogram = LogSpectrogram().to(self.device)
        self.seconds = {"decode": 0.0, "faces": 0.0}

    def shapes(self) -> dict[str, tuple[int, ...]]:
        """Each input's shape without the batch dimension."""
        every = {"image": (self.frames, 3, self.crop, self.crop), "audio": (1, N_FFT // 2 + 1, FRAMES)}
        return {m: every[m] for m in self.modalities}

    def spec(self) -> dict[str, Any]:
        """Everything that determines the inputs: frames, crop, shortest video, face and audio front ends."""
        return {"frames": self.frames, "crop": self.crop, "min_seconds": self.min_seconds,
                "frame_sampling": "uniform: the centres of `frames` equal segments of the video",
                "face": self.aligner.describe(), "audio": LogSpectrogram.describe()}

    @torch.inference_mode()
    def __call__(self, path: str | os.PathLike[str]) -> dict[str, torch.Tensor]:
        t0 = time.perf_counter()
        clip = load_clip(path, self.frames, min_seconds=self.min_seconds)
        t1 = time.perf_counter()
        inputs = {}
        if "image" in self.modalities:
            inputs["image"] = self.aligner(clip.frames).unsqueeze(0)
        if "audio" in self.modalities:
            inputs["audio"] = self.spectrogram(torch.from_numpy(clip.audio).to(self.device)).unsqueeze(0)
        self.seconds["decode"] += t1 - t0
        self.seconds["faces"] += time.perf_counter() - t1
        return inputs
