"""Videos -> feature cache: plan the jobs and splits, resume from the partial results, extract
the rest on an executor, write the cache (``automm.data.write_cache``), which replaces the
directory, partial files included."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from automm.data import write_cache
from automm.errors import DataError
from automm.interrupts import check
from automm.locking import owning
from automm.train.device import resolve_device
from automm_media.classes import CLASSES
from automm_media.executors import BATCH, resolve_workers, results
from automm_media.extractor import ExtractSettings, FeatureExtractor
from automm_media.planning import Job, assign_splits, list_jobs, protocol_name, split_warnings
from automm_media.resume import listing_key, load_partial, record_kinds, up_to_date


@dataclass
class ExtractResult:
    """What one ``extract`` run did."""

    path: Path
    samples: int = 0
    extracted: int = 0
    resumed: int = 0
    skipped: list[dict[str, Any]] = field(default_factory=list)
    splits: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    stage_seconds: dict[str, float] = field(default_factory=dict)
    up_to_date: bool = False
    source: dict[str, Any] = field(default_factory=dict)
    dropped: int = 0
    split_record: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    workers: int = 1


@owning("out")
def extract(
    roots: Sequence[str | os.PathLike[str]],
    out: str | os.PathLike[str],
    *,
    settings: ExtractSettings | None = None,
    dataset: str | None = None,
    test_roots: Sequence[str | os.PathLike[str]] = (),
    fractions: Sequence[float] = (0.7, 0.15, 0.15),
    split_seed: int = 0,
    split: str = "identity",
    linked: str = "drop",
    device: str = "auto",
    workers: int | str = "auto",
    batch: int = BATCH,
    executor: str = "local",
    ray_address: str | None = None,
    progress: bool | None = True,
    on_sample: Callable[[Job], None] | None = None,
) -> ExtractResult:
    """Extract features of every video under ``roots`` (and ``test_roots``) into the cache ``out``.

    Skipped videos (unreadable, no audio, silent, no face, too short, ...) are listed with
    their reason, never fatal. A run whose cache already matches the settings and the
    files is a no-op; an interrupted run resumes from the partial results. ``on_sample`` is
    called for each video before its batch is extracted. ``split`` (``identity`` or ``random``) and ``linked``
    (``drop`` or ``keep``) choose the splits (:func:`automm.data.splits.split_samples`); dropped
    linked fakes are not extracted. ``workers`` > 1 (``auto``: every usable CPU core) extracts in
    that many spawned processes, or with ``executor="ray"`` in that many Ray actors
    (:mod:`automm_media.executors`; a local Ray instance, or the cluster at ``ray_address``);
    the backbones run on ``batch`` videos at a time. The cache is the same, within float
    tolerance, whatever ``workers`` and ``batch``.
    ``out`` is owned by this process meanwhile (:mod:`automm.locking`); a cache that does not
    open intact (half written, half deleted, corrupt) is never "up to date". ``progress=None``
    shows the progress bar only when stderr is a terminal. Each finished video is a safe point
    (:func:`automm.interrupts.check`): a stop keeps what is done for the next run.
    """
    from tqdm.auto import tqdm

    settings = settings or ExtractSettings()
    workers = resolve_workers(workers)
    out = Path(out)
    start = time.perf_counter()
    if len(fractions) != 3 or min(fractions) < 0 or not sum(fractions) > 0:
        raise DataError(f"invalid split fractions {list(fractions)}")
    jobs, records = list_jobs(roots, test_roots=test_roots, dataset=dataset)
    key = settings.key()
    listing = listing_key(jobs, fractions, split_seed, split, linked)
    result = ExtractResult(out, samples=len(jobs), workers=workers)
    if out.is_dir() and not (out / "manifest.json").is_file() and not (out / ".partial").is_dir() \
            and any(out.iterdir()):
        raise DataError(f"{out}: exists and is not a feature cache; refusing to replace it")
    old = up_to_date(out, key, listing)
    if old is not None:
        record_kinds(out / "manifest.json", old, jobs)
        source = old.get("source", {})
        result.up_to_date, result.source, result.skipped = True, source, old.get("skipped", [])
        result.split_record = source.get("dataset", {}).get("split", {})
        return result
    plan = assign_splits(jobs, fractions, split_seed, method=split, linked=linked)
    result.dropped, result.split_record = len(plan.dropped), plan.record(fractions, split_seed)
    jobs = [j for j in jobs if j.sample.id in plan.assignment]
    partial = out / ".partial" / key
    extractor = FeatureExtractor(settings, resolve_device(device))
    features, skipped, todo = load_partial(jobs, partial)
    result.resumed = len(features)
    bar = tqdm(total=len(todo), desc="extract", unit="video", dynamic_ncols=True,
               disable=True if not todo else None if progress is None else not progress)
    for job, feats, record in results(executor, todo, extractor, partial, workers, batch=batch,
                                      ray_address=ray_address, on_sample=on_sample):
        if feats is not None:
            features[job.sample.id] = feats
            result.extracted += 1
        else:
            skipped[job.sample.id] = record
        bar.update(1)
        bar.set_postfix(skipped=len(skipped), refresh=False)
        check()  # a safe point: this video's result is on disk
    bar.close()
    result.stage_seconds = dict(extractor.seconds)
    kept = [j for j in jobs if j.sample.id in features]
    result.skipped = [skipped[j.sample.id] for j in jobs if j.sample.id in skipped]
    if not kept:
        reasons = "; ".join(f"{s['id']}: {s['reason']}" for s in result.skipped[:5])
        raise DataError(f"{', '.join(map(str, roots))}: no usable video ({len(result.skipped)} skipped: "
                        f"{reasons}{' ...' if len(result.skipped) > 5 else ''}); partial results kept in "
                        f"{partial}")
    samples = _write(out, kept, plan.assignment, features, extractor, result,
                     {"protocol": protocol_name(records), "datasets": records, "split": result.split_record,
                      "listing_key": listing})
    result.splits = {s: sum(1 for r in samples if r["split"] == s) for s in ("train", "val", "test")}
    result.warnings = split_warnings(samples, CLASSES)
    result.seconds = time.perf_counter() - start
    return result


def _write(out: Path, kept: Sequence[Job], splits: dict[str, str],
           features: dict[str, dict[str, np.ndarray]], extractor: FeatureExtractor, result: ExtractResult,
           dataset: dict[str, Any]) -> list[dict[str, Any]]:
    """Write the cache of the ``kept`` videos (their source with the ``dataset`` record) and
    return its sample records."""
    samples = [{"id": j.sample.id, "label": j.sample.label, "identity": j.sample.identity,
                "split": splits[j.sample.id], "identities": list(j.sample.identities),
                "category": j.sample.category, "method": j.sample.method, "dataset": j.dataset,
                "path": str(j.sample.path.resolve())}
               for j in kept]
    taps = {name: np.stack([features[j.sample.id][name] for j in kept]).astype(np.float32)
            for name, _ in extractor.taps}
    source = extractor.source()
    for record in source["backbones"].values():
        record["taps"] = {t: list(taps[t].shape[1:]) for t in record["taps"]}
    source["dataset"] = dataset
    write_cache(out, taps, samples, source=source, skipped=result.skipped, classes=CLASSES)
    result.source = source
    return samples
