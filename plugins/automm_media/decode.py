"""Decoding with PyAV: K uniformly spaced video frames and the audio track at 16 kHz mono."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import av
import numpy as np
from av.audio.resampler import AudioResampler

from automm.errors import DataError
from automm.fileio import not_regular, quiet_loader

SAMPLE_RATE = 16000
SILENCE_RMS = 1e-4
"""An audio track whose RMS is below this (-80 dBFS) counts as silent."""


class SkipVideo(DataError):
    """A video that cannot be used. ``kind`` is a short code: ``unreadable``, ``no-video``,
    ``no-audio``, ``silent``, ``no-face``, ``too-short`` or ``error``."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


@dataclass
class Clip:
    """What feature extraction needs from one video."""

    frames: np.ndarray
    """``(K, H, W, 3)`` uint8 RGB frames, uniformly spaced over the video."""
    audio: np.ndarray
    """``(n,)`` float32 mono samples at :data:`SAMPLE_RATE`."""


@contextmanager
def _open(path: str | os.PathLike[str]) -> Iterator[av.container.InputContainer]:
    problem = not_regular(path)  # FFmpeg would block forever on a FIFO
    if problem is not None:
        raise SkipVideo("unreadable", problem)
    try:
        with quiet_loader():
            container = av.open(str(path))
    except (av.FFmpegError, OSError, ValueError) as exc:
        raise SkipVideo("unreadable", f"cannot open: {exc}") from None
    try:
        yield container
    finally:
        container.close()


def uniform_indices(n: int, k: int) -> np.ndarray:
    """``k`` indices spread uniformly over ``range(n)`` (centres of ``k`` equal segments)."""
    return np.minimum(((np.arange(k) + 0.5) * n / k).astype(np.int64), n - 1)


def _count_packets(path: str | os.PathLike[str]) -> int:
    with _open(path) as c:
        try:
            return sum(1 for p in c.demux(c.streams.video[0]) if p.size)
        except av.FFmpegError:
            return 0


def _decode_at(path: str | os.PathLike[str], targets: np.ndarray) -> tuple[dict[int, np.ndarray], int]:
    """Frames at the ``targets`` indices (stops early at a decoding error) and the count decoded."""
    wanted = set(int(t) for t in targets)
    last = max(wanted)
    found: dict[int, np.ndarray] = {}
    count = 0
    with _open(path) as c:
        stream = c.streams.video[0]
        stream.thread_type = "AUTO"
        try:
            for count, frame in enumerate(c.decode(stream), start=1):
                if count - 1 in wanted:
                    found[count - 1] = frame.to_ndarray(format="rgb24")
                if count - 1 >= last:
                    break
        except (av.FFmpegError, ValueError):
            pass  # a damaged tail: keep what decoded
    return found, count


def read_frames(path: str | os.PathLike[str], k: int) -> tuple[np.ndarray, int, float]:
    """``k`` uniformly spaced RGB frames ``(k, H, W, 3)``, the number of frames and the frame rate.

    The frame count comes from the container (or counting packets); when the stream ends
    early (a truncated file) the frames are re-sampled over what actually decodes.
    """
    with _open(path) as c:
        if not c.streams.video:
            raise SkipVideo("no-video", "no video stream")
        stream = c.streams.video[0]
        n = int(stream.frames or 0)
        fps = float(stream.average_rate or stream.guessed_rate or 0) or 25.0
    if n <= 0:
        n = _count_packets(path)
    if n <= 0:
        raise SkipVideo("unreadable", "no decodable video frame")
    targets = uniform_indices(n, k)
    found, count = _decode_at(path, targets)
    if len(found) < len(set(targets.tolist())):
        if count == 0:
            raise SkipVideo("unreadable", "no decodable video frame")
        n = count  # fewer frames decode than the container claims
        targets = uniform_indices(n, k)
        found, _ = _decode_at(path, targets)
        if len(found) < len(set(targets.tolist())):
            raise SkipVideo("unreadable", "video frames do not decode consistently")
    return np.stack([found[int(t)] for t in targets]), n, fps


def read_audio(path: str | os.PathLike[str], rate: int = SAMPLE_RATE) -> np.ndarray:
    """The first audio track, resampled to ``rate`` Hz mono float32 (a damaged tail is dropped)."""
    chunks: list[np.ndarray] = []
    with _open(path) as c:
        if not c.streams.audio:
            raise SkipVideo("no-audio", "no audio track")
        resampler = AudioResampler(format="flt", layout="mono", rate=rate)
        try:
            for frame in c.decode(c.streams.audio[0]):
                chunks.extend(f.to_ndarray().reshape(-1) for f in resampler.resample(frame))
            chunks.extend(f.to_ndarray().reshape(-1) for f in resampler.resample(None))
        except (av.FFmpegError, ValueError) as exc:
            if not chunks:
                raise SkipVideo("unreadable", f"audio track does not decode: {exc}") from None
    return np.concatenate(chunks).astype(np.float32) if chunks else np.zeros(0, np.float32)


def load_clip(path: str | os.PathLike[str], frames: int, *, min_seconds: float = 1.0) -> Clip:
    """Decode ``frames`` video frames and the audio track; unusable videos raise :class:`SkipVideo`."""
    images, n, fps = read_frames(path, frames)
    if n / fps < min_seconds:
        raise SkipVideo("too-short", f"video lasts {n / fps:.2f} s (< {min_seconds:g} s)")
    audio = read_audio(path)
    if len(audio) < min_seconds * SAMPLE_RATE:
        raise SkipVideo("too-short", f"audio lasts {len(audio) / SAMPLE_RATE:.2f} s (< {min_seconds:g} s)")
    rms = float(np.sqrt(np.mean(np.square(audio, dtype=np.float64))))
    if not rms >= SILENCE_RMS:
        raise SkipVideo("silent", f"audio track is silent (RMS {rms:.1e})")
    return Clip(images, audio)
