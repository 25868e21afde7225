"""What produced a result: the record stored under ``provenance`` in arch.json (search) and
metrics.json (evaluation), from which ``--rerun`` repeats the run.

Everything in it but ``run`` (the command line, working directory and start and end times) is
the same when the same run is repeated on the same machine and checkout.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import platform
import shlex
import subprocess
import sys
from collections.abc import Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from automm import __version__
from automm.errors import AutommError
from automm.schema import boolean, map_of, nullable, obj, optional, string
from automm.train.settings import RECORDED_SETTINGS, SEED

DATA = obj({"path": optional(string(low=1)), "fingerprint": optional(string()), "source": optional(obj())})
"""Schema of a ``provenance.data`` record: the feature cache (:func:`automm.data.cache.data_record`)."""
_TEXT = optional(string())
PROVENANCE = obj({
    "automm": _TEXT, "plugins": optional(map_of(nullable(string()))), "python": _TEXT, "torch": _TEXT,
    "cuda": optional(nullable(string())), "platform": _TEXT, "device": _TEXT, "precision": _TEXT,
    "seed": optional(SEED), "settings": optional(RECORDED_SETTINGS), "data": optional(DATA),
    "search_data": optional(DATA), "strategy": optional(obj({"name": string()})),
    "git": optional(nullable(obj({"commit": string(), "dirty": boolean()}))),
    "run": optional(obj({"command": _TEXT, "cwd": _TEXT, "started": _TEXT, "finished": _TEXT})),
})
"""Schema of the ``provenance`` record of arch.json and metrics.json (every field optional:
files of automm 0.1 hold only ``automm``, ``torch`` and ``data``)."""

GIT_TIMEOUT = 10
"""Seconds the ``git`` queries of :func:`git_commit` may take."""


def now() -> str:
    """The current time, UTC, ISO 8601 to the second (``2025-01-31T12:00:00+00:00``)."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def command_line() -> str:
    """This process's command line, shell-quoted (``automm search --epochs 2``)."""
    argv = sys.argv or [""]
    return shlex.join([Path(argv[0]).name, *argv[1:]])


@functools.cache
def git_commit() -> dict[str, Any] | None:
    """``{"commit": sha, "dirty": bool}`` of the checkout automm runs from (dirty: tracked files
    differ from the commit), None when automm is not run from a git checkout."""
    root = Path(__file__).resolve().parent.parent
    if not (root / ".git").exists():
        return None
    try:
        head = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True,
                              timeout=GIT_TIMEOUT, check=True).stdout.strip()
        status = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
                                capture_output=True, text=True, timeout=GIT_TIMEOUT, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return {"commit": head, "dirty": bool(status.strip())}


def plugin_versions() -> dict[str, str | None]:
    """Version of the distribution of each loaded plugin, by plugin name."""
    from automm.plugins import plugin_infos

    return {p.name: p.version for p in plugin_infos() if p.status == "loaded"}


def device_name(device: Any) -> str:
    """``cpu`` or ``cuda:0 (NVIDIA H100 80GB HBM3)``."""
    import torch

    device = torch.device(device)
    if device.type != "cuda":
        return str(device)
    index = device.index if device.index is not None else torch.cuda.current_device()
    return f"cuda:{index} ({torch.cuda.get_device_name(index)})"


def provenance(settings: Any, *, device: Any, data: Mapping[str, Any], started: str) -> dict[str, Any]:
    """The record of a run with ``settings`` (a dataclass with ``seed`` and ``precision``) on
    ``device`` and the feature cache described by ``data`` (path, fingerprint, source), started at
    ``started`` (:func:`now`) and finishing now."""
    import torch

    effective = dataclasses.asdict(settings)
    return {
        "automm": __version__, "plugins": plugin_versions(),
        "python": platform.python_version(), "torch": str(torch.__version__),
        "cuda": torch.version.cuda, "platform": platform.platform(),
        "device": device_name(device), "precision": effective.get("precision"), "seed": effective.get("seed"),
        "settings": effective, "data": dict(data), "git": git_commit(),
        "run": {"command": command_line(), "cwd": os.getcwd(), "started": started, "finished": now()},
    }


def recorded_settings(record: Any, where: str | os.PathLike[str], kind: type) -> Any:
    """The settings (an instance of the dataclass ``kind``) of a provenance ``record`` read from
    ``where``; a record without them (written before automm recorded them) or with unknown ones
    is a one-line error."""
    settings = record.get("settings") if isinstance(record, Mapping) else None
    if not isinstance(settings, Mapping):
        raise AutommError(f"{where}: records no settings (written by an older automm); it cannot be rerun")
    fields = {f.name for f in dataclasses.fields(kind)}
    unknown = sorted(set(settings) - fields)
    if unknown:
        raise AutommError(f"{where}: unknown recorded setting(s) {', '.join(unknown)}")
    try:
        return kind(**settings)
    except (TypeError, ValueError, AutommError) as exc:
        raise AutommError(f"{where}: invalid recorded settings: {exc}") from None
