"""Where videos are extracted, behind one interface (:func:`results`): in this process, in
spawned worker processes, or in Ray actors (``automm[ray]``; a local Ray instance or the cluster
at an address). Each worker holds one :class:`~automm_media.extractor.FeatureExtractor` (MTCNN
and the backbones load once per worker), extracts batches of videos (the backbones run once per
batch) and writes their partial files itself; on Ray the cache directory must be on a filesystem
every node sees."""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any

import torch

from automm import interrupts
from automm.errors import DataError
from automm.extras import require_ray
from automm.train.device import available_cores
from automm_media.extractor import ExtractSettings, FeatureExtractor
from automm_media.planning import Job
from automm_media.resume import Outcome, extract_batch

EXECUTORS = ("local", "ray")
BATCH = 8
"""Videos whose backbone inputs go through the backbones together (default)."""
Results = Iterator[tuple[Job, Any, Any]]
"""``(job, features or None, skip record or None)`` per video."""
Todo = Sequence[tuple[Job, str]]
"""``(job, partial name)`` pairs."""

_WORKER: list[FeatureExtractor] = []
"""The extractor of this worker process or Ray actor (:func:`_init_worker`)."""


def resolve_workers(workers: int | str) -> int:
    """``workers`` as a count: ``auto`` is every CPU core this process may use."""
    if workers == "auto":
        return available_cores()
    if isinstance(workers, int) and workers >= 1:
        return workers
    raise DataError(f"invalid worker count {workers!r} (use a number >= 1 or auto)")


def batches(todo: Todo, workers: int, batch: int) -> list[Todo]:
    """``todo`` in consecutive batches of at most ``batch`` videos, small enough to give each of
    ``workers`` workers one."""
    size = max(1, min(batch, -(-len(todo) // max(1, workers))))
    return [todo[i:i + size] for i in range(0, len(todo), size)]


def results(executor: str, todo: Todo, extractor: FeatureExtractor, partial: Path, workers: int, *,
            batch: int = BATCH, ray_address: str | None = None,
            on_sample: Callable[[Job], None] | None = None) -> Results:
    """Extract the videos of ``todo`` into ``partial`` in batches of at most ``batch`` videos
    (:func:`batches`), with ``executor`` ``local`` (this process, or ``workers`` spawned
    processes) or ``ray`` (``workers`` actors on the Ray instance at ``ray_address``, None: a
    local one). ``on_sample`` is called for each video before its batch is submitted; the
    workers' stage times add to ``extractor.seconds``."""
    if executor not in EXECUTORS:
        raise DataError(f"unknown executor {executor!r} (use {' or '.join(EXECUTORS)})")
    chunks = batches(todo, workers, batch)
    if executor == "ray" and todo:
        return _ray_results(chunks, extractor, partial, workers, ray_address, on_sample)
    return _local_results(chunks, extractor, partial, workers, on_sample)


def _submitted(chunk: Todo, on_sample: Callable[[Job], None] | None) -> Todo:
    for job, _ in chunk:
        if on_sample is not None:
            on_sample(job)
    return chunk


def _init_worker(settings: ExtractSettings, device: str, threads: int) -> None:
    interrupts.install()  # a signal reaching the workers too lets them finish their video
    torch.set_num_threads(threads)
    _WORKER.append(FeatureExtractor(settings, device))


def _work(chunk: Todo, partial: Path) -> tuple[list[Outcome], dict[str, float]]:
    extractor = _WORKER[0]
    before = dict(extractor.seconds)
    done = extract_batch(extractor, chunk, partial)
    return done, {k: extractor.seconds[k] - before[k] for k in before}


def _local_results(chunks: Sequence[Todo], extractor: FeatureExtractor, partial: Path, workers: int,
                   on_sample: Callable[[Job], None] | None) -> Results:
    """In this process or in ``workers`` spawned processes (each with its own extractor and
    ``threads / workers`` torch threads), in order of completion."""
    if workers <= 1 or len(chunks) <= 1:
        for chunk in chunks:
            for (job, _), done in zip(chunk, extract_batch(extractor, _submitted(chunk, on_sample), partial),
                                      strict=True):
                yield job, *done
        return
    workers = min(workers, len(chunks))
    threads = max(1, torch.get_num_threads() // workers)
    pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                               initializer=_init_worker, initargs=(extractor.settings, str(extractor.device),
                                                                   threads))
    try:
        futures = {pool.submit(_work, _submitted(chunk, on_sample), partial): chunk for chunk in chunks}
        for future in as_completed(futures):
            done, seconds = future.result()
            for key, value in seconds.items():
                extractor.seconds[key] += value
            for (job, _), outcome in zip(futures[future], done, strict=True):
                yield job, *outcome
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _ray_results(chunks: Sequence[Todo], extractor: FeatureExtractor, partial: Path, workers: int,
                 address: str | None, on_sample: Callable[[Job], None] | None) -> Results:
    """In ``workers`` Ray actors, in the order of the batches."""
    require_ray()
    import ray
    from ray.util import ActorPool

    if not ray.is_initialized():
        ray.init(address=address, include_dashboard=False, log_to_driver=False,
                 configure_logging=False)

    class Extractor:
        def __init__(self, settings: ExtractSettings, device: str) -> None:
            _init_worker(settings, device, 1)

        def work(self, chunk: Todo) -> tuple[list[Outcome], dict[str, float]]:
            return _work(chunk, partial)

    actor = ray.remote(num_cpus=1)(Extractor)
    pool = ActorPool([actor.remote(extractor.settings, str(extractor.device))
                      for _ in range(min(workers, len(chunks)))])

    def submit(a: Any, chunk: Todo) -> Any:
        return a.work.remote(_submitted(chunk, on_sample))

    for chunk, (done, seconds) in zip(chunks, pool.map(submit, chunks), strict=True):
        for key, value in seconds.items():
            extractor.seconds[key] += value
        for (job, _), outcome in zip(chunk, done, strict=True):
            yield job, *outcome
