"""Checkpoints: a dict of tensors and primitives, written atomically, read with
``torch.load(weights_only=True)``; RNG states in the same safe form."""

from __future__ import annotations

import math
import os
import random
import stat
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import torch

from automm.errors import AutommError
from automm.fileio import atomic_path, quiet_loader

FORMAT = "automm.checkpoint/1"



def save_checkpoint(path: str | os.PathLike[str], state: dict[str, Any], kind: str) -> None:
    """Write ``state`` (plus the format tag and its ``kind``, e.g. ``search``) to ``path`` atomically."""
    with atomic_path(path) as tmp:
        torch.save({"format": FORMAT, "kind": kind, **state}, tmp)


def load_checkpoint(path: str | os.PathLike[str], kind: str) -> dict[str, Any]:
    """Read a checkpoint of ``kind`` without unpickling arbitrary objects; errors name the file."""
    p = Path(path)
    if not p.exists():
        raise AutommError(f"{p}: no checkpoint to resume from")
    if not stat.S_ISREG(p.stat().st_mode):
        raise AutommError(f"{p}: not a regular file")
    try:
        with quiet_loader():
            state = torch.load(p, map_location="cpu", weights_only=True)
    except Exception:  # torch raises many types for corrupt or unsafe files
        # (its own message suggests turning the safe loader off, which would unpickle the file: never)
        raise AutommError(f"{p}: unreadable checkpoint (corrupt, truncated, or holding objects "
                          "other than tensors and plain values)") from None
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise AutommError(f"{p}: not an automm checkpoint (expected format {FORMAT!r})")
    if state.get("kind") != kind:
        raise AutommError(f"{p}: a {repr(state.get('kind'))[:40]} checkpoint, not a {kind} checkpoint")
    return state


def check_state(path: str | os.PathLike[str], state: Any, reference: Any, where: str = "") -> None:
    """Raise :class:`AutommError` naming ``path`` unless ``state`` has the structure of
    ``reference`` (what a fresh run would save now): every key of a reference dict, tensors of
    the same shape and dtype (and finite, when floating point), numbers, strings and lists
    where the reference has them. ``None`` in the reference accepts anything; extra keys are
    left to the loaders. Call it before loading any state."""
    def fail(problem: str) -> AutommError:
        return AutommError(f"{path}: inconsistent checkpoint: {where or 'top level'} {problem}")

    if reference is None:
        return
    if isinstance(reference, torch.Tensor):
        if not isinstance(state, torch.Tensor):
            raise fail("is not a tensor")
        if state.shape != reference.shape or state.dtype != reference.dtype:
            raise fail(f"has shape {tuple(state.shape)} {state.dtype}, expected "
                       f"{tuple(reference.shape)} {reference.dtype}")
        if state.is_floating_point() and not bool(torch.isfinite(state).all()):
            raise fail("holds NaN or infinite values")
    elif isinstance(reference, dict):
        if not isinstance(state, dict):
            raise fail("is not a dict")
        for key, value in reference.items():
            if key not in state:
                raise fail(f"lacks {str(key)[:80]!r}")
            check_state(path, state[key], value, f"{where}.{key}" if where else str(key))
    elif isinstance(reference, list | tuple):
        if not isinstance(state, list | tuple):
            raise fail("should be a list")
    elif isinstance(reference, bool | str):
        if not isinstance(state, type(reference)):
            raise fail(f"should be a {type(reference).__name__}")
    elif isinstance(reference, int | float):
        if not isinstance(state, int | float) or isinstance(state, bool) or not math.isfinite(state):
            raise fail("should be a finite number")
        if isinstance(reference, int) and not isinstance(state, int):
            raise fail("should be an integer")


def check_progress(path: str | os.PathLike[str], state: Mapping[str, Any], epochs: int) -> None:
    """Raise :class:`AutommError` naming ``path`` unless the schema-checked ``state`` is consistent
    with a run of ``epochs`` epochs: ``epoch`` within the budget, one ``history`` record per epoch
    numbered 1, 2, ..., and the ``best`` epoch (when recorded) among them."""
    def fail(problem: str) -> AutommError:
        return AutommError(f"{path}: inconsistent checkpoint: {problem}")

    epoch, history, best = state["epoch"], state["history"], state.get("best")
    if epoch > epochs:
        raise fail(f"epoch {epoch} of a {epochs}-epoch run")
    if len(history) != epoch:
        raise fail(f"epoch {epoch} with {len(history)} history records")
    for expected, record in enumerate(history, 1):
        if record["epoch"] != expected:
            raise fail(f"history[{expected - 1}] is epoch {record['epoch']}, expected {expected}")
    if best is not None and best["epoch"] > epoch:
        raise fail(f"best epoch {best['epoch']} after the last epoch {epoch}")


@contextmanager
def restoring(path: str | os.PathLike[str]) -> Iterator[None]:
    """Turn what state loaders raise on an inconsistent checkpoint (after :func:`check_state`)
    into one :class:`AutommError` naming ``path``."""
    try:
        yield
    except (RuntimeError, KeyError, ValueError, TypeError, IndexError, AttributeError) as exc:
        reason = (str(exc).strip().splitlines() or [""])[0][:200]
        raise AutommError(f"{path}: inconsistent checkpoint: {type(exc).__name__}: {reason}") from None


def seed_everything(seed: int) -> None:
    """Seed torch (CPU and CUDA), numpy's and Python's global generators."""
    torch.manual_seed(seed)
    np.random.seed(seed % 2**32)
    random.seed(seed)


def rng_state(generator: torch.Generator | None = None) -> dict[str, Any]:
    """The global RNG states (torch, CUDA, numpy, Python) and ``generator``'s, as safe types."""
    kind, keys, pos, has_gauss, gauss = np.random.get_state()
    version, internal, gauss_next = random.getstate()
    return {
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
        "numpy": {"kind": kind, "keys": torch.from_numpy(keys.astype(np.int64)), "pos": int(pos),
                  "has_gauss": int(has_gauss), "gauss": float(gauss)},
        "python": [version, list(internal), gauss_next],
        "generator": generator.get_state() if generator is not None else None,
    }


def set_rng_state(state: dict[str, Any], generator: torch.Generator | None = None) -> None:
    """Restore what :func:`rng_state` returned."""
    torch.set_rng_state(state["torch"])
    if state["cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
    n = state["numpy"]
    np.random.set_state((n["kind"], n["keys"].numpy().astype(np.uint32), n["pos"], n["has_gauss"],
                         n["gauss"]))
    version, internal, gauss_next = state["python"]
    random.setstate((version, tuple(internal), gauss_next))
    if generator is not None and state["generator"] is not None:
        generator.set_state(state["generator"])
