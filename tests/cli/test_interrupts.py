"""Ctrl-C (SIGINT) and SIGTERM on real ``automm`` processes: exit 130/143 with one line saying
how to continue, a checkpoint at the next safe point, and a resume to the uninterrupted result."""

from __future__ import annotations

import json
import signal
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from automm.cli import cli

pytestmark = pytest.mark.slow

EPOCHS = 3


def _run(*args: str | Path) -> Result:
    result = CliRunner().invoke(cli, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    return result


def _search_args(cache_dir: Path, out: Path, tiny_args: tuple[str, ...]) -> list[str | Path]:
    return ["search", "--data", cache_dir, "--out", out, "--epochs", EPOCHS, "--batch-size", 32,
            "--patience", EPOCHS, *tiny_args]


def _records(path: Path) -> list[dict[str, Any]]:
    """The records of a JSON-lines file without their timings."""
    lines = path.read_text().splitlines()
    return [{k: v for k, v in json.loads(line).items() if k != "seconds"} for line in lines]


@pytest.fixture(scope="module")
def uninterrupted(cache_dir: Path, tiny_args: tuple[str, ...], tmp_path_factory: pytest.TempPathFactory
                  ) -> Path:
    """The run directory of the same search, not interrupted."""
    out = tmp_path_factory.mktemp("signals") / "run"
    _run(*_search_args(cache_dir, out, tiny_args))
    return out


def _assert_resumable(stopped, out: Path, signum: signal.Signals) -> None:
    """Exit 128 + signum and the one line naming the resume command."""
    assert stopped.returncode == 128 + signum
    assert stopped.stderr == [f"automm: interrupted ({signum.name}); continue with: automm search "
                              f"--out {out} --resume"]


def _assert_same_search(out: Path, uninterrupted: Path) -> None:
    """The resumed search's epoch records and architecture equal the uninterrupted one's."""
    assert _records(out / "metrics.jsonl") == _records(uninterrupted / "metrics.jsonl")
    assert json.loads((out / "arch.json").read_text())["choices"] == \
        json.loads((uninterrupted / "arch.json").read_text())["choices"]


def test_sigint_in_the_first_epoch_leaves_a_checkpoint_that_resumes_to_the_same_search(
        interrupt, cache_dir, tiny_args, uninterrupted, tmp_path):
    out = tmp_path / "run"
    stopped = interrupt(_search_args(cache_dir, out, tiny_args), "searching", [signal.SIGINT])
    _assert_resumable(stopped, out, signal.SIGINT)
    assert "epoch 1/" not in stopped.stdout  # it stopped within the first epoch
    _run(*stopped.suggested("continue with: "))
    _assert_same_search(out, uninterrupted)


def test_sigterm_after_an_epoch_stops_at_the_next_step_and_resumes_to_the_same_search(
        interrupt, cache_dir, tiny_args, uninterrupted, tmp_path):
    out = tmp_path / "run"
    stopped = interrupt(_search_args(cache_dir, out, tiny_args), "epoch 1/", [signal.SIGTERM])
    _assert_resumable(stopped, out, signal.SIGTERM)
    assert not (out / "arch.json").exists()
    resumed = _run(*stopped.suggested("continue with: "))
    assert resumed.output.splitlines()[1].startswith("epoch 2 ")  # redoes the interrupted epoch
    _assert_same_search(out, uninterrupted)


def test_a_second_signal_stops_at_once_and_says_truthfully_what_is_left(interrupt, cache_dir, tiny_args,
                                                                        tmp_path):
    out = tmp_path / "run"
    args = _search_args(cache_dir, out, tiny_args)
    # (two SIGINTs sent at once would reach Python as one: the kernel does not queue them)
    stopped = interrupt(args, "searching", [signal.SIGINT, signal.SIGTERM])
    assert stopped.returncode == 143
    assert len(stopped.stderr) == 1
    assert stopped.stderr[0].startswith("automm: stopped at once on a second signal (SIGTERM); ")
    if (out / "checkpoint.pt").is_file():  # the first step came between the two signals
        assert stopped.suggested("continue with: ") == ["search", "--out", str(out), "--resume"]
    else:
        assert stopped.suggested("nothing to resume (no checkpoint yet); start again with: ") == \
            [str(a) for a in args]


def test_sigint_in_evaluate_suggests_a_resume_that_gives_the_uninterrupted_metrics(
        interrupt, uninterrupted, tmp_path):
    arch = uninterrupted / "arch.json"
    args: list[str | Path] = ["evaluate", arch, "--epochs", 2, "--batch-size", 32, "--seed", 3]
    _run(*args, "--out", tmp_path / "whole")
    stopped = interrupt([*args, "--out", tmp_path / "cut"], "evaluating", [signal.SIGINT])
    assert stopped.returncode == 130
    assert len(stopped.stderr) == 1 and stopped.stderr[0].startswith("automm: interrupted (SIGINT); "), \
        stopped.stderr
    resume = stopped.suggested("continue with: ")
    assert "--resume" in resume
    _run(*resume)

    def metrics(name: str) -> dict[str, Any]:
        record = json.loads((tmp_path / name / "metrics.json").read_text())
        return {k: v for k, v in record.items() if k not in ("train_seconds", "provenance")}

    assert metrics("cut") == metrics("whole")
    assert _records(tmp_path / "cut" / "history.jsonl") == _records(tmp_path / "whole" / "history.jsonl")


def test_sigterm_stops_a_sweep_and_the_same_command_finishes_it(interrupt, cache_dir, tiny_args, tmp_path):
    out = tmp_path / "sweep"
    args = ["sweep", "--data", cache_dir, "--out", out, "--grid", "temperature=5,10", "--seeds", "0",
            "--epochs", 2, "--batch-size", 32, "--evaluate-epochs", 1, "--workers", 1, *tiny_args]

    def point_started() -> bool:
        return any((out / "points").glob("*/checkpoint.pt"))

    stopped = interrupt(args, point_started, [signal.SIGTERM])
    assert stopped.returncode == 143
    assert len(stopped.stderr) == 1 and "the others resume from their checkpoints" in stopped.stderr[0]
    resume = stopped.suggested("continue with: ")
    assert resume == [*map(str, args), "--resume"]
    assert not (out / "table.md").exists()
    finished = _run(*resume)
    assert "2 points finished" in finished.output
