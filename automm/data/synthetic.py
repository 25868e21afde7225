"""Synthetic feature caches with a planted multimodal signal (tests and benchmarks).

Each sample draws two latent values ``z_image`` and ``z_audio`` with random signs and
magnitudes in ``[0.5, 1.5]``. With ``signal_kind="xor"`` (default) its label is 1 (fake) when
the two signs differ: neither planted tap alone says anything about the label, only their
combination does. With ``"sum"`` the label is 1 when ``z_image + z_audio > 0``: each planted tap
alone predicts it in part, the two together fully. ``z_image`` is written along a fixed channel
direction into one image tap and ``z_audio`` into one audio tap; every other tap is pure noise.
Every tap also carries a per-identity offset
(a nuisance that identity-disjoint splits keep out of the test set).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from automm.data.cache import write_cache
from automm.data.dataset import MediaSample
from automm.data.splits import identity_disjoint_split

RESNET_LIKE_CHANNELS = (4, 8, 16, 32)
"""Default tap channels: the four ResNet stages, scaled down 16x for speed."""
RESNET_LIKE_LENGTHS = (16, 8, 4, 2)
"""Default tap lengths: positions halve from stage to stage, as in a ResNet."""
SIGNAL_KINDS = ("xor", "sum")
CLASSES = ("real", "fake")
"""The class names of a synthetic cache (label 1, fake, carries the planted signal)."""


def make_synthetic_cache(
    path: str | os.PathLike[str],
    *,
    identities: int = 40,
    per_identity: int = 8,
    image_taps: int = 4,
    audio_taps: int = 4,
    channels: Sequence[int] = RESNET_LIKE_CHANNELS,
    lengths: Sequence[int] = RESNET_LIKE_LENGTHS,
    signal: tuple[str, str] = ("image/3", "audio/2"),
    strength: float = 1.0,
    noise: float = 1.0,
    identity_noise: float = 0.5,
    shuffle_labels: bool = False,
    signal_kind: str = "xor",
    fractions: Sequence[float] = (0.6, 0.2, 0.2),
    seed: int = 0,
) -> Path:
    """Write a feature cache of ``identities * per_identity`` samples to ``path``.

    Tap ``image/i`` / ``audio/i`` has shape ``(channels[i-1], lengths[i-1])``. ``signal``
    names the image tap and the audio tap that carry the planted latents (scaled by
    ``strength``; element noise has standard deviation ``noise``). ``shuffle_labels``
    permutes the labels afterwards, so no tap predicts them. Splits are identity-disjoint
    with the given train/val/test ``fractions``.
    """
    count = max(image_taps, audio_taps)
    if len(channels) < count or len(lengths) < count:
        raise ValueError(f"need channels and lengths for {count} taps")
    taps = [f"{m}/{i}" for m, k in (("image", image_taps), ("audio", audio_taps)) for i in range(1, k + 1)]
    for planted in signal:
        if planted not in taps:
            raise ValueError(f"signal tap {planted!r} is not one of {', '.join(taps)}")
    rng = np.random.default_rng(seed)
    n = identities * per_identity
    identity = np.repeat(np.arange(identities), per_identity)
    latent = rng.choice([-1.0, 1.0], size=(2, n)) * rng.uniform(0.5, 1.5, size=(2, n))
    if signal_kind not in SIGNAL_KINDS:
        raise ValueError(f"signal_kind must be one of {', '.join(SIGNAL_KINDS)}")
    fake = latent[0] * latent[1] < 0 if signal_kind == "xor" else latent[0] + latent[1] > 0
    labels = fake.astype(np.int64)
    arrays: dict[str, np.ndarray] = {}
    for name in taps:
        stage = int(name.split("/")[1]) - 1
        c, length = channels[stage], lengths[stage]
        offsets = rng.normal(0.0, identity_noise, size=(identities, c, 1))
        x = rng.normal(0.0, noise, size=(n, c, length)) + offsets[identity]
        if name in signal:
            direction = rng.normal(size=c)
            direction /= np.linalg.norm(direction)
            z = latent[signal.index(name)]
            x += strength * np.sqrt(c) * z[:, None, None] * direction[None, :, None]
        arrays[name] = x.astype(np.float32)
    if shuffle_labels:
        labels = rng.permutation(labels)
    ids = [f"id{identity[i]:03d}/{i:05d}" for i in range(n)]
    media = [MediaSample(ids[i], Path(ids[i]), int(labels[i]), (f"id{identity[i]:03d}",))
             for i in range(n)]
    split = identity_disjoint_split(media, fractions, seed=seed)
    samples = [{"id": s.id, "label": s.label, "identity": s.identity, "split": split[s.id]}
               for s in media]
    source = {"kind": "synthetic", "generator": "automm.data.synthetic", "signal": list(signal),
              "signal_kind": signal_kind, "shuffled_labels": shuffle_labels, "seed": seed,
              "weights": "synthetic"}
    return write_cache(path, arrays, samples, source=source, classes=CLASSES)
