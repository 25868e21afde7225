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

import contextlib
import hashlib
import os
import stat
from collections.abc import Iterator, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from automm.data.manifest import check_manifest, check_samples
from automm.errors import CacheError
from automm.fileio import atomic_path, quiet_loader, read_json, write_json
from automm.locking import owned

FORMAT = "automm.cache/1"

Signature = tuple[tuple[str, int, int, int], ...]
"""What identifies a cache's files on disk: (name, inode, size, mtime_ns) of the manifest and tap files."""
_REUSE: ContextVar[dict[Path, tuple[Signature, bool, FeatureCache]] | None] = ContextVar("_REUSE",
                                                                                       default=None)


def tap_filename(tap: str) -> str:
    """File name of a tap's array (``image/1`` -> ``image_1.npy``)."""
    return tap.replace("/", "_") + ".npy"


CHUNK_BYTES = 32 * 2**20
"""Bytes of tap data read at a time while hashing (bounded memory for any cache size)."""


def fingerprint(taps: Mapping[str, np.ndarray], samples: Sequence[Mapping[str, Any]],
                *, require_finite: Path | None = None) -> str:
    """sha256 over the tap arrays and the sample records (ids, labels, splits), read in chunks.

    With ``require_finite`` (the cache directory), a NaN or infinite value raises
    :class:`CacheError` naming the tap file and the sample.
    """
    h = hashlib.sha256()
    for name in sorted(taps):
        arr = taps[name]
        h.update(f"{name}:{arr.dtype}:{arr.shape}".encode())
        rows = max(1, CHUNK_BYTES // max(1, arr[:1].nbytes))
        for start in range(0, len(arr), rows):
            chunk = np.ascontiguousarray(arr[start:start + rows])
            h.update(memoryview(chunk).cast("B"))
            if require_finite is not None and not np.isfinite(chunk).all():
                row = start + int(np.flatnonzero(~np.isfinite(chunk).reshape(len(chunk), -1).all(1))[0])
                raise CacheError(f"{require_finite / tap_filename(name)}: non-finite value (NaN or "
                                 f"infinity) in tap {name!r}, sample {samples[row]['id']!r}")
    for s in samples:
        h.update(f"{s['id']}|{s['label']}|{s.get('identity', '')}|{s.get('split', '')}\n".encode())
    return h.hexdigest()


def data_record(cache: FeatureCache) -> dict[str, Any]:
    """The ``provenance.data`` entry of arch.json for ``cache``: path, fingerprint, source."""
    return {"path": str(cache.path.resolve()), "fingerprint": cache.fingerprint,
            "source": cache.manifest.get("source", {})}


def write_cache(
    path: str | os.PathLike[str],
    taps: Mapping[str, np.ndarray],
    samples: Sequence[Mapping[str, Any]],
    *,
    source: Mapping[str, Any] | None = None,
    skipped: Sequence[Mapping[str, Any]] = (),
    classes: Sequence[str],
) -> Path:
    """Write a complete cache directory atomically (a temp directory renamed into place; an
    existing cache is renamed aside first and deleted last), owning ``path`` meanwhile.

    Each sample needs ``id`` (unique), ``label`` (index into ``classes``, the class names the
    manifest records), ``identity`` and ``split`` (one of train/val/test).
    """
    out = Path(path)
    n = len(samples)
    check_samples(out, list(samples), len(classes))
    for name, arr in taps.items():
        if arr.ndim != 3 or arr.shape[0] != n:
            raise CacheError(f"{out}: tap {name!r} has shape {arr.shape}; expected ({n}, C, L)")
    taps = {name: np.ascontiguousarray(arr, dtype=np.float32) for name, arr in taps.items()}
    fp = fingerprint(taps, samples, require_finite=out)
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
    with owned(out), atomic_path(out, directory=True) as tmp:
        for name, arr in taps.items():
            np.save(tmp / tap_filename(name), arr)
        write_json(tmp / "manifest.json", manifest)
    return out


@dataclass
class FeatureCache:
    """A read-only, memory-mapped feature cache."""

    path: Path
    manifest: dict[str, Any]
    arrays: dict[str, np.ndarray]
    labels: np.ndarray
    splits: np.ndarray
    notes: list[str] = field(default_factory=list)
    """Things the user should know (e.g. a tap converted to float32)."""

    @classmethod
    def open(cls, path: str | os.PathLike[str], *, verify: bool = True) -> FeatureCache:
        """Open and validate ``path`` (inside :func:`reusing_opened`, the cache opened there
        before when its files are unchanged); problems raise :class:`CacheError` naming it.

        The manifest's schema, each tap file's dtype and shape, and (with ``verify``) the
        fingerprint over all tap data and the absence of NaN/infinity are checked; a cache
        that was half written or half deleted fails here. Tap files that are floating point
        but not native float32 are converted in memory (with a note).
        """
        opened = _REUSE.get()
        if opened is None:
            return cls._open(Path(path), verify=verify)
        root = Path(path).resolve()
        signature = _signature(root)
        known = opened.get(root)
        if signature is not None and known is not None and known[0] == signature and (known[1] or not verify):
            return known[2]
        cache = cls._open(root, verify=verify)
        if signature is not None and signature == _signature(root):  # not rewritten while read
            opened[root] = (signature, verify, cache)
        return cache

    @classmethod
    def _open(cls, root: Path, *, verify: bool) -> FeatureCache:
        if not root.is_dir():
            raise CacheError(f"{root}: no such feature cache directory")
        manifest = read_json(root / "manifest.json", CacheError)
        check_manifest(root, manifest, FORMAT)
        samples = manifest["samples"]
        arrays, notes = {}, []
        for name, info in manifest["taps"].items():
            arr, note = _load_tap(root / info["file"], name, (len(samples), *info["shape"]))
            arrays[name] = arr
            if note:
                notes.append(note)
        if verify and fingerprint(arrays, samples, require_finite=root) != manifest["fingerprint"]:
            raise CacheError(f"{root}: the tap data does not match the manifest's fingerprint (a "
                             "corrupt, half-written or modified cache); extract it again")
        converted = {name: a if a.dtype == np.float32 else np.asarray(a, dtype=np.float32)
                     for name, a in arrays.items()}
        labels = np.array([s["label"] for s in samples], dtype=np.int64)
        splits = np.array([s["split"] for s in samples])
        return cls(root, manifest, converted, labels, splits, notes)

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

    @property
    def classes(self) -> list[str]:
        """The class names (a sample's label indexes them)."""
        return self.manifest["classes"]

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


@contextlib.contextmanager
def reusing_opened(opened: dict[Path, Any]) -> Iterator[None]:
    """Within: :meth:`FeatureCache.open` keeps the caches it opens in ``opened`` (by directory) and
    returns the one there while the directory's manifest and tap files are unchanged (same
    inode, size and modification time), verified when asked; ``opened`` outlives the block, so
    a sweep worker opens (and verifies) its cache once for all its points."""
    token = _REUSE.set(opened)
    try:
        yield
    finally:
        _REUSE.reset(token)


def _signature(root: Path) -> Signature | None:
    """The :data:`Signature` of the cache directory ``root``; None when it cannot be read."""
    try:
        names = ["manifest.json", *sorted(p.name for p in root.glob("*.npy"))]
        found = [(name, (root / name).stat()) for name in names]
    except OSError:
        return None
    return tuple((name, st.st_ino, st.st_size, st.st_mtime_ns) for name, st in found)


def _load_tap(file: Path, name: str, shape: tuple[int, ...]) -> tuple[np.ndarray, str | None]:
    """Memory-map one regular ``.npy`` tap file of ``shape``; floating dtypes other than native
    float32 are accepted with a note (converted on open), anything else is an error."""
    try:
        mode = file.stat().st_mode
    except OSError as exc:
        raise CacheError(f"{file}: cannot read tap {name!r}: {exc.strerror or exc} (a half-written "
                         "or half-deleted cache?)") from None
    if not stat.S_ISREG(mode):
        raise CacheError(f"{file}: tap {name!r} is not a regular file")
    try:
        with quiet_loader():
            arr = np.load(file, mmap_mode="r", allow_pickle=False)
    except (OSError, ValueError, EOFError) as exc:
        reason = (str(exc).splitlines() or ["empty or truncated file"])[0][:200]
        raise CacheError(f"{file}: cannot read tap {name!r}: {reason}") from None
    if not isinstance(arr, np.ndarray):
        raise CacheError(f"{file}: tap {name!r} is not a single .npy array")
    if arr.dtype.kind != "f":
        raise CacheError(f"{file}: tap {name!r} has dtype {arr.dtype}; expected float32")
    if arr.shape != shape:
        raise CacheError(f"{file}: shape {arr.shape} does not match the manifest {shape}")
    native = np.dtype(np.float32)
    if arr.dtype != native:
        return arr, f"{file}: tap {name!r} stored as {arr.dtype.str}; converted to native float32"
    return arr, None
