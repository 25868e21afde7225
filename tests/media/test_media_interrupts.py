"""Ctrl-C and SIGTERM on real ``automm extract`` and ``automm demo-data`` processes: one line, exit
130/143, and what the line promises (the finished videos kept; nothing kept of a corpus)."""

from __future__ import annotations

import signal

import numpy as np
import pytest
from click.testing import CliRunner

from automm.cli import cli
from automm.data import FeatureCache
from automm.locking import lock_path

pytestmark = pytest.mark.slow


def test_sigterm_keeps_the_extracted_videos_and_the_same_command_finishes_the_cache(
        interrupt, folder_dataset, folder_cache, tmp_path):
    out = tmp_path / "cache"
    args = ["extract", str(folder_dataset[0]), "--out", str(out), "--frames", "2", "--crop", "64",
            "--positions", "4", "--device", "cpu", "--workers", "1"]
    stopped = interrupt(args, lock_path(out).exists, [signal.SIGTERM])  # before its first video ends
    assert stopped.returncode == 143
    assert len(stopped.stderr) == 1 and stopped.stderr[0].startswith(
        "automm: interrupted (SIGTERM); the videos extracted so far are kept; continue with the same "
        "command: ")
    assert stopped.suggested("continue with the same command: ") == args
    assert not (out / "manifest.json").exists()
    assert list((out / ".partial").glob("*/*"))  # the batch it was extracting when asked
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    resumed, whole = FeatureCache.open(out), FeatureCache.open(folder_cache.path)
    assert [s["id"] for s in resumed.samples] == [s["id"] for s in whole.samples]
    for tap, array in whole.arrays.items():
        np.testing.assert_allclose(resumed.arrays[tap], array, rtol=1e-4, atol=1e-5)  # batch 8 vs 1


def test_sigint_in_demo_data_keeps_nothing_and_says_so(interrupt, tmp_path):
    out = tmp_path / "demo"

    def first_video() -> bool:
        return any(tmp_path.glob(".demo.*/**/*.mp4"))

    stopped = interrupt(["demo-data", out, "--small", "--no-progress"], first_video, [signal.SIGINT])
    assert stopped.returncode == 130
    assert stopped.stderr == ["automm: interrupted (SIGINT); nothing is kept (the corpus is written all at "
                              f"once); start again with: automm demo-data {out} --small --no-progress"]
    assert list(tmp_path.iterdir()) == []
