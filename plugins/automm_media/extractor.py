"""The per-video feature extractor and the settings that determine its features."""

from __future__ import annotations

import functools
import hashlib
import json
import os
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

import automm
from automm.errors import DataError
from automm.schema import boolean, dataclass_schema, integer, list_of, map_of, number, obj, optional, string
from automm.train.settings import SEED
from automm_media.audio import LogSpectrogram
from automm_media.backbone_set import DEFAULT_BACKBONES, build_backbone, check_backbones, describe
from automm_media.decode import SkipVideo
from automm_media.preprocess import Preprocessor

EXTRACTOR = "automm_media/1"


@dataclass(frozen=True)
class ExtractSettings:
    """Everything that determines the features of one video.

    ``backbones``: ``(modality, backbone name)`` pairs; ``weights``: ``(modality, file)`` pairs
    (modalities without one are randomly initialised with ``seed`` + their position).
    ``image_weights``/``audio_weights`` (the first form) are folded into ``weights``.
    """

    frames: int = 8
    crop: int = 112
    positions: int = 16
    min_seconds: float = 1.0
    seed: int = 0
    image_weights: str | None = None
    audio_weights: str | None = None
    backbones: tuple[tuple[str, str], ...] = DEFAULT_BACKBONES
    weights: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        if self.frames < 1 or self.crop < 32 or self.positions < 1:
            raise DataError(f"invalid extraction settings: frames={self.frames}, crop={self.crop}, "
                            f"positions={self.positions}")
        weights = dict((str(m), str(w)) for m, w in self.weights)
        weights.update((m, w) for m, w in (("image", self.image_weights), ("audio", self.audio_weights)) if w)
        object.__setattr__(self, "backbones", tuple((str(m), str(n)) for m, n in self.backbones))
        object.__setattr__(self, "weights", tuple(weights.items()))
        object.__setattr__(self, "image_weights", None)
        object.__setattr__(self, "audio_weights", None)
        check_backbones(self.backbones, self.weights)

    def weights_for(self, modality: str) -> str | None:
        """The weights file of ``modality``'s backbone, if any."""
        return dict(self.weights).get(modality)

    def key(self) -> str:
        """A digest of the settings (weights by content), naming the partial-results folder
        (the default backbones without weights digest as before they could be chosen)."""
        record: dict[str, Any] = asdict(self)
        record["weights"] = [[m, _file_digest(w)] for m, w in self.weights]
        if self.backbones == DEFAULT_BACKBONES:
            del record["backbones"]
        if not self.weights:
            del record["weights"]
        return hashlib.sha256(json.dumps(record, sort_keys=True).encode()).hexdigest()[:16]

    @classmethod
    def from_source(cls, source: dict[str, Any]) -> ExtractSettings:
        """The settings recorded in a cache manifest's ``source``."""
        try:
            return cls(**source["settings"])
        except (KeyError, TypeError) as exc:
            raise DataError(f"feature source lacks extraction settings ({exc}); "
                            "was it written by automm extract?") from None



_PAIRS = optional(list_of(list_of(string(), 2, 2)))
SOURCE_SCHEMA = obj({
    "extractor": string(EXTRACTOR),
    "settings": dataclass_schema(ExtractSettings, frames=optional(integer(1)), crop=optional(integer(32)),
                                 positions=optional(integer(1)), min_seconds=optional(number(0)),
                                 seed=optional(SEED), backbones=_PAIRS, weights=_PAIRS),
    "backbones": map_of(obj({"sha256": string(), "weights": string(), "pretrained": optional(boolean())})),
})
"""Schema of the ``source`` record :meth:`FeatureExtractor.source` writes into a cache manifest
(and evaluations copy into arch.json's ``provenance.data.source``), as ``predict`` rebuilds the
extraction from it."""

def _file_digest(path: str) -> str:
    from automm_media.backbones import file_sha256

    p = Path(path)
    if not p.is_file():
        raise DataError(f"{p}: no such weights file")
    return file_sha256(p)


class FeatureExtractor:
    """One video file -> ``{tap: (channels, positions)}``; the single code path of ``extract``
    and ``predict``. Unusable videos raise :class:`SkipVideo`."""

    def __init__(self, settings: ExtractSettings, device: str | torch.device = "cpu") -> None:
        self.settings = settings
        self.device = torch.device(device)
        self.preprocess = Preprocessor([m for m, _ in settings.backbones], frames=settings.frames,
                                       crop=settings.crop, min_seconds=settings.min_seconds,
                                       device=self.device)
        self.backbones = {m: build_backbone(m, name, L=settings.positions, weights=settings.weights_for(m),
                                            seed=settings.seed + k).to(self.device)
                          for k, (m, name) in enumerate(settings.backbones)}
        taps = [tap for b in self.backbones.values() for tap, _ in b.taps]
        if len(set(taps)) != len(taps):
            raise DataError(f"the backbones' tap names repeat: {', '.join(taps)}")
        self.seconds = self.preprocess.seconds  # decode and faces, shared with the preprocessor
        self.seconds["backbones"] = 0.0

    @functools.cached_property
    def inference(self) -> dict[str, torch.nn.Module]:
        """The modules that compute the features: a faster copy where a backbone offers one (made
        on first use, so a process that only describes the features never makes it)."""
        fast = self.device.type == "cpu" and torch.backends.mkldnn.is_available()
        return {m: b.inference_copy() if fast and hasattr(b, "inference_copy") else b
                for m, b in self.backbones.items()}

    @property
    def taps(self) -> list[tuple[str, int]]:
        """``(name, channels)`` of every tap, in the order of the backbones."""
        return [tap for b in self.backbones.values() for tap in b.taps]

    def source(self) -> dict[str, Any]:
        """Provenance for the manifest: settings, face and audio front ends, backbones, versions."""
        import av
        import torchvision

        return {
            "extractor": EXTRACTOR,
            "frames": self.settings.frames,
            "L": self.settings.positions,
            "settings": asdict(self.settings),
            "settings_key": self.settings.key(),
            "face": self.preprocess.aligner.describe(),
            "audio": LogSpectrogram.describe(),
            "backbones": {m: describe(self.backbones[m], name, self.settings.weights_for(m),
                                      self.settings.seed + k)
                          for k, (m, name) in enumerate(self.settings.backbones)},
            "versions": {"automm": automm.__version__, "torch": torch.__version__,
                         "torchvision": torchvision.__version__, "av": av.__version__},
        }

    @torch.inference_mode()
    def batch(self, paths: Sequence[str | os.PathLike[str]]) -> list[dict[str, np.ndarray] | Exception]:
        """Per path, its features or the exception that made it unusable. The usable videos'
        inputs go through each backbone as one batch (across videos, frames already batched);
        the features equal those of one video at a time within float tolerance."""
        out: list[dict[str, np.ndarray] | Exception | None] = []
        inputs = []
        for path in paths:
            try:
                inputs.append(self.preprocess(path))
                out.append(None)
            except Exception as exc:  # this video only; the caller reports it
                out.append(exc)
        if inputs:
            start = time.perf_counter()
            taps = {name: t.float().cpu().numpy() for m, backbone in self.inference.items()
                    for name, t in backbone(torch.cat([x[m] for x in inputs])).items()}
            self.seconds["backbones"] += time.perf_counter() - start
            row = iter(range(len(inputs)))
            for i, done in enumerate(out):
                if done is None:
                    k = next(row)
                    feats = {name: a[k].copy() for name, a in taps.items()}
                    finite = all(np.isfinite(a).all() for a in feats.values())
                    out[i] = feats if finite else SkipVideo("error", "features are not finite")
        return [r for r in out if r is not None]

    def __call__(self, path: str | os.PathLike[str]) -> dict[str, np.ndarray]:
        [result] = self.batch([path])
        if isinstance(result, Exception):
            raise result
        return result
