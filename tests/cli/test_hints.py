"""Did-you-mean hints for datasets, backbones and sweep grid keys, and the space options that fit
a cache with fewer taps."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from automm.cli import cli
from automm.data.synthetic import make_synthetic_cache


def _error(*args: str | Path) -> str:
    result = CliRunner().invoke(cli, [str(a) for a in args])
    assert result.exit_code == 2, result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("automm: error: "), result.stderr
    return lines[0]


@pytest.mark.parametrize(("option", "hint"), [
    (["--dataset", "fakeavcelb"], "(did you mean 'fakeavceleb'?)"),
    (["--backbone", "image=resnet34-imag"], "(did you mean 'resnet34-image'?)"),
    (["--backbone", "imag=resnet34-image"], "(did you mean 'image'?)"),
])
def test_extract_suggests_the_closest_dataset_and_backbone(tmp_path, option, hint):
    (tmp_path / "videos" / "real").mkdir(parents=True)
    assert hint in _error("extract", tmp_path / "videos", "--out", tmp_path / "cache", *option)


def test_sweep_suggests_the_closest_grid_key(cache_dir, tmp_path):
    line = _error("sweep", "--data", cache_dir, "--out", tmp_path / "sweep", "--grid", "temprature=5,10")
    assert "'temprature' is neither an option of the strategy nor a config field of the space " \
           "(did you mean 'temperature'?)" in line


@pytest.mark.parametrize(("taps", "given", "suggestion"), [
    ((2, 2), [], "; the space fits this cache with --image-taps 2 --audio-taps 2"),
    ((4, 3), [], "; the space fits this cache with --audio-taps 3"),
    ((2, 2), ["--image-taps", "3"], ""),  # what the user set is not overridden
])
def test_a_cache_with_fewer_taps_suggests_the_space_options_that_fit_it(tmp_path, taps, given, suggestion):
    cache = make_synthetic_cache(tmp_path / "cache", identities=10, image_taps=taps[0], audio_taps=taps[1],
                                 signal=("image/2", "audio/2"))
    line = _error("search", "--data", cache, "--out", tmp_path / "run", *given)
    assert "incompatible cache: missing tap(s)" in line
    assert line.endswith(")" + suggestion)
