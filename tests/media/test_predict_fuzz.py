"""Predict fuzzing (tests/media/predictkit.py): every damaged model is one error line, every
unusable video one line of its own while the good videos are still scored; never ``nan``,
never a hang."""

from __future__ import annotations

import math
import shutil
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from modelkit import write_model
from predictkit import EXPORTED_FAULTS, MODEL_FAULTS, video_faults

from automm.cli import cli
from automm.data import FeatureCache

sys.path.insert(0, str(Path(__file__).parents[1] / "reliability"))
from faults import CLEAN, run_cli, time_limit


@pytest.fixture(scope="module")
def model(folder_cache, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("fuzz") / "model"
    write_model(FeatureCache.open(folder_cache.path), out)
    return out


@pytest.fixture(scope="module")
def good(folder_dataset) -> Path:
    root, expected = folder_dataset
    return root / next(k for k, v in expected.items() if v is None)


def scores(stdout: str) -> dict[str, float]:
    """Video -> P(fake) of the score lines (``0.1234  VIDEO`` or ``0.1234  fake  VIDEO``)."""
    out = {}
    for line in stdout.splitlines():
        first, *_, video = line.split()
        out[video] = float(first)
    return out


@pytest.mark.parametrize("fault", MODEL_FAULTS)
def test_a_damaged_model_directory_is_one_error_line(model, good, tmp_path, fault):
    broken = tmp_path / "model"
    shutil.copytree(model, broken)
    MODEL_FAULTS[fault](broken)
    outcome = run_cli(["predict", broken, good, "--device", "cpu"], timeout=120)
    assert outcome.kind == CLEAN, outcome
    assert str(broken) in outcome.stderr


@pytest.mark.parametrize("fault", EXPORTED_FAULTS)
def test_a_file_that_is_no_exported_detector_is_one_error_line(good, tmp_path, fault):
    path = tmp_path / f"detector{fault.split('(')[-1].rstrip(')')}"
    EXPORTED_FAULTS[fault](path)
    outcome = run_cli(["predict", "--model", path, good, "--device", "cpu"], timeout=60)
    assert outcome.kind == CLEAN, outcome


def test_bad_videos_among_good_ones_each_get_a_line_and_the_good_are_scored(model, good, tmp_path):
    faults = video_faults(good)
    videos = []
    for i, make in enumerate(faults.values()):
        videos.append(tmp_path / f"{i}.mp4")
        make(videos[-1])
    with time_limit(300):  # a video that blocks or decodes forever fails here instead of hanging
        result = CliRunner().invoke(cli, ["predict", str(model), str(good), *map(str, videos),
                                          "--device", "cpu"])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "nan" not in result.stdout.lower()
    scored = scores(result.stdout)
    assert str(good) in scored and all(0 <= p <= 1 and math.isfinite(p) for p in scored.values())
    errors = [line for line in result.stderr.splitlines() if line.startswith("automm: error: ")]
    for name, video in zip(faults, videos, strict=True):
        lines = [e for e in errors if e.startswith(f"automm: error: {video}: ")]
        assert len(lines) + (str(video) in scored) == 1, (name, lines)
        if not name.startswith("truncated to 90"):  # may still decode
            assert lines, (name, result.stderr)
