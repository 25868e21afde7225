"""Validation of a feature cache's ``manifest.json`` before any tap file is opened."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from automm.data.names import SPLITS
from automm.errors import CacheError

MAX_EXTENT = 1 << 20
"""Largest channel count or length of a tap accepted from a manifest."""
MAX_CLASSES = 1000
FINGERPRINT = re.compile(r"[0-9a-f]{64}")


def check_manifest(root: Path, manifest: Any, format_tag: str) -> None:
    """Raise :class:`CacheError` (one line naming ``root``) unless ``manifest`` has the cache
    schema: format, taps with a ``[C, L]`` shape of positive integers and a file inside
    ``root``, distinct class names, well-formed samples and a sha256 fingerprint."""
    if not isinstance(manifest, dict) or manifest.get("format") != format_tag:
        fmt = manifest.get("format") if isinstance(manifest, dict) else None
        raise CacheError(f"{root}: unsupported cache format {fmt!r} (expected {format_tag!r})")
    for key, kind in (("taps", dict), ("classes", list), ("samples", list), ("fingerprint", str)):
        if not isinstance(manifest.get(key), kind):
            raise CacheError(f"{root}: malformed manifest.json: {key!r} must be a JSON "
                             f"{'object' if kind is dict else 'array' if kind is list else 'string'}")
    for key, kind in (("source", dict), ("skipped", list)):
        if not isinstance(manifest.get(key, kind()), kind):
            raise CacheError(f"{root}: malformed manifest.json: {key!r} has the wrong type")
    if not FINGERPRINT.fullmatch(manifest["fingerprint"]):
        raise CacheError(f"{root}: malformed manifest.json: 'fingerprint' is not a sha256 hex digest")
    classes = manifest["classes"]
    if not 2 <= len(classes) <= MAX_CLASSES or not all(isinstance(c, str) for c in classes) \
            or len(set(classes)) != len(classes):
        raise CacheError(f"{root}: malformed manifest.json: 'classes' must be 2 to {MAX_CLASSES} "
                         "distinct names")
    if not manifest["taps"]:
        raise CacheError(f"{root}: malformed manifest.json: no taps")
    for name, info in manifest["taps"].items():
        check_tap(root, name, info)
    check_samples(root, manifest["samples"], len(classes))


def check_tap(root: Path, name: str, info: Any) -> None:
    """One ``taps`` entry: ``shape`` ``[C, L]`` in range, ``file`` a name inside ``root``."""
    where = f"{root}: malformed manifest.json: tap {name!r}"
    if not isinstance(info, dict):
        raise CacheError(f"{where} must be an object")
    shape = info.get("shape")
    if not (isinstance(shape, list) and len(shape) == 2
            and all(isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= MAX_EXTENT for v in shape)):
        raise CacheError(f"{where}: 'shape' must be [C, L] with integers from 1 to {MAX_EXTENT}")
    file = info.get("file")
    if not isinstance(file, str) or not file or "\0" in file:
        raise CacheError(f"{where}: 'file' must be a file name")
    if info.get("dtype", "float32") != "float32":
        raise CacheError(f"{where}: 'dtype' must be \"float32\"")
    resolved, base = (root / file).resolve(), root.resolve()
    if resolved == base or not resolved.is_relative_to(base):
        raise CacheError(f"{where}: file {file!r} is outside the cache directory")


def check_samples(root: Path, samples: Any, num_classes: int) -> None:
    """Each sample has a unique string ``id``, a ``label`` in ``range(num_classes)``, an
    ``identity`` and a ``split`` of train/val/test."""
    if not isinstance(samples, list) or not samples:
        raise CacheError(f"{root}: no samples")
    seen: set[str] = set()
    for s in samples:
        if not isinstance(s, Mapping):
            raise CacheError(f"{root}: malformed sample record {_short(s)}")
        for key in ("id", "label", "identity", "split"):
            if key not in s:
                raise CacheError(f"{root}: sample {_short(s.get('id', '?'))} lacks {key!r}")
        sid = s["id"]
        if not isinstance(sid, str):
            raise CacheError(f"{root}: sample id {_short(sid)} is not a string")
        if sid in seen:
            raise CacheError(f"{root}: duplicate sample id {_short(sid)}")
        seen.add(sid)
        if not isinstance(s["identity"], str | int) or isinstance(s["identity"], bool):
            raise CacheError(f"{root}: sample {_short(sid)} has invalid identity {_short(s['identity'])}")
        if not isinstance(s["split"], str) or s["split"] not in SPLITS:
            raise CacheError(f"{root}: sample {_short(sid)} has unknown split {_short(s['split'])}")
        label = s["label"]
        if not isinstance(label, int) or isinstance(label, bool) or not 0 <= label < num_classes:
            raise CacheError(f"{root}: sample {_short(sid)} has invalid label {_short(label)}")


def _short(value: Any, limit: int = 60) -> str:
    """``repr`` cut to ``limit`` characters (a 20 MB id makes a one-line error, not a page)."""
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."
