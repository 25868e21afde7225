"""``automm evaluate ARCH_JSON``: retrain the derived network from scratch and report test metrics."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from automm.cli._run_output import echo_line, echo_next, metric, progress_option
from automm.cli._types import SEED, logger_option, no_verify_option
from automm.ir import Architecture, load_architecture
from automm.train.settings import (
    BALANCE_HELP,
    BALANCES,
    DEVICES,
    PRECISION_HELP,
    PRECISIONS,
    RetrainSettings,
)

if TYPE_CHECKING:
    from automm.data.cache import FeatureCache


def _cache_for(arch: Architecture, arch_json: Path, data: str | None, verify: bool = True) -> FeatureCache:
    """:func:`automm.data.prepare.evaluation_cache`, warning on stderr."""
    from automm.data.prepare import evaluation_cache

    return evaluation_cache(arch, arch_json, data, verify=verify,
                            warn=lambda line: click.echo(f"automm: warning: {line}", err=True))


def _table(metrics: Mapping[str, Any]) -> str:
    def f(v: Any) -> str:
        return "n/a" if v is None else f"{v:.4f}" if isinstance(v, float) else str(v)

    rows = [("test AUC", metrics["test_auc"]), ("test accuracy", metrics["test_acc"]),
            ("test EER", metrics["test_eer"]), ("val AUC", metrics["val_auc"]),
            ("val accuracy", metrics["val_acc"]),
            ("best epoch", f"{metrics['best_epoch']}/{metrics['epochs']}"),
            ("params (fusion)", metrics["params"]),
            ("params (with backbones)", metrics["params_with_backbones"]),
            ("backbone weights", metrics["weights"]), ("class balance", metrics.get("balance")),
            *((f"{split} real/fake", "/".join(map(str, n.values())))
              for split, n in metrics.get("class_counts", {}).items()),
            *_threshold_rows(metrics.get("thresholds"))]
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k:<{width}}  {f(v)}" for k, v in rows)


def _threshold_rows(thresholds: Mapping[str, Any] | None) -> list[tuple[str, Any]]:
    """The decision thresholds chosen on validation, each with its test rates."""
    if not thresholds:
        return [("thresholds", "none (the validation split lacks a class)")]
    names = {"eer": "EER", "target_fpr": f"FPR <= {thresholds['target_fpr']['target']:g}"}
    rows = []
    for key, name in names.items():
        point = thresholds[key]
        test = point.get("test", {})
        rates = ", ".join(f"{k} {v:.3f}" for k, v in test.items() if v is not None)
        rows.append((f"threshold ({name} on val)", f"{point['threshold']:.4f}"
                     + (f" (test {rates})" if rates else "")))
    return rows


@click.command("evaluate")
@click.argument("arch_json", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--data", help="Feature cache (or what the space accepts, e.g. a video dataset directory); "
                             "default: the cache the architecture was searched on.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path),
              help="Output directory (default: eval/ beside ARCH_JSON).")
@click.option("--epochs", type=click.IntRange(1), default=RetrainSettings.epochs, show_default=True)
@click.option("--batch-size", type=click.IntRange(1), default=RetrainSettings.batch_size, show_default=True)
@click.option("--seed", type=SEED, default=0, show_default=True)
@click.option("--device", default=RetrainSettings.device, show_default=True, help=DEVICES + ".")
@click.option("--balance", type=click.Choice(BALANCES), default=RetrainSettings.balance, show_default=True,
              help=BALANCE_HELP)
@click.option("--precision", type=click.Choice(PRECISIONS), default=RetrainSettings.precision,
              show_default=True, help=PRECISION_HELP)
@click.option("--target-fpr", type=click.FloatRange(0, 1), default=RetrainSettings.target_fpr,
              show_default=True, help="False-positive rate of the target-fpr decision threshold (chosen on "
                                      "validation beside the EER threshold; automm predict --threshold).")
@click.option("--resume", is_flag=True, help="Continue an interrupted evaluation in --out.")
@logger_option
@progress_option
@no_verify_option
def command(arch_json: Path, data: str | None, out: Path | None, epochs: int, batch_size: int, seed: int,
            device: str, balance: str, precision: str, target_fpr: float, resume: bool,
            loggers: tuple[str, ...], progress: bool | None, no_verify: bool) -> None:
    """Train the architecture in ARCH_JSON from scratch (dropout 0.2), select the epoch on validation,
    report test AUC, accuracy and EER, choose decision thresholds on validation (EER and
    --target-fpr), and write metrics.json, model.safetensors, arch.json,
    history.jsonl and predictions.csv into --out (committed together: a reader never sees two
    runs' files mixed; --out is owned by one process at a time)."""
    from automm.loggers import LoggerContext, open_loggers
    from automm.train.device import resolve_device
    from automm.train.retraining import retrain

    arch = load_architecture(arch_json)
    cache = _cache_for(arch, arch_json, data, verify=not no_verify)
    for line in cache.notes:
        click.echo(f"automm: note: {line}", err=True)
    click.echo(f"evaluating {arch_json} on {cache.path} (device {resolve_device(device)})")
    out = out if out is not None else arch_json.parent / "eval"
    settings = RetrainSettings(epochs=epochs, batch_size=batch_size, seed=seed, device=device,
                               balance=balance, precision=precision, target_fpr=target_fpr)
    context = LoggerContext("evaluate", out, arch_json.resolve().parent.name)
    result = retrain(arch, cache, settings, out, resume=resume, progress=progress,
                     on_epoch=lambda r: _print_epoch(r, epochs), loggers=open_loggers(loggers, context))
    click.echo(_table(result.metrics))
    click.echo(f"wrote {out / 'metrics.json'}, model.safetensors, arch.json, history.jsonl, predictions.csv")
    default_eval = out == arch_json.parent / "eval"
    report = f"automm report {arch_json.parent}" + ("" if default_eval else f" --eval {out}")
    echo_next((report, f"automm predict {out} VIDEO...",
               f"automm export {out} --format onnx -o detector.onnx"))


def _print_epoch(record: Mapping[str, Any], epochs: int) -> None:
    f = metric
    echo_line(f"epoch {record['epoch']}/{epochs}  train loss {f(record['train_loss'])} "
              f"acc {f(record['train_acc'])} | val loss {f(record['val_loss'])} acc {f(record['val_acc'])} "
              f"auc {f(record['val_auc'])} | {record['seconds']:.1f}s")
