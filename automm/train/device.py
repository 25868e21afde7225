"""Where and in which arithmetic the networks run: the device and bfloat16 autocast."""

from __future__ import annotations

import contextlib
import os
from typing import Any

import torch

from automm.errors import AutommError


def resolve_device(name: str) -> torch.device:
    """``auto`` (CUDA when available, else the CPU), ``cpu`` or ``cuda[:k]``; CUDA without a GPU
    is an error."""
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    try:
        device = torch.device(name)
    except RuntimeError:
        raise AutommError(f"unknown device {name!r} (use auto, cpu or cuda)") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise AutommError("--device cuda: no CUDA GPU is available")
    if device.type not in ("cpu", "cuda"):
        raise AutommError(f"unsupported device {name!r} (use auto, cpu or cuda)")
    if device.type == "cpu":
        # Gumbel multi-hot weights and attention softmaxes underflow into denormals, which are
        # 1.3-1.5x slower on CPUs (benchmarks/search_step.py); set before the first parallel op.
        torch.set_flush_denormal(True)
    return device


def available_cores() -> int:
    """The CPU cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def autocast(device: torch.device, precision: str) -> contextlib.AbstractContextManager[Any]:
    """bfloat16 autocast on ``device`` when ``precision`` is ``bf16``; else nothing."""
    return torch.autocast(device.type, dtype=torch.bfloat16, enabled=precision == "bf16")
