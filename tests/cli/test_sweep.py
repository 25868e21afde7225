"""``automm sweep``: a 2x2 grid on each executor, resume after SIGKILL, failing points, the table
and figures, and the same arch.json as a standalone search."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import torch
from click.testing import CliRunner
from safetensors.torch import load_file

from automm import api
from automm.cli import cli
from automm.errors import AutommError
from automm.locking import _alive
from automm.schema import problem
from automm.sweep.devices import visible_devices, worker_devices, workers_fitting
from automm.sweep.executors import run_local
from automm.sweep.grid import parse_axis, point_key, points, seed_axis
from automm.sweep.point import PointSpec
from automm.sweep.results import ROW, SCHEMA

GRID = ("--grid", "temperature=5,10", "--grid", "samples=5,10")
SETTINGS = ("--epochs", "3", "--evaluate-epochs", "2", "--no-progress")
TIMES = ("search_seconds", "evaluate_seconds")


def sweep_args(cache: Path, out: Path, tiny: tuple[str, ...], *extra: str) -> list[str]:
    return ["sweep", "--data", str(cache), "--out", str(out), *GRID, *SETTINGS, *tiny, *extra]


def rows(sweep_dir: Path) -> list[dict[str, Any]]:
    """results.jsonl without the timings (which differ between runs)."""
    lines = (sweep_dir / "results.jsonl").read_text().splitlines()
    return [{k: v for k, v in json.loads(line).items() if k not in TIMES} for line in lines]


@pytest.fixture(scope="module")
def local_sweep_json(cache_dir, tiny_args, tmp_path_factory) -> tuple[Path, dict[str, Any]]:
    """A 2x2 grid on two local worker processes, and its ``--json`` object."""
    out = tmp_path_factory.mktemp("sweep") / "local"
    result = CliRunner().invoke(cli, sweep_args(cache_dir, out, tiny_args, "--workers", "2", "--json"))
    assert result.exit_code == 0, result.output
    return out, json.loads(result.stdout)


@pytest.fixture(scope="module")
def local_sweep(local_sweep_json) -> Path:
    """The directory of the 2x2 grid."""
    return local_sweep_json[0]


def test_json_object_names_the_files_and_the_best_point(local_sweep_json):
    out, doc = local_sweep_json
    records = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert doc["command"] == "sweep" and doc["status"] == "finished" and doc["out"] == str(out)
    assert (doc["points"], doc["finished"], doc["failed"], doc["skipped"]) == (4, 4, 0, 0)
    assert doc["best"] == max(records, key=lambda r: r["test_auc"])
    assert problem(json.loads((out / "sweep.json").read_text()), SCHEMA) is None
    assert all(problem(r, ROW) is None for r in records)
    assert {str(out / n) for n in ("results.csv", "results.jsonl", "table.md", "heatmap-auc.png")} <= set(
        doc["files"])
    assert all(Path(f).is_file() for f in doc["files"])


def test_a_local_2x2_grid_writes_one_row_per_point(local_sweep):
    with open(local_sweep / "results.csv", newline="") as f:
        table = list(csv.DictReader(f))
    assert [(r["temperature"], r["samples"], r["seed"]) for r in table] == [
        ("5.0", "5", "0"), ("5.0", "10", "0"), ("10.0", "5", "0"), ("10.0", "10", "0")]
    assert {r["status"] for r in table} == {"ok"}
    for r in table:
        assert 0 <= float(r["test_auc"]) <= 1 and int(r["params"]) > 0 and r["stopped"] == "max-epochs"
        run = local_sweep / r["run_dir"]
        assert (run / "arch.json").is_file() and (run / "eval" / "metrics.json").is_file()
    assert table[1]["key"] == "temperature=5_samples=10_seed=0"


def test_table_and_figures_are_written_and_report_renders_them_again(local_sweep):
    table = (local_sweep / "table.md").read_text()
    assert "| temperature \\\\ samples |  | samples=5 | samples=10 |" in table
    assert "| temperature=10 | test AUC |" in table and "|  | params |" in table
    figures = ("heatmap-auc.png", "heatmap-params.png", "entropy-overlay.png")
    for name in figures:
        assert (local_sweep / name).read_bytes()[:4] == b"\x89PNG"
        (local_sweep / name).unlink()
    (local_sweep / "table.md").unlink()
    result = CliRunner().invoke(cli, ["report", str(local_sweep)])
    assert result.exit_code == 0, result.output
    assert (local_sweep / "table.md").read_text() == table
    assert all((local_sweep / name).is_file() for name in figures)


def test_a_point_gives_the_same_arch_json_as_a_standalone_search(local_sweep, cache_dir, tiny_args, tmp_path):
    config = {"C": 16, "L": 2, "cells": 1, "steps": 1, "ops": ("sum", "linear-glu", "concat-fc")}
    assert list(tiny_args[1::2])[:2] == ["16", "2"]  # the tiny space of conftest
    alone = api.search(cache_dir, out=tmp_path / "alone", config=config,
                       options={"temperature": 10.0, "samples": 5}, epochs=3, seed=0)
    swept = json.loads((local_sweep / "points" / "temperature=10_samples=5_seed=0" / "arch.json").read_text())
    expected = alone.architecture.to_dict()
    for doc in (expected, swept):
        doc["metrics"].pop("search_seconds")
        doc["provenance"].pop("run")  # the command line and times of each process
    assert swept == expected


def stable(path: Path) -> dict[str, Any]:
    """A JSON file of a run without what differs between processes (timings, command line)."""
    doc = json.loads(path.read_text())
    doc.get("metrics", {}).pop("search_seconds", None)
    doc.pop("train_seconds", None)
    doc.get("provenance", {}).pop("run", None)
    return doc


@pytest.mark.slow
def test_a_point_run_after_others_in_one_worker_equals_it_in_a_fresh_process(cache_dir, tmp_path):
    config = {"C": 16, "L": 2, "cells": 1, "steps": 1, "ops": ("sum", "linear-glu", "concat-fc")}

    def spec(sweep: str, temperature: float, seed: int, threads: int) -> PointSpec:
        values = {"temperature": temperature, "seed": seed}
        return PointSpec(point_key(values), values, str(tmp_path / sweep), str(cache_dir), "stgs",
                         "bimodal-deepfake", {"temperature": temperature, "samples": 5}, config,
                         {"epochs": 2, "seed": seed}, {"epochs": 2, "seed": seed}, threads=threads)

    later = spec("shared", 10.0, 0, 1)
    found: list[dict[str, Any]] = []
    run_local([spec("shared", 5.0, 3, 2), later], found.append, workers=1)  # one worker runs both
    run_local([spec("fresh", 10.0, 0, 1)], found.append, workers=1)
    assert [r["status"] for r in found] == ["ok"] * 3, found
    shared, fresh = later.run_dir, tmp_path / "fresh" / "points" / later.key
    for name in ("arch.json", "eval/metrics.json"):
        assert stable(shared / name) == stable(fresh / name), name
    assert (shared / "eval/predictions.csv").read_bytes() == (fresh / "eval/predictions.csv").read_bytes()
    weights = [load_file(run / "eval/model.safetensors") for run in (shared, fresh)]
    assert weights[0].keys() == weights[1].keys()
    assert all(torch.equal(weights[0][k], weights[1][k]) for k in weights[0])  # bit for bit


@pytest.mark.slow
def wait_for_lock_holders_to_exit(points: Path, seconds: float = 30.0) -> None:
    """The sweep's workers die with it (parent-death signal), a moment after it: wait for that,
    as a user re-running the command after a crash does."""
    deadline = time.monotonic() + seconds
    for lock in points.glob(".*.lock"):
        try:
            pid = json.loads(lock.read_text())["pid"]
        except (OSError, ValueError, KeyError):
            continue
        while time.monotonic() < deadline and _alive(pid):
            time.sleep(0.05)


def test_a_sweep_killed_midway_resumes_to_the_same_rows(local_sweep, cache_dir, tiny_args, tmp_path):
    out = tmp_path / "killed"
    command = [sys.executable, "-m", "automm", *sweep_args(cache_dir, out, tiny_args, "--workers", "1")]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline and process.poll() is None:
            started = [p for p in (out / "points").glob("*") if (p / "checkpoint.pt").is_file()
                       and not (p / "eval" / "metrics.json").is_file()]
            if (out / "results.jsonl").is_file() and rows(out) and started:
                break
            time.sleep(0.02)
    finally:
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
    wait_for_lock_holders_to_exit(out / "points")
    before = rows(out)
    assert 1 <= len(before) < 4, "the sweep was not killed mid-way"
    result = CliRunner().invoke(cli, sweep_args(cache_dir, out, tiny_args, "--workers", "1", "--resume"))
    assert result.exit_code == 0, result.output
    assert "deprecated" not in result.stderr
    assert f"4 points finished ({len(before)} before this run), 0 failed" in result.output
    assert rows(out) == rows(local_sweep)


def test_a_failing_point_is_recorded_and_the_others_finish(cache_dir, tiny_args, tmp_path):
    out = tmp_path / "failing"
    args = ["sweep", "--data", str(cache_dir), "--out", str(out), "--grid", "temperature=-1,5",
            "--epochs", "1", "--evaluate-epochs", "1", "--no-progress", "--workers", "1", *tiny_args]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 1, result.output
    failed, finished = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert failed["status"] == "failed" and failed["error"] == "stgs: temperature must be > 0 (got -1.0)"
    assert finished["status"] == "ok" and finished["test_auc"] is not None
    assert "temperature=-1_seed=0: failed: stgs: temperature must be > 0" in result.output
    assert "1 points finished (0 before this run), 1 failed" in result.output
    assert "temperature=-1_seed=0: stgs: temperature must be &gt; 0" in (out / "table.md").read_text()


@pytest.mark.slow
def test_the_ray_executor_gives_the_same_rows(local_sweep, cache_dir, tiny_args, tmp_path):
    pytest.importorskip("ray.tune", reason="Ray is the optional extra automm[ray] (CI installs it)")
    out = tmp_path / "ray"
    result = CliRunner().invoke(cli, sweep_args(cache_dir, out, tiny_args, "--executor", "ray",
                                                "--cpus-per-trial", "1"))
    assert result.exit_code == 0, result.output
    assert rows(out) == rows(local_sweep)
    assert (out / "ray" / "tune").is_dir()


def test_without_ray_the_ray_executor_is_one_line_naming_the_extra(monkeypatch, cache_dir, tmp_path):
    monkeypatch.setitem(sys.modules, "ray", None)
    monkeypatch.setitem(sys.modules, "ray.tune", None)
    result = CliRunner().invoke(cli, ["sweep", "--data", str(cache_dir), "--out", str(tmp_path / "s"),
                                      "--executor", "ray"])
    assert result.exit_code == 2
    assert result.output.count("\n") == 1 and "pip install 'automm[ray]'" in result.output
    assert not (tmp_path / "s").exists()


def test_grid_axes_convert_values_and_name_the_points():
    options, fields = {"temperature": float, "samples": int}, {"ops": tuple[str, ...], "cells": int}
    axes = [parse_axis("temperature=5,10,5", options, fields),
            parse_axis("--ops=sum+concat-fc,sum", options, fields), seed_axis("0,1")]
    assert axes[0].values == (5.0, 10.0) and axes[1].values == (("sum", "concat-fc"), ("sum",))
    grid = points(axes)
    assert len(grid) == 8 and point_key(grid[0]) == "temperature=5_ops=sum+concat-fc_seed=0"
    for bad, message in (("lr=1", "neither an option"), ("samples=x", "not a valid int"),
                         ("temperature=nan", "not a finite"), ("samples", "NAME=V1,V2"),
                         ("seed=1,2", "--seeds")):
        with pytest.raises(AutommError, match=message):
            parse_axis(bad, options, fields)


def test_rerunning_with_other_settings_is_refused(local_sweep, cache_dir, tiny_args):
    args = sweep_args(cache_dir, local_sweep, tiny_args)
    result = CliRunner().invoke(cli, [*args[:-len(tiny_args)], "--C", "8", *tiny_args[2:]])
    assert result.exit_code == 2
    assert "holds a sweep: continuing it; without --resume this is deprecated" in result.stderr
    assert "holds a sweep with other settings (config differ)" in result.output


def test_report_of_a_sweep_writes_its_page(local_sweep):
    result = CliRunner().invoke(cli, ["report", str(local_sweep)])
    assert result.exit_code == 0, result.output
    html = (local_sweep / "report.html").read_text()
    for figure in ("fig-heatmap-test_auc", "fig-heatmap-params", "fig-entropy-overlay"):
        assert f'<figure class="plot" id="{figure}"><svg' in html
    points = html.split('<table class="sortable" id="points">')[1].split("</table>")[0]
    assert points.count("<tr>") == 5  # header + the 2x2 grid
    assert '<a href="points/temperature=5_samples=10_seed=0">temperature=5_samples=10_seed=0</a>' in points
    test_aucs = [r["test_auc"] for r in rows(local_sweep)]
    assert all(f'data-sort="{auc!r}"' in points for auc in test_aucs)


def test_local_workers_spread_over_the_gpus_as_ray_trials_would():
    assert [worker_devices(2, 0.5, w) for w in range(4)] == [(0,), (1,), (0,), (1,)]
    assert [worker_devices(4, 2, w) for w in range(2)] == [(0, 1), (2, 3)]
    assert worker_devices(1, 0.1, 9) == (0,) and worker_devices(3, 0, 0) == ()
    assert (workers_fitting(2, 0.25), workers_fitting(3, 1), workers_fitting(5, 2)) == (8, 3, 2)
    assert visible_devices((1, 2), "4,GPU-x, 6") == "GPU-x,6" and visible_devices((1,), None) == "1"
    with pytest.raises(AutommError, match="does not fit"):
        worker_devices(2, 0.5, 4)
    with pytest.raises(AutommError, match="a fraction up to 1 or a whole number"):
        workers_fitting(2, 1.5)


def test_gpus_per_trial_on_a_machine_without_gpus_is_one_line(monkeypatch, cache_dir, tiny_args, tmp_path):
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 0)
    args = sweep_args(cache_dir, tmp_path / "s", tiny_args, "--gpus-per-trial", "1")
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2
    assert result.output.count("\n") == 1 and "--gpus-per-trial 1: no CUDA GPU is visible" in result.output


def test_precision_is_a_setting_of_the_sweep_and_of_each_point(cache_dir, tiny_args, tmp_path):
    out = tmp_path / "bf16"
    args = ["sweep", "--data", str(cache_dir), "--out", str(out), "--grid", "temperature=5", "--epochs", "1",
            "--evaluate-epochs", "1", "--no-progress", "--workers", "1", "--precision", "bf16", *tiny_args]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    record = json.loads((out / "sweep.json").read_text())
    assert record["search"]["precision"] == record["evaluate"]["precision"] == "bf16"
    assert "compile" not in record["search"]  # the default is not recorded: older sweeps resume
    point = out / "points" / "temperature=5_seed=0"
    assert json.loads((point / "arch.json").read_text())["provenance"]["settings"]["precision"] == "bf16"
    assert json.loads((point / "eval" / "metrics.json").read_text())["provenance"]["precision"] == "bf16"
