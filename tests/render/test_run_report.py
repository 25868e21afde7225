"""``automm report``: figures and report.md from a small fake run directory and evaluation."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from automm.cli import cli
from automm.train.metrics import roc_auc, roc_curve

DATA = Path(__file__).parent / "data"
needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz dot not installed")
PNG = b"\x89PNG"
LABELS = [0, 1, 0, 1, 1, 0, 1, 0]
SCORES = [0.1, 0.9, 0.4, 0.4, 0.8, 0.2, 0.3, 0.6]


def write_jsonl(path: Path, records: list[dict]) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in records))


@pytest.fixture
def run_dir(tmp_path) -> Path:
    """A run directory as `automm search` writes it (formats of COORDINATION.md), 3 epochs."""
    return make_run(tmp_path / "run")


def make_run(run: Path) -> Path:
    """The run directory of :func:`run_dir` at ``run``."""
    run.mkdir(parents=True)
    shutil.copy(DATA / "arch.json", run / "arch.json")
    write_jsonl(run / "metrics.jsonl", [
        {"epoch": e, "train_loss": 0.7 / e, "train_acc": 0.5 + e / 10, "val_loss": 0.8 / e,
         "val_acc": 0.5 + e / 12, "val_auc": 0.6 + e / 20, "temperature": 10.0,
         "entropy": {"cell-input": 2.0 - e / 10, "step-input": 0.9 - e / 20, "op": 1.6 - e / 10},
         "derived_val_acc": 0.5 + e / 11, "derived_val_auc": 0.6 + e / 15, "seconds": 1.5}
        for e in (1, 2, 3)])
    return run


def add_eval(directory: Path) -> Path:
    """An evaluation directory as `automm evaluate` writes it."""
    directory.mkdir(exist_ok=True)
    (directory / "metrics.json").write_text(json.dumps({
        "test_auc": 0.78125, "test_acc": 0.75, "test_eer": 0.25, "params": 262402,
        "params_with_backbones": None, "val_auc": 0.9, "val_acc": 0.85, "epochs": 2}))
    write_jsonl(directory / "history.jsonl", [
        {"epoch": e, "train_loss": 1 / e, "train_acc": 0.6, "val_loss": 1.1 / e, "val_acc": 0.6,
         "val_auc": 0.7} for e in (1, 2)])
    (directory / "predictions.csv").write_text(
        "id,label,score\n"
        + "".join(f"s{i},{y},{s}\n" for i, (y, s) in enumerate(zip(LABELS, SCORES, strict=True))))
    return directory


def report(*args: object):
    return CliRunner().invoke(cli, ["report", *map(str, args)])


def images(markdown: str) -> list[str]:
    return re.findall(r"!\[[^]]*\]\(([^)]+)\)", markdown)


@needs_dot
def test_full_report(run_dir):
    add_eval(run_dir / "eval")
    result = report(run_dir)
    assert result.exit_code == 0, result.output
    md = (run_dir / "report.md").read_text()
    assert images(md) == ["arch.svg", "entropy.png", "training.png", "roc.png", "eval-training.png"]
    for name in ("entropy.png", "training.png", "roc.png", "eval-training.png", "arch.png"):
        assert (run_dir / name).read_bytes().startswith(PNG), name
    assert "</svg>" in (run_dir / "arch.svg").read_text()
    assert "| test AUC | 0.7812 | n/a |" in md and "| val_auc | 0.912 |" in md
    assert "| params | 262,402 |" in md
    assert "No intervals recorded" in md  # an evaluation written before intervals were
    assert "The image and audio backbones were randomly initialised" in md and "data.source" not in md
    assert "8 samples, AUC 0.7812" in md and "3 epoch(s)" in md
    assert not [p for p in run_dir.iterdir() if p.name.startswith(".")]  # no temporary files left


def test_search_only_without_dot(run_dir, monkeypatch, tmp_path_factory):
    monkeypatch.setenv("PATH", str(tmp_path_factory.mktemp("empty-path")))
    result = report(run_dir)
    assert result.exit_code == 0, result.output
    md = (run_dir / "report.md").read_text()
    assert images(md) == ["entropy.png", "training.png"]
    assert "arch.dot" in md and (run_dir / "arch.dot").is_file()
    assert "No evaluation yet" in md
    assert not (run_dir / "roc.png").exists()


def test_run_dir_that_is_an_eval_dir(run_dir):
    add_eval(run_dir)
    (run_dir / "metrics.jsonl").unlink()
    result = report(run_dir)
    assert result.exit_code == 0, result.output
    md = (run_dir / "report.md").read_text()
    assert "roc.png" in images(md) and "No metrics.jsonl" in md


def test_explicit_eval_dir(run_dir, tmp_path):
    elsewhere = add_eval(tmp_path / "evaluation")
    assert report(run_dir, "--eval", elsewhere).exit_code == 0
    assert (run_dir / "roc.png").is_file() and not (elsewhere / "roc.png").exists()
    result = report(run_dir, "--eval", tmp_path / "missing")
    assert result.exit_code == 2 and "missing: no such evaluation directory" in result.stderr


def test_an_eval_dir_that_holds_no_evaluation_is_refused_and_nothing_written(run_dir, tmp_path):
    before = sorted(p.name for p in run_dir.iterdir())
    (tmp_path / "notaneval").mkdir()
    result = report(run_dir, "--eval", tmp_path / "notaneval")
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        f"automm: error: {tmp_path / 'notaneval'}: not an evaluation directory (no metrics.json); --eval "
        "takes the directory written by automm evaluate ARCH_JSON --out DIR"]
    assert sorted(p.name for p in run_dir.iterdir()) == before


def test_bad_inputs_are_one_line_and_write_no_report(run_dir):
    with (run_dir / "metrics.jsonl").open("a") as fh:
        fh.write("{oops\n")
    result = report(run_dir)
    assert result.exit_code == 2 and "metrics.jsonl:4: invalid JSON" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (run_dir / "report.md").exists()
    (run_dir / "arch.json").write_text("[]")
    result = report(run_dir)
    assert result.exit_code == 2 and "arch.json" in result.stderr


def test_roc_curve_of_the_figure():
    fpr, tpr = roc_curve(SCORES, LABELS)
    assert (fpr[0], tpr[0], fpr[-1], tpr[-1]) == (0, 0, 1, 1)
    assert np.all(np.diff(fpr) >= 0) and np.all(np.diff(tpr) >= 0)
    area = float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2))  # trapezoid = rank statistic
    assert area == pytest.approx(roc_auc(SCORES, LABELS)) == pytest.approx(12.5 / 16)
    with pytest.raises(ValueError, match="both classes"):
        roc_curve([0.2, 0.3], [1, 1])


def test_single_class_test_split_has_no_roc(run_dir):
    evaluation = add_eval(run_dir / "eval")
    (evaluation / "predictions.csv").write_text("id,label,score\na,1,0.5\nb,1,0.7\n")
    result = report(run_dir, "--eval", evaluation)
    assert result.exit_code == 0, result.output
    assert "single class" in (run_dir / "report.md").read_text() and not (run_dir / "roc.png").exists()
