"""Where videos are extracted, behind one interface (:func:`results`): in this process, in
spawned worker processes, or in Ray actors (``automm[ray]``; a local Ray instance or the cluster
at an address). Each worker holds one :class:`~automm_media.extractor.FeatureExtractor` (MTCNN
and the backbones load once per worker) and writes its videos' partial files itself; on Ray the
cache directory must be on a filesystem every node sees."""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any

import torch

from automm.errors import DataError
from automm.extras import require_ray
from automm_media.extractor import ExtractSettings, FeatureExtractor
from automm_media.planning import Job
from automm_media.resume import extract_one

EXECUTORS = ("local", "ray")
Results = Iterator[tuple[Job, Any, Any]]
"""``(job, features or None, skip record or None)`` per video."""

_WORKER: list[FeatureExtractor] = []
"""The extractor of this worker process or Ray actor (:func:`_init_worker`)."""


def results(executor: str, todo: Sequence[tuple[Job, str]], extractor: FeatureExtractor, partial: Path,
            workers: int, *, ray_address: str | None = None,
            on_sample: Callable[[Job], None] | None = None) -> Results:
    """Extract the videos of ``todo`` (``(job, partial name)`` pairs) into ``partial``, with
    ``executor`` ``local`` (this process, or ``workers`` spawned processes) or ``ray`` (``workers``
    actors on the Ray instance at ``ray_address``, None: a local one). ``on_sample`` is called
    before each video is submitted; the workers' stage times add to ``extractor.seconds``."""
    if executor not in EXECUTORS:
        raise DataError(f"unknown executor {executor!r} (use {' or '.join(EXECUTORS)})")
    if executor == "ray" and todo:
        return _ray_results(todo, extractor, partial, workers, ray_address, on_sample)
    return _local_results(todo, extractor, partial, workers, on_sample)


def _init_worker(settings: ExtractSettings, device: str, threads: int) -> None:
    torch.set_num_threads(threads)
    _WORKER.append(FeatureExtractor(settings, device))


def _work(job: Job, name: str, partial: Path) -> tuple[Any, Any, dict[str, float]]:
    extractor = _WORKER[0]
    before = dict(extractor.seconds)
    feats, record = extract_one(extractor, job, name, partial)
    return feats, record, {k: extractor.seconds[k] - before[k] for k in before}


def _local_results(todo: Sequence[tuple[Job, str]], extractor: FeatureExtractor, partial: Path, workers: int,
                   on_sample: Callable[[Job], None] | None) -> Results:
    """In this process or in ``workers`` spawned processes (each with its own extractor and
    ``threads / workers`` torch threads), in order of completion."""
    if workers <= 1 or len(todo) <= 1:
        for job, name in todo:
            if on_sample is not None:
                on_sample(job)
            yield job, *extract_one(extractor, job, name, partial)
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


def _ray_results(todo: Sequence[tuple[Job, str]], extractor: FeatureExtractor, partial: Path, workers: int,
                 address: str | None, on_sample: Callable[[Job], None] | None) -> Results:
    """In ``workers`` Ray actors, in the order of ``todo``."""
    require_ray()
    import ray
    from ray.util import ActorPool

    if not ray.is_initialized():
        ray.init(address=address, include_dashboard=False, log_to_driver=False,
                 configure_logging=False)

    class Extractor:
        def __init__(self, settings: ExtractSettings, device: str) -> None:
            _init_worker(settings, device, 1)

        def work(self, job: Job, name: str) -> tuple[Any, Any, dict[str, float]]:
            return _work(job, name, partial)

    actor = ray.remote(num_cpus=1)(Extractor)
    pool = ActorPool([actor.remote(extractor.settings, str(extractor.device)) for _ in range(workers)])

    def submit(a: Any, item: tuple[Job, str]) -> Any:
        if on_sample is not None:
            on_sample(item[0])
        return a.work.remote(*item)

    for (job, _), (feats, record, seconds) in zip(todo, pool.map(submit, todo), strict=True):
        for key, value in seconds.items():
            extractor.seconds[key] += value
        yield job, feats, record
