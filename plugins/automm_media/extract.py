"""Videos -> feature cache: decode, align faces, spectrogram, backbones; resumable.

Per-sample results (features or the reason a video was skipped) are written atomically
to ``CACHE_DIR/.partial/<settings key>/`` as they finish, so an interrupted run resumes
where it stopped; the final cache (``automm.data.write_cache``) replaces the directory,
partial files included.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

import automm
from automm import plugins
from automm.data import FeatureCache, MediaSample, write_cache
from automm.data.dataset import detect_layout
from automm.data.names import CLASSES
from automm.data.splits import SplitPlan, merge_plans, split_samples
from automm.errors import CacheError, DataError
from automm.fileio import atomic_path, read_json, write_json
from automm.locking import owning
from automm.train.device import resolve_device
from automm_media.audio import LogSpectrogram
from automm_media.backbone_set import DEFAULT_BACKBONES, build_backbone, check_backbones, describe
from automm_media.decode import SkipVideo, load_clip
from automm_media.faces import FaceAligner

EXTRACTOR = "automm_media/1"
IMAGE_BACKBONE, AUDIO_BACKBONE = (name for _, name in DEFAULT_BACKBONES)


@dataclass(frozen=True)
class ExtractSettings:
    """Everything that determines the features of one video.

    ``backbones``: ``(modality, backbone name)`` pairs; ``weights``: ``(modality, file)`` pairs
    (modalities without one are randomly initialised with ``seed`` + their position).
    ``image_weights``/``audio_weights`` (the first form) are folded into ``weights``.
    """

    frames: int = 8
    crop: int = 112
    positions: int = 16
    min_seconds: float = 1.0
    seed: int = 0
    image_weights: str | None = None
    audio_weights: str | None = None
    backbones: tuple[tuple[str, str], ...] = DEFAULT_BACKBONES
    weights: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        if self.frames < 1 or self.crop < 32 or self.positions < 1:
            raise DataError(f"invalid extraction settings: frames={self.frames}, crop={self.crop}, "
                            f"positions={self.positions}")
        weights = dict((str(m), str(w)) for m, w in self.weights)
        weights.update((m, w) for m, w in (("image", self.image_weights), ("audio", self.audio_weights)) if w)
        object.__setattr__(self, "backbones", tuple((str(m), str(n)) for m, n in self.backbones))
        object.__setattr__(self, "weights", tuple(weights.items()))
        object.__setattr__(self, "image_weights", None)
        object.__setattr__(self, "audio_weights", None)
        check_backbones(self.backbones, self.weights)

    def weights_for(self, modality: str) -> str | None:
        """The weights file of ``modality``'s backbone, if any."""
        return dict(self.weights).get(modality)

    def key(self) -> str:
        """A digest of the settings (weights by content), naming the partial-results folder
        (the default backbones without weights digest as before they could be chosen)."""
        record: dict[str, Any] = asdict(self)
        record["weights"] = [[m, _file_digest(w)] for m, w in self.weights]
        if self.backbones == DEFAULT_BACKBONES:
            del record["backbones"]
        if not self.weights:
            del record["weights"]
        return hashlib.sha256(json.dumps(record, sort_keys=True).encode()).hexdigest()[:16]

    @classmethod
    def from_source(cls, source: dict[str, Any]) -> ExtractSettings:
        """The settings recorded in a cache manifest's ``source``."""
        try:
            return cls(**source["settings"])
        except (KeyError, TypeError) as exc:
            raise DataError(f"feature source lacks extraction settings ({exc}); "
                            "was it written by automm extract?") from None


def _file_digest(path: str) -> str:
    from automm_media.backbones import file_sha256

    p = Path(path)
    if not p.is_file():
        raise DataError(f"{p}: no such weights file")
    return file_sha256(p)


class FeatureExtractor:
    """One video file -> ``{tap: (channels, positions)}``; the single code path of ``extract``
    and ``predict``. Unusable videos raise :class:`SkipVideo`."""

    def __init__(self, settings: ExtractSettings, device: str | torch.device = "cpu") -> None:
        self.settings = settings
        self.device = torch.device(device)
        self.aligner = FaceAligner(settings.crop, device=self.device)
        self.spectrogram = LogSpectrogram().to(self.device)
        self.backbones = {m: build_backbone(m, name, L=settings.positions, weights=settings.weights_for(m),
                                            seed=settings.seed + k).to(self.device)
                          for k, (m, name) in enumerate(settings.backbones)}
        taps = [tap for b in self.backbones.values() for tap, _ in b.taps]
        if len(set(taps)) != len(taps):
            raise DataError(f"the backbones' tap names repeat: {', '.join(taps)}")
        self.seconds = {"decode": 0.0, "faces": 0.0, "backbones": 0.0}

    @property
    def taps(self) -> list[tuple[str, int]]:
        """``(name, channels)`` of every tap, in the order of the backbones."""
        return [tap for b in self.backbones.values() for tap in b.taps]

    def source(self) -> dict[str, Any]:
        """Provenance for the manifest: settings, face and audio front ends, backbones, versions."""
        import av
        import torchvision

        return {
            "extractor": EXTRACTOR,
            "frames": self.settings.frames,
            "L": self.settings.positions,
            "settings": asdict(self.settings),
            "settings_key": self.settings.key(),
            "face": self.aligner.describe(),
            "audio": LogSpectrogram.describe(),
            "backbones": {m: describe(self.backbones[m], name, self.settings.weights_for(m),
                                      self.settings.seed + k)
                          for k, (m, name) in enumerate(self.settings.backbones)},
            "versions": {"automm": automm.__version__, "torch": torch.__version__,
                         "torchvision": torchvision.__version__, "av": av.__version__},
        }

    @torch.inference_mode()
    def __call__(self, path: str | os.PathLike[str]) -> dict[str, np.ndarray]:
        t0 = time.perf_counter()
        clip = load_clip(path, self.settings.frames, min_seconds=self.settings.min_seconds)
        t1 = time.perf_counter()
        inputs = {}
        if "image" in self.backbones:
            inputs["image"] = self.aligner(clip.frames).unsqueeze(0)
        if "audio" in self.backbones:
            inputs["audio"] = self.spectrogram(torch.from_numpy(clip.audio).to(self.device)).unsqueeze(0)
        t2 = time.perf_counter()
        taps = {name: t for m, backbone in self.backbones.items() for name, t in backbone(inputs[m]).items()}
        out = {name: t[0].float().cpu().numpy() for name, t in taps.items()}
        t3 = time.perf_counter()
        for key, dt in zip(self.seconds, (t1 - t0, t2 - t1, t3 - t2), strict=True):
            self.seconds[key] += dt
        if not all(np.isfinite(a).all() for a in out.values()):
            raise SkipVideo("error", "features are not finite")
        return out


# --- datasets and protocols -------------------------------------------------------------


@dataclass(frozen=True)
class Job:
    """One video to extract: its sample (ids and identities namespaced in mixed runs) and role."""

    sample: MediaSample
    dataset: str
    role: str  # "all" (split train/val/test) | "train" (train/val) | "test"


def list_jobs(roots: Sequence[str | os.PathLike[str]], *, test_roots: Sequence[str | os.PathLike[str]] = (),
              dataset: str | None = None) -> tuple[list[Job], list[dict[str, Any]]]:
    """Videos of every dataset directory and the dataset records for the manifest.

    One directory: ids are paths relative to it. Several (mixed datasets, or ``test_roots``
    for train-on-one / test-on-the-other): ids and identities are prefixed ``<folder name>/``.
    """
    entries = [(Path(r), "train" if test_roots else "all") for r in roots]
    entries += [(Path(r), "test") for r in test_roots]
    tags: list[str] = []
    for root, _ in entries:
        tag = root.resolve().name or "dataset"
        while tag in tags:
            tag += "+"
        tags.append(tag)
    prefix = len(entries) > 1
    jobs: list[Job] = []
    records = []
    for (root, role), tag in zip(entries, tags, strict=True):
        if not root.is_dir():
            raise DataError(f"{root}: no such dataset directory")
        name = dataset or detect_layout(root)
        samples = plugins.datasets.get(name).samples(root)
        if not samples:
            raise DataError(f"{root}: no videos found for layout {name!r}")
        for s in samples:
            if prefix:
                s = MediaSample(f"{tag}/{s.id}", s.path, s.label,
                                tuple(f"{tag}/{i}" for i in s.identities), s.category)
            jobs.append(Job(s, tag, role))
        records.append({"name": tag, "layout": name, "root": str(root.resolve()), "role": role,
                        "videos": len(samples),
                        "primary_identity": getattr(plugins.datasets.get(name), "primary_identity", "")})
    return jobs, records


def assign_splits(jobs: Sequence[Job], fractions: Sequence[float], seed: int, *, method: str = "identity",
                  linked: str = "drop") -> SplitPlan:
    """Seeded splits (:func:`automm.data.splits.split_samples`). Role ``all``: train/val/test by
    ``fractions``; role ``train``: train/val in the same proportion; role ``test``: all to test."""
    plans = []
    for role, share in (("all", fractions), ("train", (fractions[0], fractions[1], 0.0)),
                        ("test", (0.0, 0.0, 1.0))):
        samples = [j.sample for j in jobs if j.role == role]
        if samples:
            plans.append(split_samples(samples, share, seed, method=method, linked=linked))
    return merge_plans(plans)


PROTOCOLS = ("single", "mixed", "cross")


def protocol_name(records: Sequence[dict[str, Any]]) -> str:
    """``single``, ``mixed`` (several datasets pooled) or ``cross`` (train on some, test on others)."""
    if any(r["role"] == "test" for r in records):
        return "cross"
    return "mixed" if len(records) > 1 else "single"


def check_protocol(protocol: str | None, train: Sequence[str], test: Sequence[str]) -> str:
    """The protocol of these dataset directories; a ``protocol`` they do not fit is a one-line error."""
    if not train:
        raise DataError("no dataset directory given (DATASET_DIRS or --train-dataset)")
    found = "cross" if test else "mixed" if len(train) > 1 else "single"
    if protocol is not None and protocol != found:
        need = {"single": "one dataset directory and no --test-dataset",
                "mixed": "two or more dataset directories (e.g. FakeAVCeleb and SWAN-DF) and no "
                         "--test-dataset",
                "cross": "--train-dataset A --test-dataset B"}[protocol]
        raise DataError(f"--protocol {protocol} needs {need}; got {len(train)} training and "
                        f"{len(test)} test dataset(s)")
    return found


# --- resumable extraction ----------------------------------------------------------------


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


MIN_CLASS_SAMPLES = 10
"""Fewer videos of a class in a split than this get a warning: its metrics are unreliable."""


def split_warnings(samples: Sequence[dict[str, Any]], classes: Sequence[str] = CLASSES) -> list[str]:
    """What makes a split of ``samples`` (records with ``split`` and ``label``) unfit for a search or
    an evaluation: being empty, or holding fewer than :data:`MIN_CLASS_SAMPLES` videos of a class."""
    out = []
    for split in ("train", "val", "test"):
        labels = [s["label"] for s in samples if s["split"] == split]
        if not labels:
            out.append(f"the {split} split is empty: add videos or change --fractions")
            continue
        few = [f"{n} {name}" for k, name in enumerate(classes) if (n := labels.count(k)) < MIN_CLASS_SAMPLES]
        if few:
            out.append(f"the {split} split has only {' and '.join(few)} video(s) (fewer than "
                       f"{MIN_CLASS_SAMPLES} of a class), so its metrics are unreliable: add videos "
                       "or change --fractions")
    return out


def _listing_key(jobs: Sequence[Job], fractions: Sequence[float], seed: int, method: str, linked: str) -> str:
    h = hashlib.sha256(json.dumps([list(fractions), seed, method, linked]).encode())
    for j in jobs:
        st = j.sample.path.stat() if j.sample.path.exists() else None
        h.update(f"{j.sample.id}|{j.role}|{st and st.st_size}|{st and st.st_mtime_ns}\n".encode())
    return h.hexdigest()[:16]


def _intact(cache: Path) -> bool:
    """Whether ``cache`` opens and verifies as a complete feature cache."""
    try:
        FeatureCache.open(cache)
    except CacheError:
        return False
    return True


def _partial_name(job: Job) -> str:
    p = job.sample.path
    st = p.stat() if p.exists() else None
    raw = f"{job.sample.id}\0{st and st.st_size}\0{st and st.st_mtime_ns}"
    return hashlib.sha1(raw.encode()).hexdigest()[:24]


def _save_features(path: Path, features: dict[str, np.ndarray]) -> None:
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        np.savez(f, **{k.replace("/", "__"): v for k, v in features.items()})


def _load_features(path: Path) -> dict[str, np.ndarray] | None:
    try:
        with np.load(path, allow_pickle=False) as z:
            return {k.replace("__", "/"): z[k] for k in z.files}
    except (OSError, ValueError, EOFError):
        return None  # damaged partial file: extract again


def _extract_one(extractor: FeatureExtractor, job: Job, name: str, partial: Path
                 ) -> tuple[dict[str, np.ndarray] | None, dict[str, Any] | None]:
    """Features of one video saved to ``partial`` (or its skip record): never raises for a bad video."""
    try:
        feats = extractor(job.sample.path)
        _save_features(partial / f"{name}.npz", feats)
        return feats, None
    except Exception as exc:  # one bad video is never fatal
        kind = exc.kind if isinstance(exc, SkipVideo) else "error"
        reason = str(exc) if isinstance(exc, SkipVideo) else f"{type(exc).__name__}: {exc}"
        record = {"id": job.sample.id, "path": str(job.sample.path), "kind": kind, "reason": reason}
        if kind != "error":  # unexpected errors are retried by the next run
            write_json(partial / f"{name}.json", record)
        return None, record


EXECUTORS = ("local", "ray")
_WORKER: list[FeatureExtractor] = []


def _init_worker(settings: ExtractSettings, device: str, threads: int) -> None:
    torch.set_num_threads(threads)
    _WORKER.append(FeatureExtractor(settings, device))


def _work(job: Job, name: str, partial: Path) -> tuple[Any, Any, dict[str, float]]:
    extractor = _WORKER[0]
    before = dict(extractor.seconds)
    feats, record = _extract_one(extractor, job, name, partial)
    return feats, record, {k: extractor.seconds[k] - before[k] for k in before}


def _results(todo: Sequence[tuple[Job, str]], extractor: FeatureExtractor, partial: Path, workers: int,
             on_sample: Callable[[Job], None] | None) -> Iterator[tuple[Job, Any, Any]]:
    """``(job, features or None, skip record or None)`` per video, in this process or in ``workers``
    spawned processes (each with its own extractor and ``threads / workers`` torch threads)."""
    if workers <= 1 or len(todo) <= 1:
        for job, name in todo:
            if on_sample is not None:
                on_sample(job)
            yield job, *_extract_one(extractor, job, name, partial)
        return
    threads = max(1, torch.get_num_threads() // workers)
    pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                               initializer=_init_worker, initargs=(extractor.settings, str(extractor.device),
                                                                   threads))
    try:
        futures = {}
        for job, name in todo:
            if on_sample is not None:
                on_sample(job)
            futures[pool.submit(_work, job, name, partial)] = job
        for future in as_completed(futures):
            feats, record, seconds = future.result()
            for key, value in seconds.items():
                extractor.seconds[key] += value
            yield futures[future], feats, record
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


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
    workers: int = 1,
    executor: str = "local",
    ray_address: str | None = None,
    progress: bool | None = True,
    on_sample: Callable[[Job], None] | None = None,
) -> ExtractResult:
    """Extract features of every video under ``roots`` (and ``test_roots``) into the cache ``out``.

    Skipped videos (unreadable, no audio, silent, no face, too short, ...) are listed with
    their reason, never fatal. A run whose cache already matches the settings and the
    files is a no-op; an interrupted run resumes from the partial results. ``on_sample`` is
    called before each video is extracted. ``split`` (``identity`` or ``random``) and ``linked``
    (``drop`` or ``keep``) choose the splits (:func:`automm.data.splits.split_samples`); dropped
    linked fakes are not extracted. ``workers`` > 1 extracts in that many spawned processes, or
    with ``executor="ray"`` in that many Ray actors (:mod:`automm_media.ray_executor`; a local
    Ray instance, or the cluster at ``ray_address``).
    ``out`` is owned by this process meanwhile (:mod:`automm.locking`); a cache that does not
    open intact (half written, half deleted, corrupt) is never "up to date". ``progress=None``
    shows the progress bar only when stderr is a terminal.
    """
    from tqdm.auto import tqdm

    settings = settings or ExtractSettings()
    out = Path(out)
    start = time.perf_counter()
    if len(fractions) != 3 or min(fractions) < 0 or not sum(fractions) > 0:
        raise DataError(f"invalid split fractions {list(fractions)}")
    jobs, records = list_jobs(roots, test_roots=test_roots, dataset=dataset)
    key = settings.key()
    listing = _listing_key(jobs, fractions, split_seed, split, linked)
    result = ExtractResult(out, samples=len(jobs))
    manifest_file = out / "manifest.json"
    if out.is_dir() and not manifest_file.is_file() and not (out / ".partial").is_dir() \
            and any(out.iterdir()):
        raise DataError(f"{out}: exists and is not a feature cache; refusing to replace it")
    if manifest_file.is_file() and _intact(out):
        old = read_json(manifest_file, DataError)
        source = old.get("source", {})
        if source.get("settings_key") == key and source.get("dataset", {}).get("listing_key") == listing:
            result.up_to_date, result.source, result.skipped = True, source, old.get("skipped", [])
            result.split_record = source.get("dataset", {}).get("split", {})
            return result
    plan = assign_splits(jobs, fractions, split_seed, method=split, linked=linked)
    result.dropped, result.split_record = len(plan.dropped), plan.record(fractions, split_seed)
    jobs = [j for j in jobs if j.sample.id in plan.assignment]
    splits = plan.assignment
    partial = out / ".partial" / key
    extractor = FeatureExtractor(settings, resolve_device(device))
    features: dict[str, dict[str, np.ndarray]] = {}
    skipped: dict[str, dict[str, Any]] = {}
    todo = []
    for job in jobs:
        name = _partial_name(job)
        done = _load_features(partial / f"{name}.npz") if (partial / f"{name}.npz").is_file() else None
        if done is not None:
            features[job.sample.id] = done
        elif (partial / f"{name}.json").is_file():
            skipped[job.sample.id] = read_json(partial / f"{name}.json", DataError)
        else:
            todo.append((job, name))
    result.resumed = len(features)
    bar = tqdm(total=len(todo), desc="extract", unit="video", dynamic_ncols=True,
               disable=True if not todo else None if progress is None else not progress)
    if executor not in EXECUTORS:
        raise DataError(f"unknown executor {executor!r} (use {' or '.join(EXECUTORS)})")
    if executor == "ray" and todo:
        from automm_media.ray_executor import ray_results

        results = ray_results(todo, extractor, partial, workers, ray_address, on_sample)
    else:
        results = _results(todo, extractor, partial, workers, on_sample)
    for job, feats, record in results:
        if feats is not None:
            features[job.sample.id] = feats
            result.extracted += 1
        else:
            skipped[job.sample.id] = record
        bar.update(1)
        bar.set_postfix(skipped=len(skipped), refresh=False)
    bar.close()
    result.stage_seconds = dict(extractor.seconds)
    kept = [j for j in jobs if j.sample.id in features]
    result.skipped = [skipped[j.sample.id] for j in jobs if j.sample.id in skipped]
    if not kept:
        reasons = "; ".join(f"{s['id']}: {s['reason']}" for s in result.skipped[:5])
        raise DataError(f"{', '.join(map(str, roots))}: no usable video ({len(result.skipped)} skipped: "
                        f"{reasons}{' ...' if len(result.skipped) > 5 else ''}); partial results kept in "
                        f"{partial}")
    samples = [{"id": j.sample.id, "label": j.sample.label, "identity": j.sample.identity,
                "split": splits[j.sample.id], "identities": list(j.sample.identities),
                "category": j.sample.category, "dataset": j.dataset, "path": str(j.sample.path.resolve())}
               for j in kept]
    taps = {name: np.stack([features[j.sample.id][name] for j in kept]).astype(np.float32)
            for name, _ in extractor.taps}
    source = extractor.source()
    for record in source["backbones"].values():
        record["taps"] = {t: list(taps[t].shape[1:]) for t in record["taps"]}
    source["dataset"] = {"protocol": protocol_name(records), "datasets": records,
                         "split": result.split_record,
                         "listing_key": listing}
    write_cache(out, taps, samples, source=source, skipped=result.skipped)
    result.source = source
    result.splits = {s: sum(1 for r in samples if r["split"] == s) for s in ("train", "val", "test")}
    result.warnings = split_warnings(samples)
    result.seconds = time.perf_counter() - start
    return result
