"""Run an exported detector (``automm export``): TorchScript with torch, ONNX with onnxruntime,
after automm's own preprocessing; no run directory, no backbone weight files."""

from __future__ import annotations

import json
import os
import zipfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from automm.deploy import EXTRA_FILE, METADATA_NAME, check_description
from automm.errors import AutommError, DataError
from automm.fileio import not_regular, quiet_loader
from automm.train.device import resolve_device
from automm_media.predict import check_finite_weights
from automm_media.preprocess import Preprocessor


class ExportedDetector:
    """An exported detector file, its description and the preprocessing it was made for."""

    def __init__(self, path: str | os.PathLike[str], *, device: str = "auto") -> None:
        self.path = Path(path)
        problem = not_regular(self.path)  # torch and onnxruntime would block forever on a FIFO
        if problem is not None:
            raise DataError(f"{self.path}: no such model file" if problem == "no such file" else
                            f"{self.path}: cannot load: {problem}")
        self.device = resolve_device(device)
        try:
            if zipfile.is_zipfile(self.path):
                self.model_format = "torchscript"
                text = self._load_torchscript()
            else:
                self.model_format = "onnx"
                text = self._load_onnx(explicit_cuda=device.startswith("cuda"))
        except AutommError:
            raise
        except Exception as exc:  # a damaged or foreign file is one clear error
            first = (str(exc).strip().splitlines() or [""])[0]
            raise DataError(f"{self.path}: cannot load as an exported {self.model_format} detector: "
                            f"{type(exc).__name__}: {first}") from None
        where = f"{self.path} ({self.model_format})"
        if text is None:
            raise DataError(f"{where}: holds no automm description; is it an automm export?")
        try:
            self.description = check_description(json.loads(text), where)
        except ValueError as exc:
            raise DataError(f"{where}: unreadable description: {exc}") from None
        self.modalities = [i["name"] for i in self.description["inputs"]]
        spec = self.description["preprocessing"]
        self.preprocess = Preprocessor(self.modalities, frames=spec["frames"], crop=spec["crop"],
                                       min_seconds=spec["min_seconds"], device=self.device)
        ours = {"extractor": spec.get("extractor"), **self.preprocess.spec()}
        differ = sorted(k for k in {*spec, *ours} if spec.get(k) != ours.get(k))
        if differ:
            raise DataError(f"{where}: was made with other preprocessing than this automm's "
                            f"({', '.join(differ)} differ); export it again with this version")

    @property
    def threshold(self) -> dict[str, Any]:
        """The operating threshold recorded at export (value, point, provenance)."""
        return self.description["threshold"]

    def _load_torchscript(self) -> str | None:
        extra = {EXTRA_FILE: ""}
        with quiet_loader():
            self._module = torch.jit.load(str(self.path), map_location=self.device, _extra_files=extra)
        self._module.eval()
        check_finite_weights(self._module.state_dict().items(), self.path)
        return extra[EXTRA_FILE] or None

    def _load_onnx(self, explicit_cuda: bool) -> str | None:
        try:
            import onnxruntime
        except ImportError as exc:
            raise AutommError(f"{self.path}: running an ONNX detector needs the onnx extra: "
                              f"pip install 'automm[onnx]' ({exc})") from None
        providers = ["CPUExecutionProvider"]
        if self.device.type == "cuda":
            if "CUDAExecutionProvider" in onnxruntime.get_available_providers():
                providers.insert(0, "CUDAExecutionProvider")
            elif explicit_cuda:
                raise AutommError("--device cuda: this onnxruntime has no CUDA provider "
                                  "(install onnxruntime-gpu)")
        options = onnxruntime.SessionOptions()
        options.log_severity_level = 3
        with quiet_loader():
            self._session = onnxruntime.InferenceSession(str(self.path), options, providers=providers)
        check_finite_weights(self._onnx_weights(), self.path)
        return self._session.get_modelmeta().custom_metadata_map.get(METADATA_NAME)

    def _onnx_weights(self) -> Iterator[tuple[str, torch.Tensor]]:
        """The initializers (weights) of the ONNX file; none without the ``onnx`` package (an
        onnxruntime-only install), where a NaN score is still refused per video."""
        try:
            import onnx
            from onnx import numpy_helper
        except ImportError:
            return
        with quiet_loader():
            graph = onnx.load(str(self.path)).graph
        for init in graph.initializer:
            yield init.name, torch.as_tensor(np.array(numpy_helper.to_array(init)))

    @torch.inference_mode()
    def run(self, inputs: Sequence[torch.Tensor]) -> np.ndarray:
        """P(fake) ``(batch,)`` of a batch of preprocessed inputs, one tensor per modality."""
        if self.model_format == "torchscript":
            return self._module(*(x.to(self.device) for x in inputs)).float().cpu().numpy()
        feed = {m: x.detach().cpu().numpy() for m, x in zip(self.modalities, inputs, strict=True)}
        return np.asarray(self._session.run(None, feed)[0])

    def score(self, video: str | os.PathLike[str]) -> float:
        """P(fake) of one video; unusable videos raise :class:`automm_media.decode.SkipVideo`."""
        inputs = self.preprocess(video)
        return float(self.run([inputs[m] for m in self.modalities])[0])
