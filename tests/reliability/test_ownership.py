"""Runs that cannot overwrite each other: lock files, crash-safe replacement, evaluations
committed together, leftover temp files removed, fsync before rename."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

import numpy as np
import pytest
from faults import ACCEPTED, expect_clean, run_cli

from automm import fileio
from automm.data import FeatureCache, write_cache
from automm.locking import lock_path, owned


def _hold(path, pid):
    lock_path(path).write_text(json.dumps({"pid": pid, "host": socket.gethostname()}))


def test_second_writer_gets_one_line_naming_the_holder(copy, tiny):
    cache = copy("cache")
    run = cache.parent / "out"
    _hold(run, os.getppid())
    expect_clean(["search", "--data", cache, "--out", run, *tiny], f"in use by process {os.getppid()}")
    expect_clean(["evaluate", copy("run/arch.json"), "--data", cache, "--out", run], str(os.getppid()))
    assert not run.exists()


def test_stale_lock_is_taken_over_and_released(copy):
    cache = copy("cache")
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True, check=True).stdout.strip()
    _hold(cache, int(dead))
    write_cache(cache, {"t/1": np.zeros((2, 1, 1), np.float32)},
                [{"id": f"s{i}", "label": i, "identity": "p", "split": "train"} for i in range(2)],
                classes=("real", "fake"))
    assert not lock_path(cache).exists()
    with owned(cache), owned(cache):  # the owner may nest; another process may not
        other = subprocess.run([sys.executable, "-c", f"from automm.locking import owned\n"
                                f"with owned({str(cache)!r}): pass"], capture_output=True, text=True)
    assert other.returncode != 0 and f"LockedError: {cache}: in use by process {os.getpid()}" in other.stderr


def test_kill_between_the_renames_keeps_the_old_cache(copy, monkeypatch):
    cache = copy("cache")
    before = FeatureCache.open(cache).fingerprint
    real = os.replace

    def dies_before_renaming_in(src, dst):
        if str(dst) == str(cache):
            raise KeyboardInterrupt  # stands for SIGKILL between renaming aside and renaming in
        real(src, dst)

    monkeypatch.setattr(fileio.os, "replace", dies_before_renaming_in)
    with pytest.raises(KeyboardInterrupt):
        write_cache(cache, {"t/1": np.zeros((2, 1, 1), np.float32)},
                    [{"id": f"s{i}", "label": i, "identity": "p", "split": "train"} for i in range(2)],
                    classes=("real", "fake"))
    monkeypatch.undo()
    assert not cache.exists()
    with owned(cache):  # the next writer puts the old cache back, then removes the temps
        pass
    assert FeatureCache.open(cache).fingerprint == before
    assert sorted(p.name for p in cache.parent.iterdir()) == ["cache"]


def test_evaluation_files_are_committed_together(copy, monkeypatch):
    run = copy("run")
    eval_dir = run / "eval"
    before = {name: (eval_dir / name).read_bytes() for name in ("metrics.json", "predictions.csv",
                                                                 "model.safetensors", "arch.json")}

    def broken(*args, **kwargs):
        raise OSError(28, "No space left on device", str(eval_dir / "model.safetensors"))

    monkeypatch.setattr("automm.train.retraining.save_file", broken)
    outcome = run_cli(["evaluate", run / "arch.json", "--out", eval_dir, "--epochs", 1, "--batch-size", 16,
                       "--seed", 5, "--force"])
    assert outcome.kind == "clean" and "No space left" in outcome.stderr, outcome
    assert {name: (eval_dir / name).read_bytes() for name in before} == before
    monkeypatch.undo()
    outcome = run_cli(["evaluate", run / "arch.json", "--out", eval_dir, "--epochs", 1, "--batch-size", 16,
                       "--seed", 5, "--force"], allow_success=True)
    assert outcome.kind == ACCEPTED
    assert json.loads((eval_dir / "metrics.json").read_text())["seed"] == 5
    assert sorted(p.name for p in run.iterdir() if p.name.startswith(".")) == []


def test_leftover_temp_files_are_removed_by_the_next_owner(tmp_path):
    target = tmp_path / "eval"
    target.mkdir()
    (target / ".metrics.json.abcd1234.tmp").write_text("half")
    (tmp_path / ".eval.old.abcd1234.tmp").mkdir()
    (tmp_path / ".eval.v2.abcd1234.tmp").write_text("another target's temp")
    with owned(target):
        pass
    assert list(target.iterdir()) == []
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == [".eval.v2.abcd1234.tmp"]


def test_results_are_fsynced_before_the_rename(tmp_path, monkeypatch):
    synced = []
    real = os.fsync
    monkeypatch.setattr(fileio.os, "fsync", lambda fd: synced.append(os.readlink(f"/proc/self/fd/{fd}"))
                        or real(fd))
    fileio.write_text(tmp_path / "a.txt", "x")
    assert synced[0].startswith(str(tmp_path / ".a.txt.")) and synced[-1] == str(tmp_path)


def test_a_dead_but_unreaped_owner_does_not_hold_its_lock():
    """A killed writer's process can linger as a zombie until it is reaped; its lock is stale."""
    import subprocess
    import sys
    import time

    from automm.locking import _alive

    child = subprocess.Popen([sys.executable, "-c", "pass"])
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and _alive(child.pid):
        time.sleep(0.05)
    assert not _alive(child.pid), "an exited (zombie) child counts as alive"
    assert child.poll() == 0  # reaped only now
