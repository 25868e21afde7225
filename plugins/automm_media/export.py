"""``automm export``: an evaluation's detector as one TorchScript or ONNX file plus its description.

The file holds the :class:`~automm_media.detector.Detector` (both backbones with the weights that
made the cache, the trained fusion network, the softmax), traced once on inputs of the exact
shapes preprocessing makes, with a dynamic batch dimension; ONNX is exported from that same trace
(opset 17), checked by ``onnx.checker``, and both are compared with the in-process model before
anything is written. The description (:mod:`automm.deploy`) goes inside the file and beside it.
"""

from __future__ import annotations

import contextlib
import json
import os
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from automm.deploy import EXTRA_FILE, FORMAT, METADATA_NAME, MODEL_FORMATS, sidecar_path
from automm.errors import AutommError
from automm.fileio import atomic_path, write_json
from automm.train.thresholds import operating_threshold
from automm_media.backbones import file_sha256
from automm_media.classes import CLASSES, FAKE
from automm_media.detector import Detector
from automm_media.predict import Predictor
from automm_media.preprocess import INPUTS, Preprocessor

OPSET = 17
TOLERANCE = 1e-4
"""Largest difference in P(fake) allowed between the exported and the in-process model."""
OUTPUT = "p_fake"
BACKBONE_KEYS = ("name", "arch", "weights", "sha256", "pretrained", "weights_sha256", "params", "L")


def example_inputs(preprocess: Preprocessor, batch: int, seed: int = 0) -> tuple[Tensor, ...]:
    """Random inputs of the shapes ``preprocess`` makes: face crops in [0, 1], standardised spectrograms."""
    g = torch.Generator().manual_seed(seed)
    return tuple(torch.rand(batch, *shape, generator=g) if m == "image" else
                 torch.randn(batch, *shape, generator=g)
                 for m, shape in preprocess.shapes().items())


def _model_normalisation(backbone: torch.nn.Module) -> dict[str, list[float]] | None:
    """The per-channel ``(x - mean) / std`` a backbone applies inside the model, if it keeps one."""
    mean, std = getattr(backbone, "mean", None), getattr(backbone, "std", None)
    if isinstance(mean, Tensor) and isinstance(std, Tensor):
        return {"mean": mean.flatten().tolist(), "std": std.flatten().tolist()}
    return None


def describe(predictor: Predictor, threshold: dict[str, Any], model_format: str) -> dict[str, Any]:
    """The detector description (:mod:`automm.deploy`) of ``predictor``'s model at ``threshold``."""
    pre, source, metrics, detector = (predictor.preprocess, predictor.source, predictor.metrics,
                                      predictor.detector)
    taps = {t: shape for r in source["backbones"].values() for t, shape in r.get("taps", {}).items()}
    return {
        "format": FORMAT,
        "model_format": model_format,
        "inputs": [{"name": m, "shape": ["batch", *shape], "dtype": "float32", "description": INPUTS[m],
                    "model_normalisation": _model_normalisation(detector.backbones[m])}
                   for m, shape in pre.shapes().items()],
        "output": {"name": OUTPUT, "shape": ["batch"], "dtype": "float32",
                   "description": f"P(fake): the softmax probability of class {CLASSES[FAKE]!r}"},
        "classes": list(CLASSES),
        "taps": {t: taps.get(t) for t in detector.taps},
        "preprocessing": {"extractor": source["extractor"], **pre.spec()},
        "backbones": {m: {k: source["backbones"][m].get(k) for k in BACKBONE_KEYS}
                      for m in detector.modalities},
        "threshold": threshold,
        "evaluation": {"dir": str(predictor.metrics_file.parent.resolve()),
                       "metrics_sha256": file_sha256(predictor.metrics_file), "space": predictor.arch.space,
                       "data_fingerprint": (metrics.get("data") or {}).get("fingerprint"),
                       **{k: metrics.get(k) for k in ("test_auc", "test_acc", "test_eer", "val_auc",
                                                      "thresholds")}},
    }


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Silence the tracer's and the legacy ONNX exporter's warnings (the result is checked instead)
    and torch.jit's deprecation notice."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def _check(name: str, got: Tensor, want: Tensor) -> None:
    diff = float((got.float() - want.float()).abs().max())
    if not diff <= TOLERANCE:
        raise AutommError(f"the {name} gives P(fake) {diff:.2g} away from the in-process model "
                          f"(more than {TOLERANCE:g}); not written")


@torch.no_grad()
def trace(detector: Detector, preprocess: Preprocessor) -> torch.jit.ScriptModule:
    """``detector`` traced on a batch of 2 and checked against it on a batch of 1 and 3."""
    detector = detector.cpu().eval()
    with _quiet():
        traced = torch.jit.trace(detector, example_inputs(preprocess, 2), check_trace=False)
    for batch in (1, 3):
        x = example_inputs(preprocess, batch, seed=batch)
        _check(f"traced model at batch {batch}", traced(*x), detector(*x))
    return traced


@contextlib.contextmanager
def _matmul_pooling() -> Iterator[None]:
    """Export ``adaptive_avg_pool1d`` (the backbones' and tap reducers' pooling to L positions) as a
    product with its constant averaging matrix: ONNX's pooling takes only sizes that divide."""
    from torch.onnx import register_custom_op_symbolic, symbolic_helper, unregister_custom_op_symbolic

    @symbolic_helper.parse_args("v", "is")
    def pool(g: Any, x: Any, size: Sequence[int]) -> Any:
        length = symbolic_helper._get_tensor_sizes(x)[-1]
        if not isinstance(length, int):
            raise AutommError("adaptive_avg_pool1d over a dynamic length cannot be exported")
        return g.op("MatMul", x, g.op("Constant", value_t=pooling_matrix(length, size[0])))

    register_custom_op_symbolic("aten::adaptive_avg_pool1d", pool, OPSET)
    try:
        yield
    finally:
        unregister_custom_op_symbolic("aten::adaptive_avg_pool1d", OPSET)


def pooling_matrix(length: int, size: int) -> Tensor:
    """``(length, size)``: ``x @ m`` equals ``adaptive_avg_pool1d(x, size)`` for ``x`` of ``length``."""
    m = torch.zeros(length, size)
    for i in range(size):
        lo, hi = i * length // size, -(-(i + 1) * length // size)
        m[lo:hi, i] = 1.0 / (hi - lo)
    return m


def _write_torchscript(traced: torch.jit.ScriptModule, path: Path, description: dict[str, Any]) -> None:
    with _quiet():
        torch.jit.save(traced, str(path), _extra_files={EXTRA_FILE: json.dumps(description)})


def _write_onnx(traced: torch.jit.ScriptModule, detector: Detector, preprocess: Preprocessor, path: Path,
                description: dict[str, Any]) -> None:
    try:
        import onnx
        import onnxruntime
    except ImportError as exc:
        raise AutommError(f"--format onnx needs the onnx extra: pip install 'automm[onnx]' ({exc})") from None
    names = list(preprocess.shapes())
    try:
        with _quiet(), _matmul_pooling():
            torch.onnx.export(traced, example_inputs(preprocess, 2), str(path), dynamo=False,
                              opset_version=OPSET, input_names=names, output_names=[OUTPUT],
                              dynamic_axes={n: {0: "batch"} for n in [*names, OUTPUT]})
        model = onnx.load(str(path))
        _declare_inputs(model, preprocess.shapes())
        onnx.helper.set_model_props(model, {METADATA_NAME: json.dumps(description)})
        onnx.checker.check_model(model, full_check=True)
        onnx.save(model, str(path))
        session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    except AutommError:
        raise
    except Exception as exc:  # any failure of the exporter, the checker or the runtime is one line
        first = (str(exc).strip().splitlines() or [""])[0]
        raise AutommError(f"ONNX export failed: {type(exc).__name__}: {first}") from None
    for batch in (1, 3):
        x = example_inputs(preprocess, batch, seed=batch)
        got = session.run(None, {n: t.numpy() for n, t in zip(names, x, strict=True)})[0]
        with torch.no_grad():
            _check(f"ONNX model at batch {batch}", torch.from_numpy(got), detector(*x))


def _declare_inputs(model: Any, shapes: dict[str, tuple[int, ...]]) -> None:
    """Give the ONNX graph every input of ``shapes``, in order: the exporter drops an input the
    output does not depend on (e.g. a modality that reaches only ``zero`` ops)."""
    from onnx import TensorProto, helper

    have = {i.name: i for i in model.graph.input}
    inputs = [have.get(n) or helper.make_tensor_value_info(n, TensorProto.FLOAT, ["batch", *shape])
              for n, shape in shapes.items()]
    del model.graph.input[:]
    model.graph.input.extend(inputs)


def export(eval_dir: str | os.PathLike[str], model_format: str, out: str | os.PathLike[str], *,
           threshold: str = "eer", weights: tuple[tuple[str, str], ...] = ()) -> dict[str, Any]:
    """Export the detector of the evaluation in ``eval_dir`` to ``out`` (``torchscript`` or
    ``onnx``) at the recorded operating point ``threshold`` (``eer``, ``target-fpr`` or a number);
    write its description into the file and to ``out.json``; return the description."""
    if model_format not in MODEL_FORMATS:
        raise AutommError(f"--format {model_format}: unknown (use {' or '.join(MODEL_FORMATS)})")
    root, out = Path(eval_dir), Path(out)
    if not (root / "model.safetensors").is_file() or not (root / "metrics.json").is_file():
        raise AutommError(f"{root}: not an evaluation directory (no model.safetensors and metrics.json); "
                          "export the --out directory of automm evaluate")
    predictor = Predictor(root, device="cpu", weights=weights)
    chosen = operating_threshold(threshold, predictor.metrics.get("thresholds"), str(predictor.metrics_file))
    description = describe(predictor, chosen, model_format)
    traced = trace(predictor.detector, predictor.preprocess)
    with atomic_path(out) as tmp:
        if model_format == "torchscript":
            _write_torchscript(traced, tmp, description)
        else:
            _write_onnx(traced, predictor.detector, predictor.preprocess, tmp, description)
    write_json(sidecar_path(out), description)
    return description
