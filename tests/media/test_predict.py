"""automm predict: the recorded feature extraction rebuilt, the same scores as on the cache."""

from __future__ import annotations

import json

import pytest
import torch
from click.testing import CliRunner
from modelkit import write_model

from automm.cli import cli
from automm.data import FeatureCache


def test_predict_matches_the_network_on_cached_features(folder_dataset, folder_cache, tmp_path):
    root, _ = folder_dataset
    cache = FeatureCache.open(folder_cache.path)
    net = write_model(cache, tmp_path / "model")
    videos = [str(root / s["id"]) for s in cache.samples]
    res = CliRunner().invoke(cli, ["predict", str(tmp_path / "model"), *videos, "--json", "--device", "cpu"])
    assert res.exit_code == 0, res.output
    got = torch.tensor([p["p_fake"] for p in json.loads(res.stdout)["predictions"]])
    with torch.no_grad():
        want = torch.softmax(net(cache.batch(range(len(cache)))), dim=-1)[:, 1]
    torch.testing.assert_close(got, want, atol=1e-4, rtol=0)


def test_unreadable_videos_give_an_error_line_and_exit_1(folder_dataset, folder_cache, tmp_path):
    root, expected = folder_dataset
    write_model(FeatureCache.open(folder_cache.path), tmp_path / "model")
    good = next(k for k, v in expected.items() if v is None)
    res = CliRunner().invoke(cli, ["predict", str(tmp_path / "model"), str(root / good),
                                   str(root / "fake/carol/corrupt.mp4"), str(root / "real/erin/silent.mp4")])
    assert res.exit_code == 1
    lines = res.stdout.strip().splitlines()
    assert len(lines) == 1 and lines[0].endswith(good) and 0 <= float(lines[0].split()[0]) <= 1
    assert "corrupt.mp4: unreadable" in res.stderr and "silent.mp4: silent" in res.stderr
    assert "random-init (seed 0)" in res.stderr


@pytest.mark.parametrize("change, message", [
    (lambda s: s["backbones"]["image"].update(sha256="0" * 64), "differs from the one the model was trained"),
    (lambda s: s.pop("extractor"), "does not describe an 'automm extract' feature cache"),
])
def test_a_model_whose_features_cannot_be_rebuilt_is_one_error(folder_cache, tmp_path, change, message):
    cache = FeatureCache.open(folder_cache.path)
    source = json.loads(json.dumps(cache.manifest["source"]))
    change(source)
    write_model(cache, tmp_path / "model", source)
    res = CliRunner().invoke(cli, ["predict", str(tmp_path / "model"), "x.mp4"])
    assert res.exit_code == 2 and message in res.output


def test_a_model_with_nan_weights_is_refused_naming_the_file(folder_cache, tmp_path):
    from safetensors.torch import load_file, save_file

    write_model(FeatureCache.open(folder_cache.path), tmp_path / "model")
    weights = tmp_path / "model" / "model.safetensors"
    state = load_file(str(weights))
    save_file({k: v * float("nan") if v.is_floating_point() else v for k, v in state.items()}, str(weights))
    res = CliRunner().invoke(cli, ["predict", str(tmp_path / "model"), "x.mp4", "--device", "cpu"])
    assert res.exit_code == 2 and "nan" not in res.stdout.lower()
    assert len(res.stderr.strip().splitlines()) == 1
    assert f"{weights}: " in res.stderr and "NaN or infinite" in res.stderr


def test_special_files_are_skipped_without_blocking_and_the_good_video_scored(folder_dataset, folder_cache,
                                                                              tmp_path):
    import os
    import signal

    root, expected = folder_dataset
    write_model(FeatureCache.open(folder_cache.path), tmp_path / "model")
    good = str(root / next(k for k, v in expected.items() if v is None))
    fifo, folder, loop = tmp_path / "fifo.mp4", tmp_path / "dir.mp4", tmp_path / "loop.mp4"
    os.mkfifo(fifo)
    folder.mkdir()
    loop.symlink_to(loop)

    def hang(*_):
        raise TimeoutError("predict blocked on a special file")

    old = signal.signal(signal.SIGALRM, hang)
    signal.alarm(60)  # a FIFO opened for reading blocks forever: fail instead of hanging
    try:
        res = CliRunner().invoke(cli, ["predict", str(tmp_path / "model"), str(fifo), str(folder), str(loop),
                                       good, "--device", "cpu"])
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
    assert res.exit_code == 1, res.output
    lines = res.stdout.strip().splitlines()
    assert len(lines) == 1 and lines[0].endswith(good) and 0 <= float(lines[0].split()[0]) <= 1
    assert "a FIFO" in res.stderr and "a directory" in res.stderr and "symbolic links" in res.stderr


@pytest.mark.parametrize("where", ["eval", "."])
def test_predict_before_evaluate_names_the_evaluate_command(tmp_path, where):
    (tmp_path / "arch.json").write_text("{}")  # a search run: arch.json, no model
    model_dir = tmp_path / where
    result = CliRunner().invoke(cli, ["predict", str(model_dir), str(tmp_path / "video.mp4")])
    assert result.exit_code == 2
    assert len(result.stderr.splitlines()) == 1
    command = f"automm evaluate {tmp_path / 'arch.json'} --out {tmp_path / 'eval'}"
    assert result.stderr.rstrip().endswith(f"predict needs the evaluation directory written by {command}")
