"""Where the points of a sweep run: local worker processes (spawned; each exits when the sweep
process dies) or Ray Tune trials (a Tuner over a grid search of the points' keys). Both call
:func:`automm.sweep.point.run_point` and hand each row to ``on_row`` in the sweep process as
soon as the point ends.

A stop requested by a signal (:mod:`automm.interrupts`) reaches the local workers (through a
shared event, and through their own handlers when the signal reaches them too): no new point
starts, the running ones stop at their next safe point (checkpoint kept), then the sweep raises
:class:`~automm.interrupts.Interrupted`."""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import re
import signal
import sys
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from pathlib import Path
from typing import Any

from automm import interrupts
from automm.sweep.point import PointSpec, run_point
from automm.sweep.results import failed_row

OnRow = Callable[[dict[str, Any]], None]
POLL = 0.2
"""Seconds between looks at a stop request while points run."""


def _start_worker(parent: int, stop: Any, gpus: Any, devices: Sequence[str]) -> None:
    """Worker initialiser: take the next worker's GPUs (``devices[i]`` for the i-th worker, as
    CUDA_VISIBLE_DEVICES, before torch starts CUDA; none given: the GPUs are left as they are)
    and watch the parent."""
    if devices:
        os.environ["CUDA_VISIBLE_DEVICES"] = devices[gpus.get()]
    _watch_parent(parent, stop)


def _watch_parent(parent: int, stop: Any) -> None:
    """Exit when the sweep process is gone (killed), so no orphan keeps a
    point's lock or burns its cores (on Linux at once, through the parent-death signal); treat
    SIGINT and SIGTERM, and the sweep's ``stop`` event, as stop requests."""
    if sys.platform == "linux":
        import ctypes

        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    interrupts.install()

    def watch() -> None:
        while os.getppid() == parent:
            if stop.is_set():
                interrupts.request()
            time.sleep(POLL)
        os._exit(1)

    threading.Thread(target=watch, daemon=True).start()


def run_local(specs: Sequence[PointSpec], on_row: OnRow, *, workers: int,
              devices: Sequence[str] = ()) -> None:
    """Run ``specs`` on (at most) ``workers`` spawned processes, each running many points (torch
    imported and the cache opened once); ``devices``: the CUDA_VISIBLE_DEVICES of each worker
    (:mod:`automm.sweep.devices`), empty: every worker sees what this process sees."""
    context = multiprocessing.get_context("spawn")
    stop = context.Event()
    count = max(1, min(workers, len(specs)))
    gpus = context.SimpleQueue()
    for index in range(count if devices else 0):
        gpus.put(index)
    pool = ProcessPoolExecutor(max_workers=count, mp_context=context, initializer=_start_worker,
                               initargs=(os.getpid(), stop, gpus, tuple(devices)))
    try:
        futures: dict[Future[dict[str, Any]], PointSpec] = {pool.submit(run_point, s): s for s in specs}
        pending = set(futures)
        while pending:
            if interrupts.requested() is not None and not stop.is_set():
                stop.set()
                for future in pending:
                    future.cancel()  # the running ones stop at their next safe point
            done, pending = wait(pending, timeout=POLL, return_when=FIRST_COMPLETED)
            for future in done:
                spec = futures[future]
                if future.cancelled():
                    continue
                try:
                    row = future.result()
                except interrupts.Interrupted:  # stopped at a safe point: the next run resumes it
                    continue
                except Exception as exc:  # a worker that died (killed, out of memory)
                    error = f"worker process failed: {exc or type(exc).__name__}"
                    row = failed_row(spec.key, spec.values, error)
                on_row(row)
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)  # the workers exit with this process
        raise
    pool.shutdown()
    interrupts.check()


def _trial(config: dict[str, Any], specs: dict[str, PointSpec]) -> dict[str, Any]:
    """A Ray Tune trial: one point; its row travels as JSON."""
    import json

    return {"row": json.dumps(run_point(specs[config["key"]]))}


def _trial_dirname(trial: Any) -> str:
    return re.sub(r"[^A-Za-z0-9=._+-]", "-", str(trial.config.get("key", trial.trial_id)))[:150]


def run_ray(specs: Sequence[PointSpec], on_row: OnRow, *, storage: Path, address: str | None,
            cpus: float, gpus: float, workers: int | None) -> None:
    """Run ``specs`` as Ray Tune trials ({cpus, gpus} each, at most ``workers`` at once when
    given) on the cluster at ``address`` (None: a new local Ray instance), with Tune's storage
    under ``storage``."""
    import json

    os.environ.setdefault("RAY_AIR_NEW_OUTPUT", "0")  # no banner: one line per point is printed
    import ray
    from ray import tune

    by_key = {s.key: s for s in specs}
    config = tune if hasattr(tune, "RunConfig") else ray.train  # Ray < 2.4x: ray.train's configs

    class Rows(tune.Callback):
        def on_trial_result(self, iteration: int, trials: list, trial: Any, result: dict,
                            **info: Any) -> None:
            if "row" in result:
                on_row(json.loads(result["row"]))

        def on_trial_error(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
            spec = by_key[trial.config["key"]]
            where = getattr(trial, "path", None) or storage
            on_row(failed_row(spec.key, spec.values, f"Ray trial failed (see {where})"))

    started = not ray.is_initialized()
    if started:
        ray.init(address=address, include_dashboard=False, log_to_driver=False,
                 logging_level="ERROR", configure_logging=True)
    try:
        trainable = tune.with_resources(tune.with_parameters(_trial, specs=by_key),
                                        {"cpu": cpus, "gpu": gpus})
        tuner = tune.Tuner(
            trainable, param_space={"key": tune.grid_search(list(by_key))},
            tune_config=tune.TuneConfig(max_concurrent_trials=workers, trial_dirname_creator=_trial_dirname,
                                        reuse_actors=True),
            run_config=config.RunConfig(name="tune", storage_path=str(storage.absolute()), verbose=0,
                                        callbacks=[Rows()],
                                        failure_config=config.FailureConfig(max_failures=0)))
        tuner.fit()
    finally:
        if started:
            ray.shutdown()
