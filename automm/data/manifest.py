"""Validation of a feature cache's ``manifest.json`` before any tap file is opened."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from automm.data.names import SPLITS
from automm.errors import CacheError
from automm.schema import ANY, check, integer, list_of, map_of, obj, optional, string

MAX_EXTENT = 1 << 20
"""Largest channel count or length of a tap accepted from a manifest."""
MAX_CLASSES = 1000
FINGERPRINT = re.compile(r"[0-9a-f]{64}")
SCHEMA = obj({
    "format": string(),
    "taps": map_of(obj({"shape": list_of(integer(1, MAX_EXTENT), 2, 2), "file": string(pattern=r"[^\x00]+"),
                        "dtype": optional(string("float32"))}), low=1),
    "classes": list_of(string(), 2, MAX_CLASSES),
    "samples": list_of(obj({"id": string(), "label": integer(0, MAX_CLASSES - 1), "identity": ANY,
                            "split": string(*SPLITS)}), low=1),
    "fingerprint": string(pattern=FINGERPRINT.pattern),
    "source": optional(obj()),
    "skipped": optional(list_of(obj({"id": optional(string()), "reason": optional(string())}))),
})
"""Schema of ``manifest.json`` (docs/formats.md); what it cannot say (distinct classes, unique
sample ids, labels below the class count, tap files inside the cache) :func:`check_manifest`
checks after it."""


def check_manifest(root: Path, manifest: Any, format_tag: str) -> None:
    """Raise :class:`CacheError` (one line naming the manifest and the field) unless ``manifest``
    has the cache format and :data:`SCHEMA`, distinct class names, tap files inside ``root`` and
    well-formed samples (:func:`check_samples`)."""
    where = root / "manifest.json"
    if isinstance(manifest, dict) and manifest.get("format") != format_tag:
        raise CacheError(f"{where}: unsupported cache format {manifest.get('format')!r:.60} "
                         f"(expected {format_tag!r})")
    check(manifest, SCHEMA, where, CacheError)
    classes = manifest["classes"]
    if len(set(classes)) != len(classes):
        raise CacheError(f"{where}: field classes must be distinct names "
                         f"(got {_short(classes)})")
    for name, info in manifest["taps"].items():
        check_tap(root, name, info)
    check_samples(root, manifest["samples"], len(classes))


def check_tap(root: Path, name: str, info: Mapping[str, Any]) -> None:
    """One ``taps`` entry (of the schema): its ``file`` names a file inside ``root``."""
    file = info["file"]
    try:
        resolved, base = (root / file).resolve(), root.resolve()
    except (OSError, RuntimeError) as exc:  # a symlink loop (RuntimeError before Python 3.13)
        raise CacheError(f"{root / file}: cannot read tap {name!r}: {exc}") from None
    if resolved == base or not resolved.is_relative_to(base):
        raise CacheError(f"{root / 'manifest.json'}: field taps.{name}.file: {_short(file)} is outside "
                         "the cache directory")


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
