"""Which GPUs each local sweep worker sees, ``--gpus-per-trial`` meaning what it means to Ray
Tune: a fraction packs several points onto one GPU (0.25: four), a whole number gives each point
that many GPUs of its own. Pure functions: tested without a GPU."""

from __future__ import annotations

import math

from automm.errors import AutommError

_EPSILON = 1e-9


def check_gpus_per_trial(per_trial: float) -> None:
    """Refuse what Ray refuses: a negative count, or more than one GPU that is not whole."""
    if per_trial < 0 or (per_trial > 1 and per_trial != int(per_trial)):
        raise AutommError(f"--gpus-per-trial {per_trial:g}: give a fraction up to 1 or a whole number")


def workers_fitting(visible: int, per_trial: float) -> int:
    """How many points run at once on ``visible`` GPUs with ``per_trial`` GPUs each (> 0)."""
    check_gpus_per_trial(per_trial)
    if per_trial <= 1:
        return visible * math.floor(1 / per_trial + _EPSILON)
    return visible // int(per_trial)


def worker_devices(visible: int, per_trial: float, worker: int) -> tuple[int, ...]:
    """The indices (among the ``visible`` GPUs) that worker number ``worker`` uses: none when
    ``per_trial`` is 0; a fraction spreads the workers round-robin over the GPUs."""
    if per_trial == 0:
        return ()
    if not 0 <= worker < workers_fitting(visible, per_trial):
        raise AutommError(f"worker {worker} does not fit on {visible} GPU(s) at {per_trial:g} per point")
    if per_trial <= 1:
        return (worker % visible,)
    n = int(per_trial)
    return tuple(range(worker * n, worker * n + n))


def visible_devices(indices: tuple[int, ...], parent: str | None) -> str:
    """CUDA_VISIBLE_DEVICES of a worker using ``indices`` of the GPUs its parent sees (``parent``:
    the parent's CUDA_VISIBLE_DEVICES, None when unset)."""
    names = [n.strip() for n in parent.split(",")] if parent else None
    return ",".join(names[i] if names else str(i) for i in indices)
