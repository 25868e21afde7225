"""Score new videos with a trained model: rebuild the recorded feature extraction, run the network,
label each video at a decision threshold."""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import torch

from automm.errors import ArchitectureError, DataError
from automm.fileio import not_regular, optional_file, quiet_loader
from automm.ir import build_space_for, load_architecture
from automm.nn.network import FusionNetwork
from automm.schema import check, obj
from automm.train.device import resolve_device
from automm.train.evaluation_metrics import read_evaluation_metrics
from automm_media.classes import CLASSES, FAKE
from automm_media.decode import SkipVideo
from automm_media.detector import Detector
from automm_media.extractor import EXTRACTOR, SOURCE_SCHEMA, ExtractSettings, FeatureExtractor
from automm_media.preprocess import Preprocessor

MODEL_ARCH = obj({"provenance": obj({"data": obj({"source": SOURCE_SCHEMA})})})
"""What a model directory's arch.json must hold beyond the arch.json schema: the feature
extraction ``predict`` rebuilds (:data:`automm_media.extractor.SOURCE_SCHEMA`)."""


def label(p_fake: float, threshold: float) -> str:
    """The class name of the decision at ``threshold`` (fake when ``p_fake >= threshold``)."""
    return CLASSES[FAKE] if p_fake >= threshold else CLASSES[1 - FAKE]


def check_finite_weights(named: Iterable[tuple[str, torch.Tensor]], where: str | os.PathLike[str]) -> None:
    """Raise :class:`ArchitectureError` naming ``where`` and the first tensor of ``named`` that holds
    NaN or infinite values: such a model scores every video NaN."""
    for name, tensor in named:
        if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
            raise ArchitectureError(f"{where}: {name} holds NaN or infinite values; the model is "
                                    "unusable (its training diverged or the file is damaged)")


def predict_videos(score: Callable[[str], float], videos: Sequence[str | os.PathLike[str]],
                   threshold: float | None = None) -> list[dict[str, Any]]:
    """Per video ``{"video", "p_fake"}`` (with ``"label"`` given a ``threshold``) or
    ``{"video", "error"}``: one bad video never stops the others."""
    out: list[dict[str, Any]] = []
    for v in videos:
        try:
            p = score(str(v))
            if not math.isfinite(p):
                raise SkipVideo("error", "P(fake) is not finite")
        except SkipVideo as exc:
            out.append({"video": str(v), "error": f"{exc.kind}: {exc}"})
        except Exception as exc:  # one bad video must not stop the others
            out.append({"video": str(v), "error": f"error: {type(exc).__name__}: {exc}"})
        else:
            out.append({"video": str(v), "p_fake": p, **({"label": label(p, threshold)}
                                                          if threshold is not None else {})})
    return out


def not_a_model_dir(root: Path) -> str:
    """The error for a MODEL_DIR without model.safetensors: what predict needs, and the command
    that writes it (for a search run, or for the eval/ directory of one)."""
    if (root / "eval" / "model.safetensors").is_file():
        return f"{root}: holds no model; it is in its evaluation directory: automm predict {root / 'eval'}"
    if (root / "arch.json").is_file():
        command = f"automm evaluate {root / 'arch.json'} --out {root / 'eval'}"
    elif (root.parent / "arch.json").is_file():
        command = f"automm evaluate {root.parent / 'arch.json'} --out {root}"
    else:
        command = "automm evaluate ARCH_JSON --out DIR"
    what = "not an evaluation directory (no model.safetensors)" if root.exists() else "no such directory"
    return f"{root}: {what}; predict needs the evaluation directory written by {command}"


class Predictor:
    """A model directory written by ``automm evaluate`` (``arch.json``, ``model.safetensors`` and
    ``metrics.json`` with its decision thresholds) and the feature extraction its training cache
    was made with (``provenance.data.source``)."""

    def __init__(self, model_dir: str | os.PathLike[str], *, device: str = "auto",
                 image_weights: str | None = None, audio_weights: str | None = None,
                 weights: tuple[tuple[str, str], ...] = ()) -> None:
        root = Path(model_dir)
        weights_file = root / "model.safetensors"
        if not_regular(weights_file) == "no such file":
            raise ArchitectureError(not_a_model_dir(root))
        self.arch = load_architecture(root / "arch.json")
        data = self.arch.provenance.get("data")
        source = data.get("source") if isinstance(data, dict) else None
        if not isinstance(source, dict) or source.get("extractor") != EXTRACTOR:
            found = source.get("extractor") if isinstance(source, dict) else source
            raise DataError(f"{root / 'arch.json'}: provenance.data.source does not describe an 'automm "
                            f"extract' feature cache (field provenance.data.source.extractor is "
                            f"{found!r:.40}, not {EXTRACTOR!r}); cannot rebuild the feature extraction")
        check(self.arch.to_dict(), MODEL_ARCH, root / "arch.json", DataError)
        self.metrics_file = root / "metrics.json"
        self.metrics: dict[str, Any] = (read_evaluation_metrics(self.metrics_file, ArchitectureError)
                                        if optional_file(self.metrics_file) else {})
        """The evaluation's ``metrics.json`` (empty when there is none); its ``thresholds`` are
        the recorded decision thresholds (:mod:`automm.train.thresholds`)."""
        self.source = source
        settings = ExtractSettings.from_source(source)
        settings = dataclasses.replace(settings, weights=(*settings.weights, *weights),
                                       image_weights=image_weights, audio_weights=audio_weights)
        self.device = resolve_device(device)
        self.extractor = FeatureExtractor(settings, self.device)
        rebuilt = self.extractor.source()["backbones"]
        for modality, record in rebuilt.items():
            want, have = source.get("backbones", {}).get(modality, {}).get("sha256"), record["sha256"]
            if want != have:
                raise DataError(f"{root}: the rebuilt {modality} backbone ({record['weights']}) differs "
                                f"from the one the model was trained with (sha256 {have[:12]} != "
                                f"{str(want)[:12]}); pass --weights {modality}=PATH with the original file")
        self.network = FusionNetwork(build_space_for(self.arch), self.arch, dropout=0.2)
        problem = not_regular(weights_file)  # safetensors would block forever on a FIFO
        if problem is not None:
            raise ArchitectureError(f"{weights_file}: cannot read: {problem}")
        try:
            from safetensors.torch import load_file

            with quiet_loader():
                state = load_file(str(weights_file))
        except Exception as exc:  # a damaged file is one clear error
            raise ArchitectureError(f"{weights_file}: cannot read: {exc}") from None
        check_finite_weights(state.items(), weights_file)
        try:
            self.network.load_state_dict(state)
        except RuntimeError as exc:
            first = str(exc).strip().splitlines()[0]
            raise ArchitectureError(f"{weights_file}: does not match arch.json: {first}") from None
        self.network.to(self.device).eval()
        self.detector = Detector(self.extractor.backbones, self.network).eval()
        self.preprocess = Preprocessor(self.detector.modalities, frames=settings.frames, crop=settings.crop,
                                       min_seconds=settings.min_seconds, device=self.device)

    def backbone_weights(self) -> dict[str, str]:
        """Modality -> weights label (a file, or ``random-init (seed N)``)."""
        return {m: r["weights"] for m, r in self.extractor.source()["backbones"].items()}

    @torch.inference_mode()
    def score(self, video: str | os.PathLike[str]) -> float:
        """P(fake) of one video; unusable videos raise :class:`SkipVideo`."""
        inputs = self.preprocess(video)
        return float(self.detector(*(inputs[m] for m in self.detector.modalities))[0])

    def predict(self, videos: Sequence[str | os.PathLike[str]], threshold: float | None = None
                ) -> list[dict[str, Any]]:
        """:func:`predict_videos` with this model."""
        return predict_videos(self.score, videos, threshold)
