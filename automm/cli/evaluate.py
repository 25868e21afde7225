"""``automm evaluate ARCH_JSON``: retrain the derived network from scratch and report test metrics."""

from __future__ import annotations

import dataclasses
import shlex
from collections.abc import Mapping
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from automm.cli._run_output import (
    Eta,
    echo_json,
    echo_line,
    echo_next,
    fresh_dir,
    given,
    metric,
    same_command,
    stdout_to_stderr,
    warn_ignored,
)
from automm.cli._types import (
    SEED,
    FiniteFloat,
    compile_option,
    json_option,
    logger_option,
    no_verify_option,
    out_option,
    precision_option,
    progress_option,
    resume_option,
    threads_option,
)
from automm.interrupts import handled, resumable
from automm.ir import Architecture, load_architecture
from automm.train.bootstrap import chance_sentence, with_interval
from automm.train.breakdown import GROUP_KEYS
from automm.train.settings import (
    BALANCE_HELP,
    BALANCES,
    DEVICES,
    RetrainSettings,
)

if TYPE_CHECKING:
    from automm.data.cache import FeatureCache

JSON_METRICS = ("test_auc", "test_acc", "test_eer", "test_auc_ci", "test_acc_ci", "test_eer_ci",
                "distinguishable_from_chance", "val_auc", "val_acc", "best_epoch", "epochs", "params",
                "params_with_backbones")
"""The metrics.json keys that ``automm evaluate --json`` prints (``metrics``)."""


def _cache_for(arch: Architecture, arch_json: Path, data: str | None, verify: bool = True) -> FeatureCache:
    """:func:`automm.data.prepare.evaluation_cache`, warning on stderr."""
    from automm.data.prepare import evaluation_cache

    return evaluation_cache(arch, arch_json, data, verify=verify,
                            warn=lambda line: click.echo(f"automm: warning: {line}", err=True))


def _table(metrics: Mapping[str, Any]) -> str:
    def f(v: Any) -> str:
        return "n/a" if v is None else f"{v:.4f}" if isinstance(v, float) else str(v)

    def ci(key: str) -> str:
        return with_interval(metrics[key], metrics.get(f"{key}_ci"), 4)

    rows = [("test AUC", ci("test_auc")), ("test accuracy", ci("test_acc")),
            ("test EER", ci("test_eer")), ("val AUC", metrics["val_auc"]),
            ("val accuracy", metrics["val_acc"]),
            ("best epoch", f"{metrics['best_epoch']}/{metrics['epochs']}"),
            ("params (fusion)", metrics["params"]),
            ("params (with backbones)", metrics["params_with_backbones"]),
            ("backbone weights", metrics["weights"]), ("class balance", metrics.get("balance")),
            *((f"{split} real/fake", "/".join(map(str, n.values())))
              for split, n in metrics.get("class_counts", {}).items()),
            *_threshold_rows(metrics.get("thresholds"))]
    width = max(len(k) for k, _ in rows)
    lines = [f"{k:<{width}}  {f(v)}" for k, v in rows]
    boot = metrics.get("bootstrap") or {}
    if boot:
        lines.append(f"[low, high]: {boot['level']:.0%} bootstrap interval over the test videos "
                     f"({boot['resamples']} resamples, seed {boot['seed']})")
    lines.append(chance_sentence(metrics.get("distinguishable_from_chance")))
    for key in GROUP_KEYS:
        lines += ["", *_groups(key, metrics.get(f"by_{key}"))]
    return "\n".join(lines)


def _groups(key: str, record: Mapping[str, Any] | None) -> list[str]:
    """Console lines of a ``by_category`` / ``by_method`` record."""
    if not record:
        return []
    if not record["groups"]:
        return [f"per {key}: {record['note']}"]
    lines = [f"test AUC per fake {key} against the {record['reals']} real test videos:"]
    width = max(len(name) for name in record["groups"])
    lines += [f"  {name:<{width}}  {g['fakes']:>4} fakes  AUC {with_interval(g['auc'], g['auc_ci'])}"
              for name, g in record["groups"].items()]
    if record.get("unknown_fakes"):
        lines.append(f"  ({record['unknown_fakes']} fakes without a {key} left out)")
    return lines


def _robustness(record: Mapping[str, Any]) -> str:
    """The console table of robustness.json."""
    rows = record["conditions"]
    width = max(len(r["condition"]) for r in rows)
    lines = [f"robustness on the {record['samples']} test videos (noise: {record['noise']}):",
             f"  {'condition':<{width}}  test AUC [95% interval]   accuracy  EER"]
    lines += [f"  {r['condition']:<{width}}  {with_interval(r['auc'], r['auc_ci']):<24}  "
              f"{metric(r['acc'])}    {metric(r['eer'])}" for r in rows]
    return "\n".join([*lines, record["verdict"]])


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
@click.argument("arch_json", type=click.Path(dir_okay=False, path_type=Path), required=False)
@click.option("--data", help="Feature cache (or what the space accepts, e.g. a video dataset directory); "
                             "default: the cache the architecture was searched on.")
@out_option("Output directory (default: eval/ beside ARCH_JSON).")
@click.option("--epochs", type=click.IntRange(1), default=RetrainSettings.epochs, show_default=True)
@click.option("--batch-size", type=click.IntRange(1), default=RetrainSettings.batch_size, show_default=True)
@click.option("--seed", type=SEED, default=0, show_default=True)
@click.option("--device", default=RetrainSettings.device, show_default=True, help=DEVICES + ".")
@threads_option
@click.option("--balance", type=click.Choice(BALANCES), default=RetrainSettings.balance, show_default=True,
              help=BALANCE_HELP)
@precision_option
@compile_option
@click.option("--target-fpr", type=FiniteFloat(0, 1), default=RetrainSettings.target_fpr,
              show_default=True, help="False-positive rate of the target-fpr decision threshold (chosen on "
                                      "validation beside the EER threshold; automm predict --threshold).")
@click.option("--bootstrap", type=click.IntRange(1), default=RetrainSettings.bootstrap, show_default=True,
              help="Resamples of the test videos for the 95% intervals of AUC, accuracy and EER.")
@click.option("--robustness", is_flag=True,
              help="Also score the test split with each modality removed (zeroed; training mean) and "
                   "with Gaussian noise of 0.5, 1 and 2 training standard deviations: robustness.json "
                   "and robustness.png.")
@resume_option("evaluation")
@click.option("--force", is_flag=True, help="Replace the evaluation --out already holds (without it, "
                                            "such an --out is refused).")
@click.option("--rerun", type=click.Path(file_okay=False, exists=True, path_type=Path), metavar="EVAL_DIR",
              help="Repeat the evaluation in EVAL_DIR from the architecture, feature cache and settings "
                   "it records, into --out (default: EVAL_DIR-rerun); only --device may differ.")
@logger_option
@progress_option
@no_verify_option
@json_option
@click.pass_context
@handled
def command(ctx: click.Context, arch_json: Path | None, data: str | None, out: Path | None, epochs: int,
            batch_size: int, seed: int, device: str, threads: int | None, balance: str, precision: str,
            compile: bool, target_fpr: float, bootstrap: int, robustness: bool, resume: bool, force: bool,
            rerun: Path | None, loggers: tuple[str, ...], progress: bool | None, no_verify: bool,
            as_json: bool) -> None:
    """Train the architecture in ARCH_JSON from scratch (dropout 0.2), select the epoch on validation,
    report test AUC, accuracy and EER with 95% intervals (and per fake category and method when
    the cache records them), choose decision thresholds on validation (EER and --target-fpr), and
    write metrics.json, model.safetensors, arch.json,
    history.jsonl and predictions.csv into --out (committed together: a reader never sees two
    runs' files mixed; --out is owned by one process at a time)."""
    from automm.loggers import LoggerContext, open_loggers
    from automm.run.layout import check_new_evaluation
    from automm.train.device import resolve_device
    from automm.train.retraining import retrain

    if resume and force:
        raise click.UsageError("--resume and --force: give one")
    if rerun is not None:
        if arch_json is not None or resume:
            raise click.UsageError("--rerun takes no ARCH_JSON and no --resume")
        warn_ignored(ctx, ("rerun", "out", "force", "device", "threads", "progress", "loggers", "as_json"),
                     "--rerun")
        arch_json, settings, cache = _recorded(rerun, device if given(ctx, "device") else None)
        out = out if out is not None else fresh_dir(rerun.with_name(f"{rerun.name}-rerun"))
    elif arch_json is None:
        raise click.UsageError("missing ARCH_JSON (or --rerun EVAL_DIR)")
    else:
        settings = RetrainSettings(epochs=epochs, batch_size=batch_size, seed=seed, device=device,
                                   balance=balance, precision=precision, compile=compile,
                                   target_fpr=target_fpr, bootstrap=bootstrap, robustness=robustness)
        cache = _cache_for(load_architecture(arch_json), arch_json, data, verify=not no_verify)
    with stdout_to_stderr(as_json):
        arch = load_architecture(arch_json)
        for line in cache.notes:
            click.echo(f"automm: note: {line}", err=True)
        click.echo(f"evaluating {arch_json} on {cache.path} (device {resolve_device(settings.device)})")
        out = out if out is not None else arch_json.parent / "eval"
        if not (resume or force):
            check_new_evaluation(out)
        context = LoggerContext("evaluate", out, arch_json.resolve().parent.name)
        with resumable(partial(_stop_hint, arch_json, cache.path, out, settings)):
            result = retrain(arch, cache, settings, out, resume=resume, progress=progress,
                             loggers=open_loggers(loggers, context),
                             on_epoch=partial(_print_epoch, eta=Eta(settings.epochs)))
        click.echo(_table(result.metrics))
        written = ["metrics.json", "model.safetensors", "arch.json", "history.jsonl", "predictions.csv"]
        if result.robustness is not None:
            click.echo(_robustness(result.robustness))
            written += ["robustness.json", "robustness.png"]
        click.echo(f"wrote {out / written[0]}, {', '.join(written[1:])}")
        default_eval = out == arch_json.parent / "eval"
        report = f"automm report {arch_json.parent}" + ("" if default_eval else f" --eval {out}")
        echo_next((report, f"automm predict {out} VIDEO...",
                   f"automm export {out} --format onnx -o detector.onnx"))
    if as_json:
        echo_json("evaluate", [out / name for name in written], out=str(out), arch=str(arch_json),
                  metrics={k: result.metrics.get(k) for k in JSON_METRICS},
                  robustness=None if result.robustness is None else
                  {k: result.robustness[k] for k in ("leans_on", "verdict")})


def _stop_hint(arch_json: Path, data: Path, out: Path, settings: RetrainSettings) -> str:
    """How to continue an evaluation stopped by a signal: ``--resume`` with the settings its
    checkpoint must match, or from the start when it has none yet."""
    from automm.run.layout import CHECKPOINT

    if not (out / CHECKPOINT).is_file():
        return f"nothing to resume (no checkpoint yet); start again with: {same_command()}"
    words = ["automm", "evaluate", str(arch_json), "--data", str(data), "--out", str(out), "--resume"]
    default = RetrainSettings()
    for field in dataclasses.fields(RetrainSettings):
        flag, value = "--" + field.name.replace("_", "-"), getattr(settings, field.name)
        if flag in _OPTIONS and value != getattr(default, field.name):
            words += [flag] if value is True else [flag, str(value)]
    return f"continue with: {shlex.join(words)}"


def _recorded(eval_dir: Path, device: str | None) -> tuple[Path, RetrainSettings, FeatureCache]:
    """The arch.json, settings (on ``device`` if given) and feature cache an evaluation directory
    records (its metrics.json's provenance); a cache that changed since is an error."""
    from automm.errors import AutommError, CacheError
    from automm.provenance import recorded_settings
    from automm.train.evaluation_metrics import read_evaluation_metrics

    arch_json, metrics_json = eval_dir / "arch.json", eval_dir / "metrics.json"
    record = read_evaluation_metrics(metrics_json).get("provenance")
    settings = recorded_settings(record, metrics_json, RetrainSettings)
    if device is not None:
        settings = dataclasses.replace(settings, device=device)
    data = record.get("data") if isinstance(record, dict) else None
    if not isinstance(data, dict) or not isinstance(data.get("path"), str):
        raise AutommError(f"{metrics_json}: records no feature cache; it cannot be rerun")
    cache = _cache_for(load_architecture(arch_json), arch_json, data["path"])
    if cache.fingerprint != data.get("fingerprint"):
        raise CacheError(f"{cache.path}: the feature cache changed since {metrics_json} was written "
                         "(fingerprint differs)")
    return arch_json, settings, cache


def _print_epoch(record: Mapping[str, Any], eta: Eta) -> None:
    f = metric
    echo_line(f"epoch {record['epoch']}/{eta.epochs}  train loss {f(record['train_loss'])} "
              f"acc {f(record['train_acc'])} | val loss {f(record['val_loss'])} acc {f(record['val_acc'])} "
              f"auc {f(record['val_auc'])} | {record['seconds']:.1f}s{eta(record)}")


_OPTIONS = {flag for param in command.params for flag in getattr(param, "opts", ())}
"""The option names of ``automm evaluate`` (the settings a resume command can repeat)."""
