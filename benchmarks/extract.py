"""Throughput of the feature-extraction stages on this machine, each timed separately.

A few demo-corpus videos (3 s, 25 fps, 128 x 128, H.264 + AAC; generated into a temporary
folder) go through the stages of ``automm extract``:

- decode: every video frame decoded to RGB (frames/s) and the audio track resampled to
  16 kHz mono (seconds of audio per second);
- faces: MTCNN on K uniformly sampled frames per video, batched per video (frames/s), and the
  landmark alignment to 112 x 112 crops (crops/s);
- spectrogram: 257 x 300 log spectrograms (clips/s);
- backbones: ResNet-34 on the K face crops of a video (crops/s) and on its spectrogram (clips/s).

Then the whole of ``automm extract`` on the demo corpus (generated, 120 videos of every
category; or the corpus at ``--corpus``, e.g. ``~/.cache/automm/demo/corpus``) with 1, 2 and
``auto`` workers (``--workers``): videos per minute, including the start of the workers, the
stage times (summed over the workers) and the time that rate gives for FakeAVCeleb v1.2 (21,544
videos). The load average before and after is printed:
the figures hold for an idle machine only.

Usage: ``python benchmarks/extract.py [--videos 8] [--frames 8] [--threads 2] [--device cpu]
[--workers 1,2,auto] [--corpus DIR]``
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import av
import torch


def timed(fn: Callable[[], object]) -> tuple[float, object]:
    """Seconds of one call (after synchronising a GPU) and its result."""
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    start = time.perf_counter()
    out = fn()
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    return time.perf_counter() - start, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--videos", type=int, default=8)
    parser.add_argument("--frames", type=int, default=8, help="K sampled frames per video")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--workers", default="1,2,auto", help="worker counts of the whole-pipeline runs")
    parser.add_argument("--corpus", type=Path, help="extract this demo corpus (default: the generated one)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    from automm_deepfake.demo import DemoSpec, generate_demo
    from automm_media.audio import LogSpectrogram
    from automm_media.decode import read_audio, read_frames
    from automm_media.extract import extract
    from automm_media.extractor import ExtractSettings, FeatureExtractor

    device = torch.device(args.device)
    load = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        identities = max(4, 2 * ((args.videos + 7) // 8))
        generate_demo(Path(tmp) / "corpus", DemoSpec(identities=identities, real_clips=1), progress=False)
        videos = sorted((Path(tmp) / "corpus").rglob("*.mp4"))[: args.videos]
        extractor = FeatureExtractor(ExtractSettings(frames=args.frames), device)
        spectrogram = LogSpectrogram().to(device)
        rows: dict[str, list[float]] = {}

        def add(stage: str, items: float, seconds: float) -> None:
            total = rows.setdefault(stage, [0.0, 0.0])
            total[0] += items
            total[1] += seconds

        for i, video in enumerate([videos[0], *videos]):  # the first pass warms up
            record = add if i else (lambda *a: None)
            with av.open(str(video)) as c:
                n = c.streams.video[0].frames
            dt, _ = timed(lambda v=video, n=n: read_frames(v, n))  # every frame
            record("decode video", n, dt)
            dt, audio = timed(lambda v=video: read_audio(v))
            record("decode audio (s of audio)", len(audio) / 16000, dt)
            frames, _, _ = read_frames(video, args.frames)
            dt, points = timed(lambda f=frames: extractor.preprocess.aligner.landmarks(f))
            record("MTCNN detection", len(frames), dt)
            dt, crops = timed(lambda f=frames: extractor.preprocess.aligner(f))
            record("detection + alignment", len(frames), dt)
            wave = torch.from_numpy(audio).to(device)
            with torch.inference_mode():
                dt, spec = timed(lambda w=wave: spectrogram(w))
                record("spectrogram (clips)", 1, dt)
                dt, _ = timed(lambda c=crops: extractor.inference["image"](c.unsqueeze(0)))
                record(f"ResNet-34 image, {crops.shape[-1]} px crops", len(crops), dt)
                dt, _ = timed(lambda s=spec: extractor.inference["audio"](s.unsqueeze(0)))
                record("ResNet-34 audio (clips)", 1, dt)
            assert points is not None
        pipeline = []
        corpus = args.corpus
        if corpus is None:  # the demo corpus of the first run: 120 videos
            corpus = Path(tmp) / "demo"
            generate_demo(corpus, progress=False)
        for workers in (w if w == "auto" else int(w) for w in args.workers.split(",") if w):
            start = time.perf_counter()
            result = extract([corpus], Path(tmp) / f"cache-{workers}", device=args.device,
                             settings=ExtractSettings(frames=args.frames), workers=workers, progress=False)
            pipeline.append((workers, result, time.perf_counter() - start))

    print(f"device {device}, torch threads {torch.get_num_threads()}, {len(videos)} videos "
          f"(3 s, 25 fps, 128 x 128), K = {args.frames} frames per video")
    print(f"{'stage':<34} {'items':>8} {'seconds':>9} {'items/s':>10}")
    for stage, (items, seconds) in rows.items():
        print(f"{stage:<34} {items:>8.0f} {seconds:>9.2f} {items / seconds:>10.1f}")
    seconds = sum(v[1] for k, v in rows.items() if k != "MTCNN detection") / len(videos)
    print(f"per video, all stages: {seconds:.3f} s ({1 / seconds:.2f} videos/s)")
    for workers, result, seconds in pipeline:
        rate = 60 * result.extracted / seconds
        stages = ", ".join(f"{k} {v:.1f} s" for k, v in result.stage_seconds.items())
        print(f"automm extract, workers {workers} ({result.workers}): {result.extracted} videos in "
              f"{seconds:.1f} s = {rate:.1f} videos/min (stages summed over the workers: {stages}); "
              f"FakeAVCeleb v1.2 (21,544 videos) would take {21544 / rate / 60:.1f} h")
    print(f"load average (1, 5, 15 min) before {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}, after "
          + " ".join(f"{v:.2f}" for v in os.getloadavg()) + f"; {len(os.sched_getaffinity(0))} usable cores")


if __name__ == "__main__":
    main()
