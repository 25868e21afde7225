"""``automm nni export`` and ``automm nni search`` (torch and NNI load inside the commands)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import click

from automm.cli._run_output import echo_line, metric
from automm.cli._space_options import parse_space_options
from automm.cli._types import (
    NON_NEGATIVE,
    POSITIVE,
    SEED,
    RegistryChoice,
    no_verify_option,
    out_option,
    progress_option,
)
from automm_nni import STRATEGIES


@click.group("nni")
def nni() -> None:
    """NNI interop: automm spaces as NNI model spaces, NNI's one-shot strategies on automm data."""


def _emit(doc: Any, out: Path | None) -> None:
    from automm.fileio import write_json

    if out is None:
        click.echo(json.dumps(doc, indent=2))
    else:
        write_json(out, doc)
        click.echo(f"wrote {out}")


@nni.command("export", context_settings={"ignore_unknown_options": True})
@click.argument("target", metavar="ARCH_OR_SPACE")
@click.argument("args", nargs=-1, type=click.UNPROCESSED, metavar="[SPACE OPTIONS]")
@click.option("-o", "--out", type=click.Path(dir_okay=False, path_type=Path), help="Write the JSON here.")
def export(target: str, args: tuple[str, ...], out: Path | None) -> None:
    """Print (or write) the NNI sample of an arch.json, or, for a space NAME (its config fields are
    options, e.g. --cells 2), the labels and values of its NNI model space's mutables."""
    from automm import plugins
    from automm.ir import load_architecture
    from automm.ir.architecture import build_space_for
    from automm_nni.space import describe, to_model_space, to_sample

    if Path(target).is_file():
        if args:
            raise click.UsageError(f"space options go with a space name, not an arch.json "
                                   f"(got {' '.join(args)})")
        arch = load_architecture(target)
        _emit(to_sample(arch, build_space_for(arch)), out)
        return
    definition = plugins.spaces.get(target)
    space = definition.build(parse_space_options(definition.config_type, args))
    _emit({"space": {"name": space.name, "config": space.config.to_dict()},
           "mutables": describe(to_model_space(space))}, out)


@nni.command("search", context_settings={"ignore_unknown_options": True})
@click.argument("args", nargs=-1, type=click.UNPROCESSED, metavar="[SPACE OPTIONS]")
@click.option("--strategy", type=click.Choice(STRATEGIES), default="darts", show_default=True,
              help="NNI's one-shot strategy: DARTS (first order), GumbelDARTS, RandomOneShot or ENAS.")
@click.option("--space", "space_name", type=RegistryChoice("spaces"), default="bimodal-deepfake",
              show_default=True,
              help="Search space; its config fields are options (--cells 2 --ops sum,attention).")
@click.option("--data", help="Feature cache directory, or what the space accepts (as automm search).")
@out_option("Run directory.", required=True)
@click.option("--epochs", type=click.IntRange(1), default=30, show_default=True)
@click.option("--batch-size", type=click.IntRange(2), default=64, show_default=True)
@click.option("--seed", type=SEED, default=0, show_default=True)
@click.option("--device", default="auto", show_default=True, help="auto, cpu or cuda[:k].")
@click.option("--learning-rate", type=POSITIVE, default=3e-3, show_default=True,
              help="Adam learning rate of the network weights (NNI's Classification evaluator).")
@click.option("--weight-decay", type=NON_NEGATIVE, default=3e-3, show_default=True)
@click.option("--arc-learning-rate", type=POSITIVE, default=3e-4, show_default=True,
              help="Adam learning rate of the architecture logits (darts, gumbel; NNI's default).")
@progress_option
@no_verify_option
def search(args: tuple[str, ...], strategy: str, space_name: str, data: str | None, out: Path,
           epochs: int, batch_size: int, seed: int, device: str, learning_rate: float, weight_decay: float,
           arc_learning_rate: float, progress: bool | None, no_verify: bool) -> None:
    """Run NNI's one-shot STRATEGY on a feature cache and write OUT/arch.json (strategy
    nni-STRATEGY) and OUT/metrics.jsonl, for automm show/render/evaluate/report."""
    from automm import plugins
    from automm.cli.search import _print_result
    from automm.locking import owned
    from automm.run.search import cannot_learn, open_run
    from automm_nni.search import NniSettings, nni_search

    definition = plugins.spaces.get(space_name)
    config = parse_space_options(definition.config_type, args).to_dict()
    defaults = definition.default_config().to_dict()
    values = {k: v for k, v in config.items() if v != defaults[k]}
    settings = NniSettings(epochs=epochs, batch_size=batch_size, seed=seed, device=device,
                           learning_rate=learning_rate, weight_decay=weight_decay,
                           arc_learning_rate=arc_learning_rate)
    with owned(out):
        space, cache = open_run(out, space=space_name, config=values, device=device, data=data,
                                verify=not no_verify, resumable=False)
        for line in cannot_learn(space):
            click.echo(f"automm: warning: {line}", err=True)
        click.echo(f"searching {space_name} with NNI {strategy} on {cache.path} -> {out}")
        click.echo(f"settings: {json.dumps(dataclasses.asdict(settings))}")
        result = nni_search(space, strategy, cache, settings, out, progress=progress,
                            on_epoch=lambda r: _print_epoch(r, epochs))
    _print_result(result)


def _print_epoch(record: dict[str, Any], epochs: int) -> None:
    entropy = " ".join(f"{k} {metric(v)}" for k, v in record["entropy"].items())
    echo_line(f"epoch {record['epoch']}/{epochs}  train loss {metric(record['train_loss'])} "
              f"| derived acc {metric(record['derived_val_acc'])} auc {metric(record['derived_val_auc'])} "
              f"| entropy {entropy} | {record['seconds']:.1f}s")
