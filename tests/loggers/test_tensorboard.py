"""The ``tensorboard`` logger: without TensorBoard it is listed as unavailable with its install hint;
with it, a search's event files (read back with TensorBoard's own reader) hold every scalar of
metrics.jsonl, each candidate's probability and the derived architecture per epoch, and each sweep
point is a TensorBoard run named by its grid values."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

import pytest
from click.testing import CliRunner

from automm.cli import cli
from automm.loggers import scalars

TINY = ("--C", "16", "--L", "2", "--cells", "1", "--steps", "1", "--ops", "sum,linear-glu,concat-fc")
WITHOUT_TENSORBOARD = "import sys; sys.modules['tensorboard'] = None"
"""Prepended to a subprocess: ``find_spec('tensorboard')`` finds nothing."""


def automm(*code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", "\n".join(code)], capture_output=True, text=True,
                          timeout=300, env=os.environ.copy())


def events(log_dir: Path):
    """TensorBoard's reader over the event files of one run directory."""
    pytest.importorskip("tensorboard", reason="pip install 'automm[tensorboard]' (CI installs it)")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    reader = EventAccumulator(str(log_dir), size_guidance={"scalars": 0, "images": 0, "tensors": 0})
    reader.Reload()
    return reader


def test_the_plugin_is_declared_as_entry_point_tensorboard():
    names = {ep.name: ep.value for ep in entry_points(group="automm")}
    assert names.get("tensorboard") == "automm_tensorboard"


def test_without_tensorboard_the_logger_is_unavailable_with_its_install_hint():
    out = automm(WITHOUT_TENSORBOARD, "from automm.cli import main", "main(['plugins'])")
    assert out.returncode == 0, out.stderr
    listed = r"^\s*tensorboard\s+unavailable: needs automm\[tensorboard\]$"
    assert re.search(listed, out.stdout, re.M), out.stdout
    out = automm(WITHOUT_TENSORBOARD, "from automm.cli import main",
                 "main(['search', '--logger', 'tensorboard', '--epochs', '1'])")
    assert out.returncode == 2
    assert out.stderr.strip().splitlines() == [
        "automm: error: --logger tensorboard needs plugin 'tensorboard' (needs automm[tensorboard])"]


def test_an_unknown_logger_is_one_line_naming_the_known_ones():
    result = CliRunner().invoke(cli, ["evaluate", "arch.json", "--logger", "mlfow"])
    assert result.exit_code == 2
    assert "unknown logger 'mlfow'; known: tensorboard" in result.output


@pytest.fixture(scope="module")
def logged_run(cache_dir, tmp_path_factory) -> Path:
    run = tmp_path_factory.mktemp("tb") / "run"
    result = CliRunner().invoke(cli, ["search", "--data", str(cache_dir), "--out", str(run), "--epochs", "2",
                                      "--logger", "tensorboard", "--no-progress", *TINY])
    assert result.exit_code == 0, result.output
    return run


def test_a_search_logs_every_scalar_of_metrics_jsonl(logged_run):
    reader = events(logged_run / "tensorboard" / "search")
    records = [json.loads(line) for line in (logged_run / "metrics.jsonl").read_text().splitlines()]
    for record in records:
        numbers = scalars(record)
        assert {"train_loss", "val_loss", "val_auc", "lr", "temperature", "entropy/op",
                "entropy/cell-input"} <= set(numbers)
        for tag, value in numbers.items():
            logged = {e.step: e.value for e in reader.Scalars(tag)}
            assert logged[record["epoch"]] == pytest.approx(value, rel=1e-6), tag
        for choice, candidates in record["probabilities"].items():
            for candidate, p in candidates.items():
                logged = {e.step: e.value for e in reader.Scalars(f"probability/{choice}/{candidate}")}
                assert logged[record["epoch"]] == pytest.approx(p, abs=1e-6)
    arch = json.loads((logged_run / "arch.json").read_text())
    assert reader.Scalars("result/val_auc")[-1].value == pytest.approx(arch["metrics"]["val_auc"])
    assert {"settings/text_summary", "status/text_summary"} <= set(reader.Tags()["tensors"])
    if shutil.which("dot"):
        images = reader.Images("architecture")
        assert [i.step for i in images] == [1, 2] and all(i.width > 50 and i.height > 50 for i in images)


def test_a_finished_search_says_so(logged_run):
    reader = events(logged_run / "tensorboard" / "search")
    status = reader.Tensors("status/text_summary")[-1].tensor_proto.string_val[0].decode()
    assert status == "finished"


@pytest.mark.slow
def test_each_sweep_point_is_a_run_named_by_its_grid_values(cache_dir, tmp_path):
    out = tmp_path / "sweep"
    result = CliRunner().invoke(cli, ["sweep", "--data", str(cache_dir), "--out", str(out), "--grid",
                                      "samples=5,10", "--epochs", "1", "--evaluate-epochs", "1", "--workers",
                                      "1", "--logger", "tensorboard", "--no-progress", *TINY])
    assert result.exit_code == 0, result.output
    runs = sorted(str(p.parent.relative_to(out / "tensorboard")) for p in out.glob("tensorboard/**/events.*"))
    assert runs == ["samples=10_seed=0/evaluate", "samples=10_seed=0/search",
                    "samples=5_seed=0/evaluate", "samples=5_seed=0/search"]
    reader = events(out / "tensorboard" / "samples=10_seed=0" / "evaluate")
    metrics = json.loads((out / "points" / "samples=10_seed=0" / "eval" / "metrics.json").read_text())
    assert reader.Scalars("result/test_auc")[0].value == pytest.approx(metrics["test_auc"])
