"""Resuming an extraction: the key of a dataset listing, per-video partial results
(``CACHE_DIR/.partial/<settings key>/<name>.npz`` or ``.json`` for a skipped video, written
atomically as each video finishes) and whether a finished cache is intact."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from automm.data import FeatureCache
from automm.errors import CacheError, DataError
from automm.fileio import atomic_path, quiet_loader, read_json, write_json
from automm.schema import obj, problem, string
from automm_media.decode import SkipVideo
from automm_media.extractor import FeatureExtractor
from automm_media.planning import Job

UP_TO_DATE = obj({"source": obj({"settings_key": string(), "dataset": obj({"listing_key": string()})})})
"""What an up-to-date check reads of a cache manifest (beyond its schema)."""
SKIPPED = obj({"id": string(), "path": string(), "kind": string(), "reason": string()})
"""Schema of a skipped video's partial record (:func:`_skip_record`)."""

def listing_key(jobs: Sequence[Job], fractions: Sequence[float], seed: int, method: str, linked: str) -> str:
    """A digest of the videos (ids, roles, sizes, times) and the split parameters."""
    h = hashlib.sha256(json.dumps([list(fractions), seed, method, linked]).encode())
    for j in jobs:
        st = j.sample.path.stat() if j.sample.path.exists() else None
        h.update(f"{j.sample.id}|{j.role}|{st and st.st_size}|{st and st.st_mtime_ns}\n".encode())
    return h.hexdigest()[:16]


def cache_intact(cache: Path) -> bool:
    """Whether ``cache`` opens and verifies as a complete feature cache."""
    try:
        FeatureCache.open(cache)
    except CacheError:
        return False
    return True


def up_to_date(out: Path, settings_key: str, listing: str) -> dict[str, Any] | None:
    """The manifest of the cache ``out`` when it is intact and was extracted with these settings
    from this listing (nothing to do), else None."""
    manifest = out / "manifest.json"
    if not (manifest.is_file() and cache_intact(out)):
        return None
    old = read_json(manifest, DataError)
    if problem(old, UP_TO_DATE) is not None:  # not an extract cache, or one of an older automm
        return None
    source = old["source"]
    if source["settings_key"] == settings_key and source["dataset"]["listing_key"] == listing:
        return old
    return None


def record_kinds(manifest_file: Path, manifest: dict[str, Any], jobs: Sequence[Job]) -> None:
    """Rewrite the ``category`` and ``method`` of the samples of an up-to-date cache where the
    layout now says otherwise (caches written before samples recorded their method): the
    fingerprint does not cover them, so the features stay valid."""
    kinds = {j.sample.id: {"category": j.sample.category, "method": j.sample.method} for j in jobs}
    stale = [s for s in manifest["samples"] if s["id"] in kinds
             and {k: s.get(k, "") for k in ("category", "method")} != kinds[s["id"]]]
    for sample in stale:
        sample.update(kinds[sample["id"]])
    if stale:
        write_json(manifest_file, manifest)


Features = dict[str, np.ndarray]
"""A video's features by tap."""


def load_partial(jobs: Sequence[Job], partial: Path
                 ) -> tuple[dict[str, Features], dict[str, dict[str, Any]], list[tuple[Job, str]]]:
    """The partial results in ``partial``: features and skip records by sample id, and the
    ``(job, partial name)`` pairs still to extract (a damaged features file is extracted again)."""
    features: dict[str, dict[str, np.ndarray]] = {}
    skipped: dict[str, dict[str, Any]] = {}
    todo = []
    for job in jobs:
        name = partial_name(job)
        done = load_features(partial / f"{name}.npz") if (partial / f"{name}.npz").is_file() else None
        if done is not None:
            features[job.sample.id] = done
        elif (partial / f"{name}.json").is_file() and (record := _skipped(partial / f"{name}.json")):
            skipped[job.sample.id] = record
        else:
            todo.append((job, name))
    return features, skipped, todo


def _skipped(path: Path) -> dict[str, Any] | None:
    """The skip record in a partial file (:func:`_skip_record`); None when it is damaged."""
    try:
        record = read_json(path, DataError)
    except DataError:
        return None
    return record if problem(record, SKIPPED) is None else None


def partial_name(job: Job) -> str:
    """The file name (without suffix) of a video's partial result: its id, size and time."""
    p = job.sample.path
    st = p.stat() if p.exists() else None
    raw = f"{job.sample.id}\0{st and st.st_size}\0{st and st.st_mtime_ns}"
    return hashlib.sha1(raw.encode()).hexdigest()[:24]


def _save_features(path: Path, features: dict[str, np.ndarray]) -> None:
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        np.savez(f, **{k.replace("/", "__"): v for k, v in features.items()})


def load_features(path: Path) -> dict[str, np.ndarray] | None:
    """The features in a partial file; None when it is damaged."""
    try:
        with quiet_loader(), np.load(path, allow_pickle=False) as z:
            return {k.replace("__", "/"): z[k] for k in z.files}
    except (OSError, ValueError, EOFError):
        return None  # damaged partial file: extract again


Outcome = tuple[Features | None, dict[str, Any] | None]
"""A video's features (saved) or its skip record."""


def extract_batch(extractor: FeatureExtractor, todo: Sequence[tuple[Job, str]], partial: Path
                  ) -> list[Outcome]:
    """Features of the ``(job, partial name)`` videos of ``todo``, extracted as one batch
    (:meth:`FeatureExtractor.batch`), each saved to ``partial`` (or its skip record): never
    raises for a bad video."""
    try:
        found: list[Features | Exception] = extractor.batch([job.sample.path for job, _ in todo])
    except Exception as exc:  # the batched backbones failed: every video of the batch is an error
        found = [exc] * len(todo)
    out: list[Outcome] = []
    for (job, name), feats in zip(todo, found, strict=True):
        if not isinstance(feats, Exception):
            try:
                _save_features(partial / f"{name}.npz", feats)
                out.append((feats, None))
                continue
            except Exception as exc:  # e.g. a full disk: this video is an error, retried next run
                feats = exc
        out.append((None, _skip_record(job, name, partial, feats)))
    return out


def _skip_record(job: Job, name: str, partial: Path, exc: Exception) -> dict[str, Any]:
    """The record of a video ``exc`` made unusable, saved to ``partial`` unless it is an
    unexpected error (which the next run retries)."""
    kind = exc.kind if isinstance(exc, SkipVideo) else "error"
    reason = str(exc) if isinstance(exc, SkipVideo) else f"{type(exc).__name__}: {exc}"
    record = {"id": job.sample.id, "path": str(job.sample.path), "kind": kind, "reason": reason}
    if kind != "error":
        write_json(partial / f"{name}.json", record)
    return record
