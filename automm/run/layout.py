"""What a search run directory holds, and refusing to start a search (or an evaluation) over another."""

from __future__ import annotations

from pathlib import Path

from automm.errors import AutommError

CHECKPOINT = "checkpoint.pt"
"""The per-epoch checkpoint of a search (and of an evaluation, in its output directory)."""
METRICS = "metrics.jsonl"
"""One record per search epoch."""
ARCH = "arch.json"
"""The searched architecture, written when the search ends."""


def check_new_run(out: Path, *, resumable: bool = True) -> None:
    """Refuse a run directory that already holds a search (one line; ``resumable``: the command
    has ``--resume``)."""
    if (out / CHECKPOINT).exists() or (out / ARCH).exists():
        resume = f"continue it with --out {out} --resume or " if resumable else ""
        raise AutommError(f"{out}: already holds a search; {resume}choose another --out")


def check_new_evaluation(out: Path) -> None:
    """Refuse an output directory that already holds an evaluation (its metrics.json or checkpoint;
    one line)."""
    if (out / CHECKPOINT).exists() or (out / "metrics.json").exists():
        raise AutommError(f"{out}: already holds an evaluation; continue it with --resume, replace it "
                          "with --force or choose another --out")
