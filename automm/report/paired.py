"""Spread over seeds and paired comparisons of two strategies run on the same seeds."""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

EXACT_UP_TO = 16
"""Seeds up to which the sign-flip test enumerates every sign pattern (2**16 patterns)."""
RANDOM_FLIPS = 100_000
"""Sign patterns drawn (seeded) above :data:`EXACT_UP_TO` seeds."""


def spread(values: Sequence[float]) -> dict[str, Any]:
    """``n``, ``mean``, ``sd`` (None for one value), ``min``, ``max`` of the finite ``values``."""
    finite = [float(v) for v in values if isinstance(v, int | float) and np.isfinite(v)]
    if not finite:
        return {"n": 0, "mean": None, "sd": None, "min": None, "max": None}
    return {"n": len(finite), "mean": statistics.fmean(finite),
            "sd": statistics.stdev(finite) if len(finite) > 1 else None,
            "min": min(finite), "max": max(finite)}


def sign_flip_p(differences: Sequence[float], seed: int = 0) -> float:
    """Two-sided p-value of the paired sign-flip (permutation) test that the mean difference is
    zero: the share of sign patterns whose mean is at least as far from zero as the observed one
    (every pattern up to :data:`EXACT_UP_TO` differences, else :data:`RANDOM_FLIPS` seeded draws)."""
    d = np.asarray(differences, dtype=np.float64)
    if d.size == 0:
        return float("nan")
    if d.size <= EXACT_UP_TO:
        signs = ((np.arange(2**d.size)[:, None] >> np.arange(d.size)) & 1) * 2 - 1
    else:
        signs = np.random.default_rng(seed).choice([-1, 1], size=(RANDOM_FLIPS, d.size))
    means = np.abs((signs * d).mean(axis=1))
    return float((means >= abs(d.mean()) - 1e-12).mean())


def paired(a: Mapping[int, float], b: Mapping[int, float]) -> dict[str, Any] | None:
    """The comparison of ``a`` and ``b`` (seed -> metric) on their shared seeds: the mean and sd of
    ``a - b``, how often each is higher, and :func:`sign_flip_p`; None with fewer than two shared
    seeds."""
    seeds = sorted(s for s in set(a) & set(b) if np.isfinite(a[s]) and np.isfinite(b[s]))
    if len(seeds) < 2:
        return None
    d = [a[s] - b[s] for s in seeds]
    return {"seeds": seeds, "mean_difference": statistics.fmean(d), "sd": statistics.stdev(d),
            "a_higher": sum(x > 0 for x in d), "ties": sum(x == 0 for x in d),
            "b_higher": sum(x < 0 for x in d),
            "p": sign_flip_p(d)}
