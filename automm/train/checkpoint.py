"""Checkpoints: a dict of tensors and primitives, written atomically, read with
``torch.load(weights_only=True)``; RNG states in the same safe form."""

from __future__ import annotations

import os
import random
from pathlib import Path
from typing import Any

import numpy as np
import torch

from automm.errors import AutommError
from automm.fileio import atomic_path

FORMAT = "automm.checkpoint/1"


def save_checkpoint(path: str | os.PathLike[str], state: dict[str, Any], kind: str) -> None:
    """Write ``state`` (plus the format tag and its ``kind``, e.g. ``search``) to ``path`` atomically."""
    with atomic_path(path) as tmp:
        torch.save({"format": FORMAT, "kind": kind, **state}, tmp)


def load_checkpoint(path: str | os.PathLike[str], kind: str) -> dict[str, Any]:
    """Read a checkpoint of ``kind`` without unpickling arbitrary objects; errors name the file."""
    p = Path(path)
    if not p.is_file():
        raise AutommError(f"{p}: no checkpoint to resume from")
    try:
        state = torch.load(p, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many types for corrupt or unsafe files
        raise AutommError(f"{p}: unreadable checkpoint: {type(exc).__name__}: {exc}") from None
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise AutommError(f"{p}: not an automm checkpoint (expected format {FORMAT!r})")
    if state.get("kind") != kind:
        raise AutommError(f"{p}: a {state.get('kind')} checkpoint, not a {kind} checkpoint")
    return state


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
