"""``--json`` of search, evaluate, report and runs: one object on stdout, nothing else there, its
values those of the files written (docs/formats.md, Command output)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from automm.cli import cli
from automm.cli.evaluate import JSON_METRICS
from automm.fileio import read_json


def _json(*args: object) -> dict[str, Any]:
    result = CliRunner().invoke(cli, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)  # stdout holds the object alone
    assert doc["status"] == "finished" and all(Path(f).is_file() for f in doc["files"])
    return doc


@pytest.fixture(scope="module")
def searched(cache_dir: Path, tiny_args: tuple[str, ...], tmp_path_factory: pytest.TempPathFactory
             ) -> tuple[Path, dict[str, Any]]:
    run = tmp_path_factory.mktemp("json") / "runs" / "a"
    return run, _json("search", "--data", cache_dir, "--out", run, "--epochs", 2, "--batch-size", 32,
                      "--threads", 1, *tiny_args, "--json")


def test_search(searched: tuple[Path, dict[str, Any]]) -> None:
    run, doc = searched
    arch = read_json(run / "arch.json")
    assert doc["command"] == "search" and doc["run_dir"] == str(run) and doc["arch"] == str(run / "arch.json")
    assert doc["metrics"] == arch["metrics"] and doc["stopped"] == "max-epochs"
    assert {str(run / "arch.json"), str(run / "metrics.jsonl")} <= set(doc["files"])


def test_evaluate_report_and_runs(searched: tuple[Path, dict[str, Any]]) -> None:
    run, _ = searched
    doc = _json("evaluate", run / "arch.json", "--epochs", 1, "--bootstrap", 20, "--json")
    metrics = read_json(run / "eval" / "metrics.json")
    assert doc["command"] == "evaluate" and doc["out"] == str(run / "eval") and doc["robustness"] is None
    assert doc["metrics"] == {k: metrics[k] for k in JSON_METRICS}
    assert str(run / "eval" / "predictions.csv") in doc["files"]

    report = _json("report", run, "--json")
    assert report["command"] == "report" and report["kind"] == "run" and report["run_dirs"] == [str(run)]
    assert str(run / "report.md") in report["files"] and str(run / "report.html") in report["files"]

    runs = _json("runs", run.parent, "--json", "--html")
    assert runs["command"] == "runs" and runs["root"] == str(run.parent)
    assert runs["files"] == [str(run.parent / "index.html")]
    assert {(r["run"], r["kind"]) for r in runs["runs"]} == {("a", "search"), ("a/eval", "evaluation")}
    assert next(r for r in runs["runs"] if r["kind"] == "evaluation")["test_auc"] == metrics["test_auc"]
