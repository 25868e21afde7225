"""Tiny test videos written with PyAV."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
from automm_media.extractor import ExtractSettings

TINY = ExtractSettings(frames=2, crop=64, positions=4)
"""Fast extraction settings for tests."""


def write_video(path: Path, frames: np.ndarray | None, audio: np.ndarray | None, *, fps: int = 10,
                rate: int = 16000, faststart: bool = False) -> Path:
    """An mp4 with H.264 ``frames`` ``(T, H, W, 3)`` uint8 and/or AAC mono ``audio`` (float);
    ``faststart`` puts the index first (so a truncated file still opens)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    options = {"movflags": "faststart"} if faststart else {}
    with av.open(str(path), "w", format="mp4", options=options) as out:
        if frames is not None:
            video = out.add_stream("libx264", rate=fps)
            video.width, video.height, video.pix_fmt = frames.shape[2], frames.shape[1], "yuv420p"
            video.options = {"preset": "ultrafast"}
        if audio is not None:
            sound = out.add_stream("aac", rate=rate, layout="mono")
        if frames is not None:
            for image in frames:
                out.mux(video.encode(av.VideoFrame.from_ndarray(image, format="rgb24")))
            out.mux(video.encode(None))
        if audio is not None:
            for start in range(0, len(audio), 1024):
                frame = av.AudioFrame.from_ndarray(audio[start:start + 1024].astype(np.float32)[None],
                                                   format="flt", layout="mono")
                frame.sample_rate, frame.pts = rate, start
                out.mux(sound.encode(frame))
            out.mux(sound.encode(None))
    return path


def face_frames(count: int, seed: int = 0) -> np.ndarray:
    """``count`` frames 128 x 128 of a bundled face photograph, moving slightly."""
    from automm_deepfake.demo.faces import identity_image, lfw_faces

    image = identity_image(lfw_faces()[seed], np.random.default_rng(seed))
    base = (image.permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)
    return np.stack([np.roll(base, (i % 3, i % 2), axis=(0, 1)) for i in range(count)])


def speech(seconds: float, seed: int = 0, rate: int = 16000) -> np.ndarray:
    """A non-silent voiced-like signal: a pitch-modulated harmonic tone with an envelope."""
    t = np.arange(int(seconds * rate)) / rate
    f0 = 120 + 15 * np.sin(2 * np.pi * 0.7 * t + seed)
    phase = 2 * np.pi * np.cumsum(f0) / rate
    wave = sum(np.sin(k * phase) / k for k in range(1, 12))
    return (0.1 * wave * (0.6 + 0.4 * np.sin(2 * np.pi * 3 * t)) ** 2).astype(np.float32)


def make_folder_dataset(root: Path) -> dict[str, str | None]:
    """A ``real/`` + ``fake/`` dataset: 3 usable videos and one of each kind of broken video.

    Returns relative path -> expected skip kind (None for usable videos).
    """
    fps, secs = 10, 1.5
    n = int(fps * secs)
    expected: dict[str, str | None] = {}

    def add(rel: str, frames: np.ndarray | None, audio: np.ndarray | None, kind: str | None) -> Path:
        expected[rel] = kind
        return write_video(root / rel, frames, audio, fps=fps)

    add("real/alice/a1.mp4", face_frames(n, 0), speech(secs, 0), None)
    add("real/bob/b1.mp4", face_frames(n, 1), speech(secs, 1), None)
    good = add("fake/alice/a2.mp4", face_frames(n, 2), speech(secs, 2), None)
    add("fake/dave/no_audio.mp4", face_frames(n, 3), None, "no-audio")
    add("real/erin/silent.mp4", face_frames(n, 4), np.zeros(int(secs * 16000), np.float32), "silent")
    flat = np.full((n, 128, 128, 3), 120, np.uint8)
    add("real/frank/no_face.mp4", flat, speech(secs, 5), "no-face")
    add("real/hank/short.mp4", face_frames(4, 6), speech(0.4, 6), "too-short")
    corrupt = root / "fake/carol/corrupt.mp4"
    corrupt.parent.mkdir(parents=True, exist_ok=True)
    corrupt.write_bytes(np.random.default_rng(0).integers(0, 256, 5000, dtype=np.uint8).tobytes())
    expected["fake/carol/corrupt.mp4"] = "unreadable"
    truncated = root / "fake/gina/truncated.mp4"
    truncated.parent.mkdir(parents=True, exist_ok=True)
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    expected["fake/gina/truncated.mp4"] = "unreadable"
    return expected
