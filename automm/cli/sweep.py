"""``automm sweep``: a grid of searches, each followed by an evaluation (the paper's Table 3:
``--grid temperature=5,10,15,20 --grid samples=5,10,15,20 --seeds 0,1,2``), on local worker
processes or Ray Tune, resumable; writes SWEEP_DIR/results.csv, table.md and heatmaps.

Takes the search options of ``automm search`` (shared parameter objects, and the strategy and
space options generated from the registries) as the settings every point shares.
"""

from __future__ import annotations

import shlex
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from automm import plugins
from automm.cli import search as search_cli
from automm.cli._run_output import echo_json, echo_line, echo_next, same_command, stdout_to_stderr
from automm.cli._space_options import space_options
from automm.cli._types import (
    NON_NEGATIVE,
    json_option,
    out_option,
    progress_flag,
    resume_option,
    show_progress,
)
from automm.errors import AutommError
from automm.extras import require_ray
from automm.interrupts import handled, resumable
from automm.sweep.devices import check_gpus_per_trial
from automm.train.settings import RetrainSettings, SearchSettings

if TYPE_CHECKING:
    from automm.sweep.runner import Sweep

SHARED = ("strategy", "space_name", "data", "epochs", "batch_size", "device", "entropy_tol", "patience",
          "balance", "select", "no_verify", "loggers", "precision", "compile")
"""Parameters of ``automm search`` that a sweep takes as they are."""


@click.command("sweep", cls=search_cli.SearchCommand)
@click.option("--grid", "grids", multiple=True, metavar="NAME=V1,V2,...",
              help="An axis: a strategy option or space config field and its values (repeatable; "
                   "rows of table.md: the first axis, columns: the second). A tuple field takes "
                   "+-joined names: ops=sum+concat-fc,sum.")
@click.option("--seeds", default="0", show_default=True, metavar="S1,S2,...",
              help="Seeds of every grid point (search and evaluation); one more axis.")
@out_option("Sweep directory (default: sweeps/STRATEGY-AXES).")
@resume_option("sweep")
@click.option("--evaluate-epochs", type=click.IntRange(1), default=RetrainSettings.epochs, show_default=True,
              help="Epochs of each point's evaluation (retraining).")
@click.option("--evaluate-batch-size", type=click.IntRange(1), default=RetrainSettings.batch_size,
              show_default=True)
@click.option("--executor", type=click.Choice(("local", "ray")), default="local", show_default=True,
              help="local: worker processes on this machine; ray: Ray Tune trials (extra automm[ray]).")
@click.option("--workers", type=click.IntRange(1),
              help="Points run at once (local default: the cores / --cpus-per-trial; ray default: "
                   "what the cluster's resources allow).")
@click.option("--cpus-per-trial", type=click.IntRange(1), default=1, show_default=True,
              help="CPU cores (torch threads) of each point.")
@click.option("--gpus-per-trial", type=NON_NEGATIVE, default=0.0, show_default=True,
              help="GPUs of each point (a Ray trial, or a local worker: the workers spread over the "
                   "visible GPUs); fractions pack several points onto one GPU; 0: local workers see "
                   "every GPU and use --device.")
@click.option("--ray-address", metavar="auto|HOST:PORT",
              help="Join this Ray cluster (default: start a local Ray instance); --data and --out must "
                   "then be on a filesystem every node sees.")
@progress_flag("Progress bar over the points (default: when stderr is a terminal); one line per "
               "finished point is printed either way.")
@json_option
@handled
def command(grids: tuple[str, ...], seeds: str, out: Path | None, resume: bool, evaluate_epochs: int,
            evaluate_batch_size: int, executor: str, workers: int | None, cpus_per_trial: int,
            gpus_per_trial: float, ray_address: str | None, progress: bool | None, as_json: bool,
            **extra: Any) -> None:
    """Search and evaluate every point of a grid, each in SWEEP_DIR/points/KEY (a run directory),
    and write results.csv, results.jsonl, table.md and heatmaps into SWEEP_DIR.

    A point that fails is recorded with its error and the others go on; the exit status is 1
    when any failed. The same command with --resume skips the finished points, continues the
    interrupted ones and runs those of values added to an axis."""
    settings = {k: extra.pop(k) for k in SHARED}
    check_gpus_per_trial(gpus_per_trial)
    if ray_address and executor != "ray":
        raise AutommError("--ray-address applies to --executor ray")
    if executor == "ray":
        require_ray()
    with stdout_to_stderr(as_json):
        sweep = _plan(settings, grids, seeds, out, evaluate_epochs, evaluate_batch_size, extra)
        _check_resume(sweep.out, resume)
        rows, skipped, written = _run(sweep, executor, workers, cpus_per_trial, gpus_per_trial, ray_address,
                                      progress)
    failed = sum(r["status"] == "failed" for r in rows)
    if as_json:
        from automm.report.sweep import best_row
        from automm.sweep.results import RESULTS_CSV, RESULTS_JSONL

        echo_json("sweep", [sweep.out / RESULTS_CSV, sweep.out / RESULTS_JSONL, *written],
                  status="failed" if failed else "finished", out=str(sweep.out), points=len(rows),
                  finished=len(rows) - failed, failed=failed, skipped=skipped, best=best_row(rows))
    if failed:
        raise SystemExit(1)


command.params[0:0] = [p for p in search_cli.command.params if p.name in SHARED]


def _check_resume(out: Path, resume: bool) -> None:
    """``--resume`` needs a sweep in ``out``; continuing one without it is deprecated (a warning)."""
    from automm.sweep.results import is_sweep_dir

    if resume and not is_sweep_dir(out):
        raise AutommError(f"{out}: holds no sweep to resume; drop --resume to start one")
    if not resume and is_sweep_dir(out):
        click.echo(f"automm: warning: {out} holds a sweep: continuing it; without --resume this is "
                   "deprecated (add --resume)", err=True)


def _run(sweep: Sweep, executor: str, workers: int | None, cpus_per_trial: int, gpus_per_trial: float,
         ray_address: str | None, progress: bool | None) -> tuple[list[dict[str, Any]], int, list[Path]]:
    """Run the sweep's points on the executor and write its report: every point's row, how many
    were finished before, the report files written."""
    from automm.sweep import executors
    from automm.sweep.runner import run_sweep
    from automm.train.device import available_cores

    out = sweep.out
    total = len(sweep.specs())
    if executor == "ray":
        where = ray_address or "a local Ray instance"
        click.echo(f"sweep of {total} points -> {out} (Ray Tune on {where}, {cpus_per_trial} CPU "
                   f"and {gpus_per_trial:g} GPU per trial)")
        run = partial(executors.run_ray, storage=out / "ray", address=ray_address, cpus=cpus_per_trial,
                      gpus=gpus_per_trial, workers=workers)
    else:
        count = workers or max(1, available_cores() // cpus_per_trial)
        devices = _local_devices(gpus_per_trial, count)
        count = len(devices) or count
        gpus = f", {gpus_per_trial:g} GPU(s) each" if devices else ""
        click.echo(f"sweep of {total} points -> {out} ({count} worker process(es), {cpus_per_trial} "
                   f"torch thread(s){gpus} each)")
        run = partial(executors.run_local, workers=count, devices=devices)
    with resumable(_stop_hint):
        rows, skipped = run_sweep(sweep, run, threads=cpus_per_trial, progress=show_progress(progress),
                                  echo=echo_line)
    return rows, skipped, _finish(out, rows, skipped)


def _local_devices(per_trial: float, workers: int) -> list[str]:
    """The CUDA_VISIBLE_DEVICES of each local worker (at most ``workers``, as many as the visible
    GPUs hold at ``per_trial`` each); none when ``per_trial`` is 0."""
    if not per_trial:
        return []
    import os

    import torch

    from automm.sweep.devices import visible_devices, worker_devices, workers_fitting

    visible = torch.cuda.device_count()
    if not visible:
        raise AutommError(f"--gpus-per-trial {per_trial:g}: no CUDA GPU is visible on this machine "
                          "(use 0, or --executor ray on a cluster with GPUs)")
    parent = os.environ.get("CUDA_VISIBLE_DEVICES")
    return [visible_devices(worker_devices(visible, per_trial, w), parent)
            for w in range(min(workers, workers_fitting(visible, per_trial)))]


def _stop_hint() -> str:
    """How to continue a sweep stopped by a signal: the same command with --resume."""
    command = same_command()
    if "--resume" not in shlex.split(command):
        command += " --resume"
    return f"finished points are kept and the others resume from their checkpoints; continue with: {command}"


def _plan(settings: dict[str, Any], grids: tuple[str, ...], seeds: str, out: Path | None,
          evaluate_epochs: int, evaluate_batch_size: int, extra: dict[str, Any]) -> Sweep:
    """The sweep the options describe: its axes (checked against the strategy and space), the
    shared strategy options and space config, the settings, and the data (prepared once here)."""
    from automm.data.prepare import resolve_data
    from automm.sweep.grid import check_axes, parse_axis, seed_axis
    from automm.sweep.runner import Sweep

    strategy, space = settings["strategy"], settings["space_name"]
    definition = plugins.spaces.get(space)
    factory, options = search_cli._strategy_params(strategy, extra)
    config = search_cli._space_values(definition, space, extra)
    fields = {name: hint for name, hint in space_options(definition.config_type).values()
              if name not in search_cli.FITTED}
    kinds = {o.name: o.type for o in getattr(factory, "options", ())}
    axes = [*(parse_axis(g, kinds, fields) for g in grids), seed_axis(seeds)]
    check_axes(axes)
    for axis in axes:
        if axis.name in options or axis.name in config:
            raise AutommError(f"--{axis.name.replace('_', '-')} and --grid {axis.name}=...: give one")
    out = out if out is not None else Path("sweeps") / "-".join((strategy, *(a.name for a in axes[:-1])))
    data = str(resolve_data(settings["data"]).absolute())
    search = {k: settings[k] for k in ("epochs", "batch_size", "entropy_tol", "patience", "device",
                                       "balance", "select") if settings[k] is not None}
    arithmetic = {k: settings[k] for k in ("precision", "compile")  # only when not the default:
                  if settings[k] != getattr(SearchSettings, k)}  # sweeps from before still resume
    search.update(arithmetic)
    evaluate = {"epochs": evaluate_epochs, "batch_size": evaluate_batch_size, "device": settings["device"],
                "balance": settings["balance"], **arithmetic}
    return Sweep(out, data, strategy, space, tuple(axes), options, config, search, evaluate,
                 not settings["no_verify"], tuple(settings["loggers"]))


def _finish(out: Path, rows: list[dict[str, Any]], skipped: int) -> list[Path]:
    """Print the outcome and the next commands; write the sweep's report (its files returned)."""
    from automm.report.sweep import best_row, write_sweep_report

    failed = [r for r in rows if r["status"] == "failed"]
    click.echo(f"{len(rows) - len(failed)} points finished ({skipped} before this run), {len(failed)} failed")
    written = write_sweep_report(out)
    for path in written:
        click.echo(f"wrote {path}")
    best = best_row(rows)
    commands = [f"automm report {out}"]
    if best is not None:
        arch = out / best["run_dir"] / "arch.json"
        commands += [f"automm show {arch}   # best test AUC", f"automm report {out / best['run_dir']}"]
    echo_next(commands)
    return written
