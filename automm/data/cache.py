"""The feature cache: ``manifest.json`` plus one memory-mappable ``.npy`` file per tap.

Layout of ``CACHE_DIR``::

    manifest.json      {"format": "automm.cache/1", "taps": {name: {"shape": [C, L],
                        "file": "image_1.npy", "dtype": "float32"}}, "classes": ["real", "fake"],
                        "samples": [{"id", "label", "identity", "split", ...}],
                        "fingerprint": sha256, "source": {...}, "skipped": [{"id", "reason"}]}
    image_1.npy ...    array (num_samples, C, L), row i is samples[i]

Loaders memory-map the arrays: a batch reads only its rows.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from automm.errors import CacheError
from automm.fileio import atomic_path, read_json, write_json

FORMAT = "automm.cache/1"
SPLITS = ("train", "val", "test")
CLASSES = ("real", "fake")


def tap_filename(tap: str) -> str:
    """File name of a tap's array (``image/1`` -> ``image_1.npy``)."""
    return tap.replace("/", "_") + ".npy"


def fingerprint(taps: Mapping[str, np.ndarray], samples: Sequence[Mapping[str, Any]]) -> str:
    """sha256 over the tap arrays and the sample records (ids, labels, splits)."""
    h = hashlib.sha256()
    for name in sorted(taps):
        arr = np.ascontiguousarray(taps[name])
        h.update(f"{name}:{arr.dtype}:{arr.shape}".encode())
        h.update(arr.tobytes())
    for s in samples:
        h.update(f"{s['id']}|{s['label']}|{s.get('identity', '')}|{s.get('split', '')}\n".encode())
    return h.hexdigest()


def write_cache(
    path: str | os.PathLike[str],
    taps: Mapping[str, np.ndarray],
    samples: Sequence[Mapping[str, Any]],
    *,
    source: Mapping[str, Any] | None = None,
    skipped: Sequence[Mapping[str, Any]] = (),
    classes: Sequence[str] = CLASSES,
) -> Path:
    """Write a complete cache directory atomically (a temp directory renamed into place).

    Each sample needs ``id`` (unique), ``label`` (index into ``classes``), ``identity``
    and ``split`` (one of train/val/test).
    """
    out = Path(path)
    n = len(samples)
    _check_samples(out, samples, len(classes))
    for name, arr in taps.items():
        if arr.ndim != 3 or arr.shape[0] != n:
            raise CacheError(f"{out}: tap {name!r} has shape {arr.shape}; expected ({n}, C, L)")
    fp = fingerprint(taps, samples)
    manifest = {
        "format": FORMAT,
        "taps": {name: {"shape": list(arr.shape[1:]), "file": tap_filename(name),
                        "dtype": "float32"} for name, arr in taps.items()},
        "classes": list(classes),
        "samples": [dict(s) for s in samples],
        "fingerprint": fp,
        "source": dict(source or {}),
        "skipped": [dict(s) for s in skipped],
    }
    with atomic_path(out, directory=True) as tmp:
        for name, arr in taps.items():
            np.save(tmp / tap_filename(name), np.asarray(arr, dtype=np.float32))
        write_json(tmp / "manifest.json", manifest)
    return out


def _check_samples(path: Path, samples: Sequence[Mapping[str, Any]], num_classes: int) -> None:
    seen: set[str] = set()
    for s in samples:
        for key in ("id", "label", "identity", "split"):
            if key not in s:
                raise CacheError(f"{path}: sample {s.get('id', '?')!r} lacks {key!r}")
        if s["id"] in seen:
            raise CacheError(f"{path}: duplicate sample id {s['id']!r}")
        seen.add(s["id"])
        if s["split"] not in SPLITS:
            raise CacheError(f"{path}: sample {s['id']!r} has unknown split {s['split']!r}")
        if not isinstance(s["label"], int) or not 0 <= s["label"] < num_classes:
            raise CacheError(f"{path}: sample {s['id']!r} has invalid label {s['label']!r}")


@dataclass
class FeatureCache:
    """A read-only, memory-mapped feature cache."""

    path: Path
    manifest: dict[str, Any]
    arrays: dict[str, np.ndarray]
    labels: np.ndarray
    splits: np.ndarray

    @classmethod
    def open(cls, path: str | os.PathLike[str]) -> FeatureCache:
        """Open and validate ``path``; problems raise :class:`CacheError` naming the cache."""
        root = Path(path)
        if not root.is_dir():
            raise CacheError(f"{root}: no such feature cache directory")
        manifest = read_json(root / "manifest.json", CacheError)
        if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
            fmt = manifest.get("format") if isinstance(manifest, dict) else None
            raise CacheError(f"{root}: unsupported cache format {fmt!r} (expected {FORMAT!r})")
        try:
            samples = manifest["samples"]
            classes = manifest["classes"]
            taps = manifest["taps"]
            _check_samples(root, samples, len(classes))
        except (KeyError, TypeError) as exc:
            raise CacheError(f"{root}: malformed manifest.json ({exc})") from None
        arrays = {}
        for name, info in taps.items():
            file = root / info["file"]
            try:
                arr = np.load(file, mmap_mode="r", allow_pickle=False)
            except (OSError, ValueError) as exc:
                raise CacheError(f"{file}: cannot read tap {name!r}: {exc}") from None
            if arr.shape != (len(samples), *info["shape"]):
                raise CacheError(f"{file}: shape {arr.shape} does not match the manifest")
            arrays[name] = arr
        labels = np.array([s["label"] for s in samples], dtype=np.int64)
        splits = np.array([s["split"] for s in samples])
        return cls(root, manifest, arrays, labels, splits)

    @property
    def taps(self) -> dict[str, tuple[int, int]]:
        """Tap name -> per-sample shape ``(C, L)``."""
        return {name: tuple(a.shape[1:]) for name, a in self.arrays.items()}

    @property
    def samples(self) -> list[dict[str, Any]]:
        """The sample records."""
        return self.manifest["samples"]

    @property
    def fingerprint(self) -> str:
        """The content fingerprint recorded at write time."""
        return self.manifest["fingerprint"]

    def __len__(self) -> int:
        return len(self.labels)

    def indices(self, split: str) -> np.ndarray:
        """Row indices of one split."""
        return np.flatnonzero(self.splits == split)

    def batch(self, rows: np.ndarray, taps: Sequence[str] | None = None) -> dict[str, torch.Tensor]:
        """Tap tensors ``(len(rows), C, L)`` for the given rows (reads only those rows)."""
        names = list(taps) if taps is not None else list(self.arrays)
        order = np.asarray(rows)
        return {t: torch.from_numpy(np.ascontiguousarray(self.arrays[t][order])) for t in names}

    def require_taps(self, taps: Sequence[str]) -> None:
        """Raise :class:`CacheError` unless every tap in ``taps`` is in the cache."""
        missing = [t for t in taps if t not in self.arrays]
        if missing:
            raise CacheError(f"{self.path}: incompatible cache: missing tap(s) {', '.join(missing)} "
                             f"(has {', '.join(self.arrays) or 'none'})")
