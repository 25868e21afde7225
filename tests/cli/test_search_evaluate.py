"""``automm search`` and ``automm evaluate``: outputs, options, one-line errors, resume after a kill."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner, Result
from safetensors.torch import load_file

from automm.cli import cli
from automm.data import FeatureCache, write_cache
from automm.ir import build_space_for, load_architecture
from automm.nn import FusionNetwork


def _run(*args: str) -> Result:
    return CliRunner().invoke(cli, [str(a) for a in args])


def _one_line_error(result: Result, *fragments: str) -> None:
    assert result.exit_code == 2, result.output
    lines = [line for line in result.stderr.splitlines() if not line.startswith("automm: warning:")]
    assert len(lines) == 1 and lines[0].startswith("automm: error: "), result.stderr
    for fragment in fragments:
        assert fragment in lines[0]


def _search(cache_dir: Path, out: Path, tiny_args: tuple[str, ...], *extra: str) -> Result:
    return _run("search", "--data", cache_dir, "--out", out, "--epochs", 2, "--batch-size", 32, *tiny_args,
                *extra)


def test_search_then_evaluate(cache_dir: Path, tiny_args: tuple[str, ...], tmp_path: Path) -> None:
    run = tmp_path / "run"
    result = _search(cache_dir, run, tiny_args, "--strategy", "stgs", "--temperature", "5", "--samples", "3",
                     "--seed", "3", "--arch-optimizer", "adam", "--arch-lr", "0.01", "--select", "best")
    assert result.exit_code == 0, result.output
    assert f"wrote {run / 'arch.json'}" in result.stdout
    assert f"automm evaluate {run / 'arch.json'} --out {run / 'eval'}" in result.stdout
    assert f"automm predict {run / 'eval'} VIDEO..." in result.stdout
    assert "epoch 1/2  train loss" in result.stdout and "epoch 2/2  train loss" in result.stdout
    assert "%|" not in result.stderr  # not a terminal: no progress bar, only the epoch lines
    assert result.stdout.count("| ETA ") == 2 and "| ETA 00:00 (up to 2 epochs)" in result.stdout
    arch = load_architecture(run / "arch.json")
    assert dict(arch.strategy) == {"name": "stgs", "temperature": 5.0, "samples": 3, "ensemble": "split",
                                   "arch_optimizer": "adam", "arch_lr": 0.01, "arch_weight_decay": 1e-3,
                                   "seed": 3, "effective_samples": 3}
    assert arch.metrics["select"] == "best"
    assert arch.config["C"] == 16 and arch.config["tap_channels"]["image/4"] == 32
    assert {"val_auc", "val_acc", "params", "search_seconds", "epochs"} <= set(arch.metrics)
    cache = FeatureCache.open(cache_dir)
    assert arch.provenance["data"] == {"path": str(cache_dir.resolve()), "fingerprint": cache.fingerprint,
                                       "source": cache.manifest["source"]}
    assert len((run / "metrics.jsonl").read_text().splitlines()) == 2

    result = _run("evaluate", run / "arch.json", "--epochs", 2)
    assert result.exit_code == 0, result.output
    assert "test AUC" in result.stdout
    out = run / "eval"
    assert "epoch 2/2  train loss" in result.stdout and "| val loss" in result.stdout
    assert "| ETA 00:00\n" in result.stdout
    assert "%|" not in result.stderr
    assert result.stdout.splitlines()[-4:] == ["next:", f"  automm report {run}",
                                               f"  automm predict {out} VIDEO...",
                                               f"  automm export {out} --format onnx -o detector.onnx"]
    metrics = json.loads((out / "metrics.json").read_text())
    assert {"test_auc", "test_acc", "test_eer", "params", "params_with_backbones", "val_auc", "val_acc",
            "best_epoch", "epochs", "thresholds"} <= set(metrics)
    chosen = metrics["thresholds"]
    assert chosen["split"] == "val" and chosen["target_fpr"]["target"] == 0.05
    assert chosen["target_fpr"]["val"]["fpr"] <= 0.05
    row = next(line for line in result.stdout.splitlines() if line.startswith("threshold (EER on val)"))
    assert row.split()[4] == f"{chosen['eer']['threshold']:.4f}"
    assert metrics["params"] == arch.metrics["params"] and metrics["params_with_backbones"] is None
    assert len((out / "history.jsonl").read_text().splitlines()) == 2
    with (out / "predictions.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == len(cache.indices("test")) and set(rows[0]) == {"id", "label", "score"}
    saved = load_architecture(out / "arch.json")
    network = FusionNetwork(build_space_for(saved), saved)
    network.load_state_dict(load_file(out / "model.safetensors"))
    _one_line_error(_run("search", "--resume", out), "not a search checkpoint")

    _one_line_error(_run("evaluate", run / "arch.json", "--epochs", 1), str(out), "--force", "--resume")
    _one_line_error(_run("evaluate", run / "arch.json", "--epochs", 3, "--resume"),
                    "setting epochs is 2, now 3")
    assert json.loads((out / "metrics.json").read_text()) == metrics  # nothing lost
    replaced = _run("evaluate", run / "arch.json", "--epochs", 1, "--force")
    assert replaced.exit_code == 0, replaced.output
    assert json.loads((out / "metrics.json").read_text())["epochs"] == 1


def test_strategy_and_space_errors_are_one_line(cache_dir: Path, tiny_args: tuple[str, ...],
                                                tmp_path: Path) -> None:
    _one_line_error(_search(cache_dir, tmp_path / "a", tiny_args, "--strategy", "nope"),
                    "unknown strategy 'nope'", "stgs")
    _one_line_error(_search(cache_dir, tmp_path / "b", tiny_args, "--space", "nope"), "unknown space 'nope'")
    _one_line_error(_search(cache_dir, tmp_path / "c", (*tiny_args, "--ops", "sum,nope")),
                    "unknown fusion op 'nope'")
    _one_line_error(_search(cache_dir, tmp_path / "d", tiny_args, "--strategy", "darts",
                            "--temperature", "2"), "--temperature is not an option of strategy 'darts'")
    assert not any(p.exists() for p in tmp_path.iterdir())


def test_cache_errors_are_one_line(cache_dir: Path, tiny_args: tuple[str, ...], tmp_path: Path) -> None:
    _one_line_error(_search(tmp_path / "missing", tmp_path / "a", tiny_args), str(tmp_path / "missing"))
    cache = FeatureCache.open(cache_dir)
    fewer = {t: np.asarray(a) for t, a in cache.arrays.items() if t != "audio/4"}
    write_cache(tmp_path / "fewer", fewer, cache.samples, classes=cache.classes)
    _one_line_error(_search(tmp_path / "fewer", tmp_path / "b", tiny_args), "incompatible cache", "audio/4")


def test_run_directory_is_not_overwritten(cache_dir: Path, tiny_args: tuple[str, ...],
                                          tmp_path: Path) -> None:
    assert _search(cache_dir, tmp_path / "run", tiny_args, "--epochs", 1).exit_code == 0
    _one_line_error(_search(cache_dir, tmp_path / "run", tiny_args), "--resume")


def test_evaluate_needs_data_when_the_searched_cache_is_gone(cache_dir: Path, tiny_args: tuple[str, ...],
                                                           tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    cache = FeatureCache.open(cache_dir)
    write_cache(copy, {t: np.asarray(a) for t, a in cache.arrays.items()}, cache.samples,
                source=cache.manifest["source"], classes=cache.classes)
    assert _search(copy, tmp_path / "run", tiny_args, "--epochs", 1).exit_code == 0
    for f in copy.iterdir():
        f.unlink()
    copy.rmdir()
    _one_line_error(_run("evaluate", tmp_path / "run" / "arch.json", "--epochs", 1), "pass --data")
    other = tmp_path / "other"
    samples = [{**s, "id": s["id"] + "x"} for s in cache.samples]
    write_cache(other, {t: np.asarray(a) for t, a in cache.arrays.items()}, samples, classes=cache.classes)
    result = _run("evaluate", tmp_path / "run" / "arch.json", "--epochs", 1, "--data", other,
                  "--out", tmp_path / "eval")
    assert result.exit_code == 0, result.output
    assert "fingerprints differ" in result.stderr
    saved = load_architecture(tmp_path / "eval" / "arch.json")
    assert saved.provenance["data"]["path"] == str(other.resolve())
    assert saved.provenance["search_data"]["path"] == str(copy.resolve())


def _records(run: Path) -> list[dict]:
    return [{k: v for k, v in json.loads(line).items() if k != "seconds"}
            for line in (run / "metrics.jsonl").read_text().splitlines()]


@pytest.mark.slow
def test_resume_after_a_kill_gives_the_uninterrupted_result(cache_dir: Path, tiny_args: tuple[str, ...],
                                                            tmp_path: Path) -> None:
    args = ["search", "--data", str(cache_dir), "--epochs", "3", "--batch-size", "8", "--seed", "1",
            *tiny_args]
    run, reference = tmp_path / "run", tmp_path / "reference"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}  # as torch.set_num_threads(1) here
    proc = subprocess.Popen([sys.executable, "-m", "automm", *args, "--out", str(run)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    try:
        while not (run / "checkpoint.pt").exists():
            assert proc.poll() is None, proc.stderr.read().decode()
            assert time.monotonic() < deadline, "no checkpoint after 120 s"
            time.sleep(0.005)
    finally:
        proc.kill()
        proc.wait()
        proc.stderr.close()
    assert not (run / "arch.json").exists()
    assert torch.load(run / "checkpoint.pt", weights_only=True)["epoch"] < 3

    resumed = _run("search", "--out", run, "--resume")
    assert resumed.exit_code == 0, resumed.output
    assert _run(*args, "--out", reference).exit_code == 0
    a, b = load_architecture(run / "arch.json"), load_architecture(reference / "arch.json")
    assert a.choices == b.choices
    assert ({k: v for k, v in a.metrics.items() if k != "search_seconds"}
            == {k: v for k, v in b.metrics.items() if k != "search_seconds"})
    assert _records(run) == _records(reference)
