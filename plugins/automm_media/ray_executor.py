"""Extraction on a Ray cluster: the videos fan out over ``workers`` Ray actors.

Each actor holds one :class:`~automm_media.extract.FeatureExtractor` (so MTCNN and the
backbones load once per actor) and writes its videos' partial files itself, exactly as a local
worker process does; the driver merges them into one cache as usual. The cache directory must be
on a filesystem every node sees (the partial files are written there). Ray is the optional extra
``automm[ray]``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any


def ray_results(todo: Sequence[tuple[Any, str]], extractor: Any, partial: Path, workers: int,
                address: str | None, on_sample: Callable[[Any], None] | None
                ) -> Iterator[tuple[Any, Any, Any]]:
    """``(job, features or None, skip record or None)`` per video, in the order of ``todo``,
    from ``workers`` actors on the Ray instance at ``address`` (None: a local one)."""
    from automm.sweep.executors import require_ray
    from automm_media.extract import _init_worker, _work

    require_ray()
    import ray
    from ray.util import ActorPool

    if not ray.is_initialized():
        ray.init(address=address, include_dashboard=False, log_to_driver=False,
                 configure_logging=False)

    class Extractor:
        def __init__(self, settings: Any, device: str) -> None:
            _init_worker(settings, device, 1)

        def work(self, job: Any, name: str) -> tuple[Any, Any, dict[str, float]]:
            return _work(job, name, partial)

    actor = ray.remote(num_cpus=1)(Extractor)
    pool = ActorPool([actor.remote(extractor.settings, str(extractor.device)) for _ in range(workers)])

    def submit(a: Any, item: tuple[Any, str]) -> Any:
        if on_sample is not None:
            on_sample(item[0])
        return a.work.remote(*item)

    for (job, _), (feats, record, seconds) in zip(todo, pool.map(submit, todo), strict=True):
        for key, value in seconds.items():
            extractor.seconds[key] += value
        yield job, feats, record
