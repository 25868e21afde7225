"""Retraining and evaluation of a derived architecture.

The derived network is trained from scratch on the train split (paper: 100 epochs, batch 16,
dropout 0.2; Adam lr 3e-3, weight decay 3e-3, cosine schedule), the epoch with the best
validation result is selected (accuracy, ties by the lower loss) and its weights are scored on the test
split, with bootstrap intervals, the AUC of each kind of fake (:mod:`automm.train.breakdown`)
and, when asked, the scores with a modality missing or degraded (:mod:`automm.train.robustness`).
The output directory gets ``metrics.json`` (with the run's provenance: :mod:`automm.provenance`),
``model.safetensors``, ``arch.json``, ``history.jsonl``, ``predictions.csv``, with robustness
``robustness.json`` and its figure, and a per-epoch ``checkpoint.pt`` (``resume=True`` continues
from it to the same result). Every training step is a safe point (:func:`automm.interrupts.check`):
a stop requested by a signal leaves the checkpoint of the last finished epoch, or, in the first
epoch, one of the start (epoch 0).
"""

from __future__ import annotations

import copy
import csv
import dataclasses
import io
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import save_file
from torch import Tensor

from automm import interrupts
from automm.data.cache import FeatureCache, data_record
from automm.errors import AutommError, CacheError
from automm.fileio import (
    atomic_path,
    carry_over,
    finite_or_none,
    finite_record,
    write_json,
    write_jsonl,
    write_text,
)
from automm.ir.architecture import Architecture, build_space_for, save_architecture
from automm.locking import owned
from automm.loggers import Loggers
from automm.nn.network import FusionNetwork, count_parameters
from automm.provenance import now, provenance
from automm.report.source import describe_source
from automm.run.layout import CHECKPOINT
from automm.schema import check, integer, nullable, number, obj, optional, string
from automm.strategy.base import adam
from automm.train.balance import class_counts
from automm.train.batches import load_splits, require_split_sizes
from automm.train.bootstrap import Bootstrap, distinguishable_from_chance
from automm.train.breakdown import GROUP_KEYS, breakdown, dataset_layouts
from automm.train.checkpoint import (
    check_progress,
    check_state,
    load_checkpoint,
    restoring,
    rng_state,
    save_checkpoint,
    seed_everything,
    set_rng_state,
)
from automm.train.device import autocast, resolve_device
from automm.train.metrics import equal_error_rate
from automm.train.prediction import Predictions, better, predict
from automm.train.progress import EpochCallback, RunProgress, Stopwatch
from automm.train.records import HISTORY, LOSS, RATE
from automm.train.settings import RETRAIN_SETTINGS, SCORING_SETTINGS, RetrainSettings
from automm.train.steps import weight_update
from automm.train.thresholds import choose_thresholds

CHECKPOINT_SCHEMA = obj({
    "setup": obj({"arch": obj({"choices": obj(), "space": obj()}), "data": obj({"fingerprint": string()}),
                  "settings": RETRAIN_SETTINGS}),
    "epoch": integer(0), "history": HISTORY, "seconds": number(0), "started": optional(string()),
    "best": nullable(obj({"epoch": integer(1), "acc": number(0, 1), "auc": RATE, "loss": LOSS})),
})
"""Schema of the plain values of an evaluation checkpoint (tensors: :func:`check_state`)."""
ROBUSTNESS = "robustness.json"
ROBUSTNESS_FIGURE = "robustness.png"


@dataclass
class RetrainResult:
    """Test metrics, the per-epoch history, the selected network and its test predictions."""

    metrics: dict[str, Any]
    history: list[dict[str, Any]]
    network: FusionNetwork
    predictions: Predictions
    ids: list[str]
    robustness: dict[str, Any] | None = None
    """What robustness.json holds (with ``settings.robustness``)."""


def check_compatible(arch: Architecture, cache: FeatureCache) -> None:
    """Raise :class:`CacheError` unless ``cache`` has every tap of ``arch``'s space with the
    channels it was searched with."""
    space = build_space_for(arch)
    cache.require_taps(space.taps)
    classes = getattr(space.config, "num_classes", len(cache.classes))
    if classes != len(cache.classes):
        raise CacheError(f"{cache.path}: incompatible cache: {len(cache.classes)} classes, the "
                         f"architecture has {classes}")
    for tap in space.taps:
        want, have = space.graph.nodes[tap]["channels"], cache.taps[tap][0]
        if want != have:
            raise CacheError(f"{cache.path}: incompatible cache: tap {tap!r} has {have} channels, "
                             f"the architecture expects {want}")


def retrain(arch: Architecture, cache: FeatureCache, settings: RetrainSettings,
            out_dir: str | os.PathLike[str], *, resume: bool = False, progress: bool | None = None,
            on_epoch: EpochCallback | None = None, loggers: Loggers | None = None) -> RetrainResult:
    """Train ``arch``'s derived network from scratch on ``cache`` and write ``out_dir``
    (owned by this process meanwhile: see :mod:`automm.locking`), followed live by ``loggers``."""
    out = Path(out_dir)
    loggers = loggers if loggers is not None else Loggers()
    setup = {"arch": arch.to_dict(), "data": data_record(cache), "settings": dataclasses.asdict(settings)}
    with owned(out), loggers.running(setup):
        result = _retrain(arch, cache, settings, out, resume, progress, on_epoch, setup, loggers)
        loggers.log_result(result.metrics, settings.epochs)
    return result


def _retrain(arch: Architecture, cache: FeatureCache, settings: RetrainSettings, out: Path,
             resume: bool, progress: bool | None, on_epoch: EpochCallback | None, setup: dict[str, Any],
             loggers: Loggers) -> RetrainResult:
    check_compatible(arch, cache)
    space = build_space_for(arch)
    device = resolve_device(settings.device)
    data = load_splits(cache, ("train", "val", "test"), space.taps, device, balance=settings.balance)
    require_split_sizes(cache, data, ("train", "val"))
    seed_everything(settings.seed)
    network = FusionNetwork(space, arch, dropout=settings.dropout).to(device)
    optimizer = adam(network.parameters(), lr=settings.lr, weight_decay=settings.weight_decay)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=settings.epochs,
                                                           eta_min=settings.min_lr)
    forward = torch.compile(network) if settings.compile else network
    generator = torch.Generator().manual_seed(settings.seed)
    epoch, history, best, best_state, clock, started = 0, [], None, None, Stopwatch(), now()
    if resume:
        path = out / CHECKPOINT
        state = load_checkpoint(path, "evaluation")
        check(state, CHECKPOINT_SCHEMA, path)
        check_state(path, state, {
            "network": network.state_dict(), "optimizer": optimizer.state_dict(),
            "scheduler": scheduler.state_dict(), "rng": rng_state(generator)})
        with restoring(path):
            differs = _difference(state["setup"], setup)
        if differs is not None:
            raise AutommError(f"{path}: {differs}; evaluate into a "
                              "new --out (or replace it with --force)")
        check_progress(path, state, settings.epochs)
        if state["epoch"] > 0:  # epoch 0: stopped in the first epoch, nothing selected yet
            if state["best"] is None:
                raise AutommError(f"{path}: inconsistent checkpoint: best is null after epoch "
                                  f"{state['epoch']}")
            check_state(path, state.get("best_network"), network.state_dict(), "best_network")
        with restoring(path):
            network.load_state_dict(state["network"])
            optimizer.load_state_dict(state["optimizer"])
            scheduler.load_state_dict(state["scheduler"])
            set_rng_state(state["rng"], generator)
        epoch, history, best = state["epoch"], list(state["history"]), state["best"]
        best_state, clock = state["best_network"], Stopwatch(state["seconds"])
        started = state.get("started", started)
        write_jsonl(out / "history.jsonl", history)  # a kill may have come between the two writes
    out.mkdir(parents=True, exist_ok=True)
    train, val = data["train"], data["val"]
    run_bar = RunProgress(settings.epochs, epoch, progress)

    def snapshot() -> dict[str, Any]:
        return {"setup": setup, "epoch": epoch, "network": network.state_dict(),
                "optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(),
                "rng": rng_state(generator), "best": best, "best_network": best_state,
                "history": history, "seconds": clock.seconds, "started": started}

    initial = copy.deepcopy(snapshot()) if epoch == 0 else None
    while epoch < settings.epochs:
        epoch += 1
        start = Stopwatch()
        network.train()
        loss_sum = torch.zeros((), device=device)
        correct = torch.zeros((), device=device, dtype=torch.long)
        batches = train.order(settings.batch_size, generator, train=True)
        with run_bar.epoch(epoch, len(batches)) as bar:
            for positions in batches:
                taps, labels = train.get(positions)
                loss, logits = weight_update(forward, optimizer, taps, labels, None, train.loss,
                                             precision=settings.precision)
                loss_sum += loss.detach() * len(positions)
                correct += (logits.detach().argmax(dim=1) == labels).sum()
                bar.update(1)
                try:
                    interrupts.check()
                except interrupts.Interrupted as exc:
                    if initial is not None and epoch == 1 and not exc.at_once:
                        save_checkpoint(out / CHECKPOINT, initial, "evaluation")  # stopped in the first epoch
                    raise
        scheduler.step()
        seen = sum(len(p) for p in batches)
        with autocast(device, settings.precision):
            m = predict(network, val).metrics()
        for which, loss in (("training", float(loss_sum)), ("validation", m["loss"])):
            if not math.isfinite(loss):
                run_bar.close()
                raise AutommError(f"{out}: epoch {epoch}: the {which} loss is not finite (NaN or "
                                  "infinity); the run stopped before saving this epoch")
        record = finite_record({"epoch": epoch, "train_loss": float(loss_sum) / seen,
                                "train_acc": float(correct) / seen, "val_loss": m["loss"],
                                "val_acc": m["acc"], "val_auc": m["auc"], "seconds": start.seconds},
                               f"{out}: epoch {epoch}")
        history.append(record)
        if better(m, best):
            best = {"epoch": epoch, "acc": m["acc"], "auc": m["auc"], "loss": m["loss"]}
            best_state = {k: v.detach().clone() for k, v in network.state_dict().items()}
        save_checkpoint(out / CHECKPOINT, snapshot(), "evaluation")
        write_jsonl(out / "history.jsonl", history)
        loggers.log_epoch(record)
        if on_epoch is not None:
            on_epoch(record)
    run_bar.close()
    assert best is not None and best_state is not None
    network.load_state_dict(best_state)
    with autocast(device, settings.precision):
        test = predict(network, data["test"])
        chosen = predict(network, val)
    t = test.metrics()
    if not np.isfinite(test.scores).all() or not math.isfinite(t["loss"]):
        raise AutommError(f"{out}: non-finite test scores (NaN or infinity); no result written")
    source = cache.manifest.get("source", {})
    params = count_parameters(network)
    described = describe_source(source)
    extra = described.backbone_params
    boot = Bootstrap(settings.bootstrap, settings.seed)
    metrics = finite_or_none({
        "test_auc": t["auc"], "test_acc": t["acc"], "test_eer": equal_error_rate(test.scores, test.labels),
        **test_intervals(test, boot),
        **{f"by_{key}": breakdown([cache.samples[r] for r in data["test"].rows], test.scores, test.labels,
                                  key, cache.classes, boot, dataset_layouts(source)) for key in GROUP_KEYS},
        "test_loss": t["loss"], "params": params,
        "params_with_backbones": None if extra is None else params + extra,
        "val_auc": best["auc"], "val_acc": best["acc"], "best_epoch": best["epoch"],
        "epochs": settings.epochs, "batch_size": settings.batch_size, "dropout": settings.dropout,
        "seed": settings.seed, "weights": described.weights,
        "balance": settings.balance, "class_counts": class_counts(cache),
        "train_seconds": round(clock.seconds, 3),
        "data": {"path": setup["data"]["path"], "fingerprint": cache.fingerprint},
        "thresholds": choose_thresholds(chosen.scores, chosen.labels, settings.target_fpr,
                                        test.scores, test.labels),
    })
    robust = None
    if settings.robustness:
        from automm.train.robustness import robustness

        robust = robustness(network, data["train"], data["test"], boot, precision=settings.precision,
                            seed=settings.seed)
    metrics["provenance"] = provenance(settings, device=device, data=setup["data"], started=started)
    _write_outputs(out, arch, cache, network, metrics, test, data["test"].ids, robust)
    return RetrainResult(metrics, history, network, test, data["test"].ids, robust)


def test_intervals(test: Predictions, bootstrap: Bootstrap) -> dict[str, Any]:
    """``test_auc_ci``, ``test_acc_ci``, ``test_eer_ci`` ([low, high] or None),
    ``distinguishable_from_chance`` (whether the AUC interval excludes 0.5) and ``bootstrap``
    (how the intervals were drawn) of the test predictions."""
    intervals = bootstrap.binary(test.scores, test.predicted, test.labels)
    out: dict[str, Any] = {f"test_{k}_ci": None if v is None else list(v) for k, v in intervals.items()}
    return {**out, "distinguishable_from_chance": distinguishable_from_chance(intervals["auc"]),
            "bootstrap": bootstrap.record()}


def _difference(checkpoint: Mapping[str, Any], setup: Mapping[str, Any]) -> str | None:
    """What differs between a checkpoint's setup and a resumed evaluation's (e.g. ``"the
    checkpoint's setting epochs is 10, now 20"``), or None; neither the device, torch.compile
    nor the settings of the scoring after training count."""
    if (checkpoint["arch"]["choices"], checkpoint["arch"]["space"]) != (setup["arch"]["choices"],
                                                                          setup["arch"]["space"]):
        return "the checkpoint is of another architecture"
    if checkpoint["data"]["fingerprint"] != setup["data"]["fingerprint"]:
        return "the checkpoint is of another feature cache (fingerprint differs)"
    skip = ("device", "compile", *SCORING_SETTINGS)
    old, new = checkpoint["settings"], setup["settings"]
    for key in sorted((old.keys() | new.keys()) - set(skip)):
        if old.get(key) != new.get(key):
            return f"the checkpoint's setting {key} is {old.get(key)!r}, now {new.get(key)!r}"
    return None


RESULTS = ("metrics.json", "model.safetensors", "arch.json", "predictions.csv", ROBUSTNESS)
"""The result files of one evaluation, committed together (with the robustness figure's)."""


def _write_outputs(out: Path, arch: Architecture, cache: FeatureCache, network: FusionNetwork,
                   metrics: dict[str, Any], test: Predictions, ids: list[str],
                   robust: dict[str, Any] | None) -> None:
    """Write the result files into a temporary directory beside ``out`` holding (links to) the
    other files of ``out`` (checkpoint, history), then swap it in with one rename: a reader
    sees every result of one run or of another, never a mix."""
    from automm.report.figures import robustness_figure, variants

    with atomic_path(out, directory=True) as tmp:
        carry_over(out, tmp, skip=(*RESULTS, *(p.name for p in variants(ROBUSTNESS_FIGURE))))
        _write_results(tmp, arch, cache, network, metrics, test, ids)
        if robust is not None:
            write_json(tmp / ROBUSTNESS, robust)
            robustness_figure(robust, tmp / ROBUSTNESS_FIGURE)


def _write_results(out: Path, arch: Architecture, cache: FeatureCache, network: FusionNetwork,
                   metrics: dict[str, Any], test: Predictions, ids: list[str]) -> None:
    write_json(out / "metrics.json", metrics)
    state: dict[str, Tensor] = {k: v.detach().cpu().contiguous() for k, v in network.state_dict().items()}
    save_file(state, str(out / "model.safetensors"),
              metadata={"format": "automm.model/1", "space": arch.space})
    provenance = dict(arch.provenance)
    searched = provenance.get("data")
    provenance["data"] = data_record(cache)
    if isinstance(searched, Mapping) and searched.get("fingerprint") != cache.fingerprint:
        provenance["search_data"] = searched
    save_architecture(arch.replace(provenance=provenance), out / "arch.json")
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["id", "label", "score"])
    writer.writerows((i, int(y), f"{s:.6f}") for i, y, s in zip(ids, test.labels, test.scores, strict=True))
    write_text(out / "predictions.csv", buffer.getvalue())
