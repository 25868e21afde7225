"""Crash matrices: ``evaluate`` and ``extract`` replacing a cache, SIGKILLed at each write point
(tests/reliability/crash.py), then run again as a user would: the result equals an uninterrupted
run's and nothing is left behind (no temporary file, no lock)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from crash import crash_matrix
from faults import ACCEPTED, run_cli
from safetensors.torch import load_file

from automm.locking import lock_path

TIMES = ("seconds", "train_seconds", "provenance")
"""Keys that differ between any two runs (wall-clock times and where and when it ran)."""


def _without_times(record: dict) -> dict:
    return {k: v for k, v in record.items() if k not in TIMES}


def evaluation(out: Path) -> dict:
    """What an evaluation directory holds, times left out."""
    return {"files": sorted(p.name for p in out.iterdir()),
            "metrics": _without_times(json.loads((out / "metrics.json").read_text())),
            "history": [_without_times(json.loads(line)) for line in (out / "history.jsonl").open()],
            "predictions": (out / "predictions.csv").read_text(),
            "model": {k: v.tolist() for k, v in load_file(out / "model.safetensors").items()}}


def leftovers(*directories: Path) -> list[str]:
    """Hidden entries (temporary files, directories renamed aside, lock files) in ``directories``."""
    return [str(p) for d in directories if d.is_dir() for p in d.iterdir() if p.name.startswith(".")]


@pytest.mark.slow
def test_evaluate_killed_at_each_write_point_resumes_to_the_uninterrupted_result(copy):
    run = copy("run")
    args = ["evaluate", run / "arch.json", "--epochs", 2, "--batch-size", 16, "--seed", 3]
    assert run_cli([*args, "--out", run / "reference"], allow_success=True).kind == ACCEPTED
    want = evaluation(run / "reference")
    out = run / "killed"
    points = 0
    for n in crash_matrix([*args, "--out", out]):
        resumed = run_cli([*args, "--out", out, "--resume"], allow_success=True)
        if "no checkpoint to resume from" in resumed.stderr:  # killed before the first epoch ended
            resumed = run_cli([*args, "--out", out], allow_success=True)
        assert resumed.kind == ACCEPTED, (n, resumed)
        assert evaluation(out) == want, f"killed at write point {n}"
        assert leftovers(run, out) == [] and not lock_path(out).exists(), (n, leftovers(run, out))
        shutil.rmtree(out)
        points = n
    assert points >= 6  # two checkpoints and histories, the results, the directory swap
