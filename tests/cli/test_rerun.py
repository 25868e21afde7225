"""``--rerun``: a search and an evaluation repeat from their own records (issue 24); on the CPU
the repeat's files equal the original's apart from times and the command line."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from click.testing import CliRunner

from automm.cli import cli


def run(*args: object):
    return CliRunner().invoke(cli, [str(a) for a in args])


def comparable(path: Path, durations: str) -> dict:
    """The JSON document without what differs between two runs of the same thing."""
    doc = json.loads(path.read_text())
    doc["provenance"].pop("run")
    doc["metrics" if "metrics" in doc else "provenance"].pop(durations, None)
    doc.pop(durations, None)
    return doc


def test_rerun_repeats_search_and_evaluation(cache_dir: Path, tiny_args: tuple[str, ...], tmp_path: Path,
                                             monkeypatch):
    first = tmp_path / "first"
    args = ["search", "--data", cache_dir, "--out", first, "--epochs", 2, "--batch-size", 32,
            "--device", "cpu", "--seed", 4, "--temperature", 3, *tiny_args]
    monkeypatch.setattr(sys, "argv", ["/venv/bin/automm", *map(str, args)])  # as the shell starts it
    result = run(*args)
    assert result.exit_code == 0, result.output
    record = json.loads((first / "arch.json").read_text())["provenance"]
    assert record["settings"]["batch_size"] == 32 and record["settings"]["patience"] == 5  # defaults too
    assert record["device"] == "cpu" and record["seed"] == 4 and record["precision"] == "fp32"
    assert record["run"]["command"].startswith("automm search --data ")
    assert "--temperature 3" in record["run"]["command"]
    assert record["run"]["started"] <= record["run"]["finished"]
    assert {"automm", "torch", "cuda", "python", "plugins", "git", "data"} <= set(record)

    second = tmp_path / "second"
    result = run("search", "--rerun", first, "--out", second, "--epochs", 9)
    assert result.exit_code == 0, result.output
    assert "ignoring --epochs" in result.stderr
    repeated = comparable(second / "arch.json", "search_seconds")
    assert repeated == comparable(first / "arch.json", "search_seconds")

    result = run("evaluate", first / "arch.json", "--epochs", 2, "--bootstrap", 50, "--device", "cpu")
    assert result.exit_code == 0, result.output
    assert "bootstrap interval over the test videos (50 resamples" in result.stdout
    result = run("evaluate", "--rerun", first / "eval", "--out", tmp_path / "again")
    assert result.exit_code == 0, result.output
    original = comparable(first / "eval" / "metrics.json", "train_seconds")
    assert comparable(tmp_path / "again" / "metrics.json", "train_seconds") == original
    assert original["provenance"]["settings"]["bootstrap"] == 50


def test_a_record_without_settings_cannot_be_rerun(cache_dir: Path, tiny_args: tuple[str, ...],
                                                   tmp_path: Path):
    old = tmp_path / "old"
    assert run("search", "--data", cache_dir, "--out", old, "--epochs", 1, *tiny_args).exit_code == 0
    doc = json.loads((old / "arch.json").read_text())
    del doc["provenance"]["settings"]  # as an older automm wrote it
    (old / "arch.json").write_text(json.dumps(doc))
    result = run("search", "--rerun", old, "--out", tmp_path / "new")
    assert result.exit_code != 0 and "records no settings" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
