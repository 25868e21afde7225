"""Scoring speed of a trained detector in-process (``automm predict EVAL_DIR``), as TorchScript and
as ONNX (``automm predict --model FILE``), one video at a time, and the files each needs.

The evaluation's test videos (from its feature cache's manifest, or the VIDEOs given) are
preprocessed once (decode, MTCNN faces, spectrogram: the same code for all three), then each
model scores every video's inputs: the in-process model with its backbones and its fusion network
timed apart, the exported files as one graph. Milliseconds are per video, after one warm-up
video; videos/s counts preprocessing too. ``max |dP|``: the largest difference in P(fake) from
the in-process model.

Usage: ``python benchmarks/predict.py EVAL_DIR [VIDEO...] [--videos 20] [--device cpu]
[--threads N]`` (ONNX needs the extra automm[onnx]; ``--device cuda`` where a GPU exists).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch


def timed(fn: Callable[[], object], device: torch.device) -> tuple[float, object]:
    """Milliseconds of one call (after synchronising a GPU) and its result."""
    if device.type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    out = fn()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return 1000 * (time.perf_counter() - start), out


def test_videos(eval_dir: Path, limit: int) -> list[Path]:
    """The test-split videos of the cache the evaluation was trained on."""
    from automm.data import FeatureCache
    from automm.ir import load_architecture

    cache = FeatureCache.open(load_architecture(eval_dir / "arch.json").provenance["data"]["path"])
    return [Path(s["path"]) for s in cache.samples if s["split"] == "test"][:limit]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("eval_dir", type=Path)
    parser.add_argument("videos", nargs="*", type=Path)
    parser.add_argument("--videos", dest="limit", type=int, default=20, help="test videos to score at most")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    from automm_media.decode import SkipVideo
    from automm_media.export import export
    from automm_media.exported import ExportedDetector
    from automm_media.predict import Predictor

    predictor = Predictor(args.eval_dir, device=args.device)
    device = predictor.device
    detector = predictor.detector
    videos = args.videos or test_videos(args.eval_dir, args.limit)
    inputs, pre_ms = [], []
    for video in [videos[0], *videos]:  # the first pass warms up
        try:
            ms, x = timed(lambda v=video: predictor.preprocess(v), device)
        except SkipVideo:
            continue
        inputs.append([x[m] for m in detector.modalities])
        pre_ms.append(ms)
    inputs, pre_ms = inputs[1:], pre_ms[1:]
    pre = float(np.mean(pre_ms))

    rows = []
    with torch.inference_mode():
        backbones, fusion, reference = [], [], []
        for k, x in enumerate([inputs[0], *inputs]):
            ms_b, feats = timed(lambda x=x: {t: v for m, xi in zip(detector.modalities, x, strict=True)
                                             for t, v in detector.backbones[m](xi).items()}, device)
            ms_f, p = timed(lambda f=feats: torch.softmax(detector.network(
                {t: f[t] for t in detector.taps}), dim=-1)[:, 1], device)
            if k:
                backbones.append(ms_b)
                fusion.append(ms_f)
                reference.append(float(p[0]))
    sizes = (args.eval_dir / "model.safetensors").stat().st_size
    rows.append(("in-process", np.mean(backbones), np.mean(fusion), np.mean(backbones) + np.mean(fusion),
                 sizes, 0.0, "model.safetensors (+ backbone weight files, if pretrained)"))
    with tempfile.TemporaryDirectory() as tmp:
        for fmt, name in (("torchscript", "detector.pt"), ("onnx", "detector.onnx")):
            path = Path(tmp) / name
            start = time.perf_counter()
            export(args.eval_dir, fmt, path)
            export_s = time.perf_counter() - start
            model = ExportedDetector(path, device=args.device)
            ms, scores = [], []
            for k, x in enumerate([inputs[0], *inputs]):
                t, p = timed(lambda x=x, m=model: m.run(x), device)
                if k:
                    ms.append(t)
                    scores.append(float(p[0]))
            diff = float(np.abs(np.subtract(scores, reference)).max())
            rows.append((fmt, None, None, np.mean(ms), path.stat().st_size, diff,
                         f"{name} (export {export_s:.0f} s)"))

    shapes = ", ".join(f"{m} {tuple(x.shape[1:])}"
                       for m, x in zip(detector.modalities, inputs[0], strict=True))
    print(f"device {device}, torch threads {torch.get_num_threads()}, {len(inputs)} videos, inputs {shapes}")
    print("| model | preprocess ms | backbones ms | fusion ms | model ms | videos/s | file MB | max abs dP "
          "| file |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name, b, f, m, size, diff, note in rows:
        cells = [f"{pre:.1f}", "-" if b is None else f"{b:.1f}", "-" if f is None else f"{f:.2f}", f"{m:.1f}",
                 f"{1000 / (pre + m):.2f}", f"{size / 2**20:.1f}", f"{diff:.1e}", note]
        print(f"| {name} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
