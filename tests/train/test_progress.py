"""The whole-run progress bar of search and evaluate: elapsed and remaining time, quiet off a terminal."""

from __future__ import annotations

import pytest

from automm.cli._run_output import Eta
from automm.train.progress import RunProgress


def _epoch(run: RunProgress, epoch: int, batches: int) -> None:
    with run.epoch(epoch, batches) as bar:
        for _ in range(batches):
            bar.update()
            bar.set_postfix(loss="0.5")


def test_one_bar_over_the_whole_run(capsys: pytest.CaptureFixture[str]) -> None:
    with RunProgress(4, 1, True) as run:  # resumed after epoch 1
        _epoch(run, 2, 3)
        assert run.bar.n == 2
        _epoch(run, 3, 7)
    err = capsys.readouterr().err
    assert "epoch 2/4" in err and "epoch 3/4" in err and "75%" in err
    assert "<" in err and "loss=0.5" in err  # elapsed<remaining, then the postfix


@pytest.mark.parametrize("enabled", [None, False])
def test_quiet_when_not_a_terminal_or_disabled(capsys: pytest.CaptureFixture[str],
                                                enabled: bool | None) -> None:
    with RunProgress(2, 0, enabled) as run:
        _epoch(run, 1, 2)
    assert capsys.readouterr().err == ""


def test_an_error_inside_an_epoch_removes_the_bar() -> None:
    run = RunProgress(2, 0, True)
    with pytest.raises(ValueError), run.epoch(1, 2):
        raise ValueError("boom")
    assert run.bar.disable  # closed


def test_refresh_is_no_postfix_and_a_stop_rule_says_up_to(capsys: pytest.CaptureFixture[str]) -> None:
    with RunProgress(4, 0, True, up_to=True) as run, run.epoch(1, 2) as bar:
        bar.update()
        bar.set_postfix(loss="0.5", refresh=True)
    err = capsys.readouterr().err
    assert "loss=0.5" in err and "refresh" not in err
    assert "(up to 4 epochs)" in err


def test_epoch_lines_carry_the_remaining_time() -> None:
    eta = Eta(4, up_to=True)
    assert eta({"epoch": 1, "seconds": 10.0}) == " | ETA 00:30 (up to 4 epochs)"
    assert eta({"epoch": 2, "seconds": 20.0}) == " | ETA 00:30 (up to 4 epochs)"  # mean 15s, 2 left
    assert Eta(3)({"epoch": 3, "seconds": 5.0}) == " | ETA 00:00"
    assert Eta(None)({"epoch": 1, "seconds": 5.0}) == ""
