"""Crash matrices: ``evaluate`` and ``extract`` replacing a cache, SIGKILLed at each write point
(tests/reliability/crash.py), then run again as a user would: the result equals an uninterrupted
run's and nothing is left behind (no temporary file, no lock)."""

from __future__ import annotations

import json
import shutil
import sys
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


def cache_content(cache: Path) -> dict:
    """A feature cache's manifest (times left out) and tap bytes."""
    manifest = json.loads((cache / "manifest.json").read_text())
    manifest["source"].pop("seconds", None)
    return {"manifest": manifest, "files": sorted(p.name for p in cache.iterdir()),
            "taps": {p.name: p.read_bytes() for p in sorted(cache.glob("*.npy"))}}


@pytest.mark.slow
def test_extract_replacing_a_cache_killed_at_each_write_point_ends_as_an_uninterrupted_run(tmp_path):
    sys.path.insert(0, str(Path(__file__).parents[1] / "media"))
    from videokit import face_frames, speech, write_video

    data = tmp_path / "data"
    for i, rel in enumerate(("real/alice/a.mp4", "real/bob/b.mp4", "fake/carol/c.mp4", "fake/dave/d.mp4")):
        write_video(data / rel, face_frames(15, i), speech(1.5, i), fps=10)
    (data / "fake/erin").mkdir()
    (data / "fake/erin/broken.mp4").write_bytes(b"not a video")  # a skip record, written too
    args = ["extract", data, "--frames", 2, "--crop", 64, "--backbone", "audio=none", "--no-progress",
            "--split", "random", "--workers", 1]  # partial results written here, where writes are counted
    replacing = [*args, "--positions", 2]  # other settings: the cache is replaced
    assert run_cli([*replacing, "--out", tmp_path / "reference"], allow_success=True).kind == ACCEPTED
    want = cache_content(tmp_path / "reference")
    old = tmp_path / "old"
    assert run_cli([*args, "--positions", 4, "--out", old], allow_success=True).kind == ACCEPTED
    out = tmp_path / "cache"
    points = 0
    for n in crash_matrix([*replacing, "--out", out], setup=lambda: shutil.copytree(old, out)):
        rerun = run_cli([*replacing, "--out", out], allow_success=True)
        assert rerun.kind == ACCEPTED, (n, rerun)
        assert cache_content(out) == want, f"killed at write point {n}"
        assert leftovers(tmp_path, out) == [] and not lock_path(out).exists(), (n, leftovers(tmp_path, out))
        shutil.rmtree(out)
        points = n
    assert points >= 7  # five partial results, the manifest, the directory swap
