"""The bilevel search loop (Algorithm 1 of STGS-BMNAS), first order.

Per batch: one step of the network weights on a training batch, then one step of the
architecture logits on a validation batch (the validation batches cycle, reshuffled, for as
many steps as the training split has batches). After each epoch the architecture is derived
(its ``choices`` go into the epoch's record). Selection (``SearchSettings.select``):

- ``best``: every epoch's derived architecture is scored on validation: its derived network
  inherits the supernet's weights, is fine-tuned for one pass over at most ``FINETUNE_SAMPLES``
  training samples (fixed order, fresh batch-norm statistics, no randomness) and is then
  evaluated. Scoring the inherited weights as they are (the supernet with one-hot weights) is
  cheaper but a poor proxy: the supernet's later layers are co-adapted to mixtures of candidates.
  The best scored architecture is the result (:func:`better_derived`: the higher validation AUC,
  which a network predicting one class cannot win as it can win accuracy; ties by the lower
  validation loss, then the later epoch).
- ``final``: the architecture derived from the final logits is the result (the paper's way),
  scored once, the same way, when the search ends (for arch.json's metrics): no per-epoch
  fine-tune, so a search is cheaper.

The run directory holds ``checkpoint.pt`` (every epoch, atomically), ``metrics.jsonl`` (one
record per epoch) and, when the search ends, ``arch.json``. Every training step is a safe point
(:func:`automm.interrupts.check`): a stop requested by a signal leaves the checkpoint of the
last finished epoch, or, in the first epoch, one of the search's start, so the resumed search
redoes the interrupted epoch. Search stops when the entropy of
every choice family changed by less than ``entropy_tol`` and the derived architecture stayed
the same over ``patience`` consecutive epochs (converged), or after ``epochs``.
:func:`resume_search` continues from the last checkpoint to the same result as an
uninterrupted run (bitwise on CPU).
"""

from __future__ import annotations

import copy
import dataclasses
import itertools
import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from math import ceil
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from automm import interrupts
from automm.data.cache import FeatureCache, data_record
from automm.errors import AutommError, CacheError
from automm.factory import create_space, create_strategy
from automm.fileio import finite_record, write_jsonl
from automm.ir.architecture import Architecture, load_architecture, save_architecture
from automm.ir.space import SearchSpace
from automm.loggers import Loggers
from automm.nn.network import FusionNetwork
from automm.provenance import now, provenance, recorded_settings
from automm.run.layout import ARCH, CHECKPOINT, METRICS
from automm.run.result import search_architecture
from automm.strategy.base import Strategy, adam
from automm.train.batches import SplitData, load_splits, require_split_sizes
from automm.train.checkpoint import (
    check_state,
    load_checkpoint,
    restoring,
    rng_state,
    save_checkpoint,
    seed_everything,
    set_rng_state,
)
from automm.train.device import autocast, resolve_device
from automm.train.prediction import predict
from automm.train.progress import EpochCallback, RunProgress, Stopwatch
from automm.train.settings import SearchSettings
from automm.train.steps import inherit_weights, reset_batch_norm, weight_update

# Scoring a derived architecture: one pass over at most FINETUNE_SAMPLES training samples with
# Adam at the search's initial weight learning rate and weight decay.
FINETUNE_SAMPLES = 2048
FINETUNE_LR = 3e-3
FINETUNE_WEIGHT_DECAY = 3e-3



@dataclass
class SearchResult:
    """The derived architecture (with metrics and provenance) and the per-epoch history."""

    architecture: Architecture
    run_dir: Path
    history: list[dict[str, Any]]
    stopped: str  # "converged" or "max-epochs"


def better_derived(candidate: Mapping[str, float], best: Mapping[str, float] | None) -> bool:
    """Selection of derived architectures: the higher validation AUC wins, ties go to the lower
    validation loss, full ties to ``candidate`` (the later epoch); a missing or NaN score loses."""
    if best is None:
        return True

    def key(m: Mapping[str, float]) -> tuple[float, float]:
        auc, loss = m.get("auc"), m.get("loss")
        return (-math.inf if auc is None or math.isnan(auc) else auc,
                -math.inf if loss is None or math.isnan(loss) else -loss)

    return key(candidate) >= key(best)


def family_entropy(space: SearchSpace, strategy: Strategy, logits: Mapping[str, Tensor]
                   ) -> dict[str, float]:
    """Per choice family, the mean over its choices of ``-sum p log p`` (eqs 20-21),
    ``p = strategy.probabilities(logits)``."""
    out = {}
    for family, choices in space.families().items():
        values = []
        for c in choices:
            p = strategy.probabilities(logits[c.name])
            values.append(-(p * torch.log(p.clamp_min(1e-30))).sum())
        out[family] = float(torch.stack(values).mean())
    return out


def probabilities(space: SearchSpace, strategy: Strategy, logits: Mapping[str, Tensor]
                  ) -> dict[str, dict[str, float]]:
    """Per choice, each candidate's probability ``strategy.probabilities(logits)`` (6 decimals)."""
    out = {}
    for name, choice in space.choices.items():
        p = strategy.probabilities(logits[name].detach()).tolist()
        out[name] = {str(c): round(v, 6) for c, v in zip(choice.candidates, p, strict=True)}
    return out


def converged(history: list[Mapping[str, Any]], tol: float, patience: int) -> bool:
    """Whether, over each of the last ``patience`` epochs, every family's entropy changed by
    less than ``tol`` and the derived architecture stayed the same, after the total entropy fell
    by at least ``patience * tol`` since the first epoch (distributions that never left uniform
    have not converged: the search has not started)."""
    if len(history) <= patience:
        return False
    window = history[-patience - 1:]
    if any(h["choices"] != window[-1]["choices"] for h in window):
        return False
    if sum(history[0]["entropy"].values()) - sum(window[-1]["entropy"].values()) < patience * tol:
        return False
    for prev, cur in itertools.pairwise(window):
        if any(abs(cur["entropy"][f] - prev["entropy"][f]) >= tol for f in cur["entropy"]):
            return False
    return True


def search(space: SearchSpace, strategy: Strategy, cache: FeatureCache, settings: SearchSettings,
           run_dir: str | os.PathLike[str], *, progress: bool | None = None,
           on_epoch: EpochCallback | None = None, loggers: Loggers | None = None) -> SearchResult:
    """Run a new search in ``run_dir`` (see the module docstring), followed live by ``loggers``."""
    return _Search(space, strategy, cache, settings, Path(run_dir), progress, on_epoch, loggers).run()


def resume_search(run_dir: str | os.PathLike[str], *, device: str | None = None,
                  progress: bool | None = None, on_epoch: EpochCallback | None = None,
                  loggers: Loggers | None = None) -> SearchResult:
    """Continue the search whose checkpoint is in ``run_dir`` with its recorded settings
    (optionally on another ``device``); a finished search just rewrites its arch.json."""
    run = Path(run_dir)
    state = load_checkpoint(run / CHECKPOINT, "search")
    space, strategy, cache, settings = _recorded_search(state["setup"], "the search started", device)
    search_run = _Search(space, strategy, cache, settings, run, progress, on_epoch, loggers)
    reference = {**search_run.state(), "setup": {}, "best": None}
    del reference["started"]  # checkpoints written before it was recorded lack it
    check_state(run / CHECKPOINT, state, reference)
    with restoring(run / CHECKPOINT):
        search_run.load(state)
    return search_run.run()


def rerun_search(run_dir: str | os.PathLike[str], out: str | os.PathLike[str], *, device: str | None = None,
                 progress: bool | None = None, on_epoch: EpochCallback | None = None,
                 loggers: Loggers | None = None) -> SearchResult:
    """Repeat the search of ``run_dir`` in the new run directory ``out`` with the strategy, space,
    feature cache and settings its arch.json records (optionally on another ``device``)."""
    path = Path(run_dir) / ARCH
    arch = load_architecture(path)
    strategy, data = arch.provenance.get("strategy"), arch.provenance.get("data")
    if not isinstance(strategy, Mapping) or "name" not in strategy or not isinstance(data, Mapping) \
            or "path" not in data:
        raise AutommError(f"{path}: records no strategy or feature cache; it cannot be rerun")
    settings = recorded_settings(arch.provenance, path, SearchSettings)
    setup = {"strategy": strategy, "space": {"name": arch.space, "config": dict(arch.config)},
             "data": data, "settings": dataclasses.asdict(settings)}
    space, method, cache, settings = _recorded_search(setup, f"{path} was written", device)
    return search(space, method, cache, settings, out, progress=progress, on_epoch=on_epoch, loggers=loggers)


def _recorded_search(setup: Mapping[str, Any], since: str, device: str | None
                     ) -> tuple[SearchSpace, Strategy, FeatureCache, SearchSettings]:
    """The space, strategy, cache and settings of a recorded search ``setup`` (a checkpoint's,
    or as rebuilt from arch.json); a cache whose fingerprint changed ``since`` is an error."""
    params = dict(setup["strategy"])
    strategy = create_strategy(params.pop("name"), params)
    space = create_space(setup["space"]["name"], setup["space"]["config"])
    cache = FeatureCache.open(setup["data"]["path"])
    if cache.fingerprint != setup["data"].get("fingerprint"):
        raise CacheError(f"{cache.path}: the feature cache changed since {since} "
                         "(fingerprint differs); start a new search")
    settings = SearchSettings(**{"select": "best", **setup["settings"]})  # runs before --select
    if device is not None:
        settings = dataclasses.replace(settings, device=device)
    return space, strategy, cache, settings


def score_derived(space: SearchSpace, arch: Architecture, supernet: nn.Module,
                  data: Mapping[str, SplitData], batch_size: int, device: torch.device,
                  precision: str = "fp32") -> dict[str, float]:
    """Validation metrics of ``arch``'s derived network after a short fine-tune from the
    supernet's weights: one pass over at most ``FINETUNE_SAMPLES`` training samples in a fixed
    order, fresh batch-norm statistics, no dropout, no randomness: not even torch's global RNG
    moves (building the network draws its initial weights under a forked RNG), so scoring after
    each epoch leaves the search's random course unchanged."""
    train = data["train"]
    with torch.random.fork_rng(devices=[]):
        net = inherit_weights(FusionNetwork(space, arch).to(device), supernet)
    reset_batch_norm(net)
    opt = adam(net.parameters(), lr=FINETUNE_LR, weight_decay=FINETUNE_WEIGHT_DECAY)
    net.train()
    for positions in train.order(batch_size, None, train=True)[:ceil(FINETUNE_SAMPLES / batch_size)]:
        weight_update(net, opt, *train.get(positions), None, train.loss, precision=precision)
    with autocast(device, precision):
        return predict(net, data["val"]).metrics()


class _Search:
    """State of one search: network, logits, optimisers, RNGs, history and best architecture."""

    def __init__(self, space: SearchSpace, strategy: Strategy, cache: FeatureCache,
                 settings: SearchSettings, run_dir: Path, progress: bool | None,
                 on_epoch: EpochCallback | None, loggers: Loggers | None = None) -> None:
        if settings.select is None:
            settings = dataclasses.replace(settings, select=strategy.default_select)
        self.space, self.strategy, self.cache, self.settings = space, strategy, cache, settings
        self.run_dir, self.progress, self.on_epoch = run_dir, progress, on_epoch
        self.loggers = loggers if loggers is not None else Loggers()
        self.device = resolve_device(settings.device)
        self.data = load_splits(cache, ("train", "val"), space.taps, self.device, balance=settings.balance)
        require_split_sizes(cache, self.data, ("train", "val"))
        seed_everything(settings.seed)
        self.network = FusionNetwork(space).to(self.device)
        self.logits = {k: nn.Parameter(v.detach().to(self.device))
                       for k, v in strategy.init_arch_params(space).items()}
        self.weight_opt, self.scheduler = strategy.weight_optimizer(
            list(self.network.parameters()), settings.epochs)
        self.arch_opt = strategy.arch_optimizer(list(self.logits.values()))
        self.hard = strategy.single_path and not settings.compile
        self.forward: Callable[..., Tensor] = (
            torch.compile(self.network) if settings.compile else self.network)  # type: ignore[assignment]
        self.generator = torch.Generator().manual_seed(settings.seed)
        self.epoch = 0
        self.history: list[dict[str, Any]] = []
        self.best: dict[str, Any] | None = None
        self.finished: str | None = None
        self.clock = Stopwatch()
        self.started = now()
        self.bar = RunProgress(settings.epochs, 0, False)  # replaced by run()

    # -- checkpoints ---------------------------------------------------------------------
    def setup(self) -> dict[str, Any]:
        return {"strategy": self.strategy.record(),
                "space": {"name": self.space.name, "config": self.space.config.to_dict()},
                "data": data_record(self.cache),
                "settings": dataclasses.asdict(self.settings)}

    def state(self) -> dict[str, Any]:
        return {
            "setup": self.setup(), "epoch": self.epoch, "finished": self.finished,
            "network": self.network.state_dict(),
            "arch": {k: v.detach() for k, v in self.logits.items()},
            "weight_optimizer": self.weight_opt.state_dict(),
            "arch_optimizer": self.arch_opt.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            "strategy": self.strategy.state_dict(),
            "rng": rng_state(self.generator),
            "best": self.best, "history": self.history, "seconds": self.clock.seconds,
            "started": self.started,
        }

    def load(self, state: Mapping[str, Any]) -> None:
        self.network.load_state_dict(state["network"])
        with torch.no_grad():
            for k, v in state["arch"].items():
                self.logits[k].copy_(v)
        self.weight_opt.load_state_dict(state["weight_optimizer"])
        self.arch_opt.load_state_dict(state["arch_optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        self.strategy.load_state_dict(state["strategy"])
        set_rng_state(state["rng"], self.generator)
        self.epoch, self.finished = state["epoch"], state["finished"]
        self.best, self.history = state["best"], list(state["history"])
        self.clock = Stopwatch(state["seconds"])
        self.started = state.get("started", self.started)

    # -- the loop ------------------------------------------------------------------------
    def run(self) -> SearchResult:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        write_jsonl(self.run_dir / METRICS, self.history)
        with self.loggers.running(self.setup()):
            with RunProgress(self.settings.epochs, self.epoch, self.progress, up_to=True) as self.bar:
                self._loop()
            arch = self.result_architecture()
            save_architecture(arch, self.run_dir / ARCH)
            self.loggers.log_result(arch.metrics, self.epoch)
        return SearchResult(arch, self.run_dir, self.history, self.finished)

    def _loop(self) -> None:
        initial = copy.deepcopy(self.state()) if self.epoch == 0 else None
        try:
            self._epochs()
        except interrupts.Interrupted as exc:
            if initial is not None and self.epoch == 1 and not exc.at_once:
                save_checkpoint(self.run_dir / CHECKPOINT, initial, "search")  # stopped in the first epoch
            raise

    def _epochs(self) -> None:
        while self.finished is None:
            self.epoch += 1
            record = self.train_epoch()
            self.history.append(record)
            if not self.strategy.schedule_per_batch:
                self.scheduler.step()
            self.strategy.on_epoch_end(self.epoch)
            if converged(self.history, self.settings.entropy_tol, self.settings.patience):
                self.finished = "converged"
            elif self.epoch >= self.settings.epochs:
                self.finished = "max-epochs"
            if self.finished is not None and self.settings.select == "final":
                self.select_final(record)
            save_checkpoint(self.run_dir / CHECKPOINT, self.state(), "search")
            write_jsonl(self.run_dir / METRICS, self.history)
            self.loggers.log_epoch(record)
            if self.on_epoch is not None:
                self.on_epoch(record)

    def train_epoch(self) -> dict[str, Any]:
        start = Stopwatch()
        s, train, val = self.settings, self.data["train"], self.data["val"]
        temperature = self.strategy.temperature
        train_batches = train.order(s.batch_size, self.generator, train=True)
        val_batches: list[Tensor] = []
        while len(val_batches) < len(train_batches):
            val_batches += val.order(s.batch_size, self.generator, train=True)
        self.network.train()
        loss_sum = torch.zeros((), device=self.device)
        correct = torch.zeros((), device=self.device, dtype=torch.long)
        seen = 0
        with self.bar.epoch(self.epoch, len(train_batches)) as bar:
            for step, (tpos, vpos) in enumerate(zip(train_batches, val_batches, strict=False)):
                loss, logits, labels = self.strategy.step(partial(self.weight_step, train, tpos),
                                                          partial(self.arch_step, val, vpos))
                loss_sum += loss.detach() * len(tpos)
                correct += (logits.detach().argmax(dim=1) == labels).sum()
                seen += len(tpos)
                if self.strategy.schedule_per_batch:
                    self.scheduler.step(self.epoch - 1 + (step + 1) / len(train_batches))
                bar.update(1)
                if step % 10 == 9:
                    bar.set_postfix(loss=f"{float(loss_sum) / seen:.4f}")
                interrupts.check()
        with torch.no_grad():
            eval_weights = self.strategy.all_weights(self.space, self.logits, training=False)
        with autocast(self.device, s.precision):
            supernet = predict(self.network, val, eval_weights).metrics()
        arch = self.strategy.derive(self.space, self.logits)
        derived: dict[str, float | None] = dict.fromkeys(("acc", "auc", "loss"))
        if s.select == "best":
            derived = self.score(arch)
            if better_derived(derived, self.best):
                self.best = self.scored(arch, derived)
        return finite_record({
            "epoch": self.epoch,
            "train_loss": float(loss_sum) / seen, "train_acc": float(correct) / seen,
            "val_loss": supernet["loss"], "val_acc": supernet["acc"], "val_auc": supernet["auc"],
            "temperature": temperature,
            "entropy": family_entropy(self.space, self.strategy, self.logits),
            "probabilities": probabilities(self.space, self.strategy, self.logits),
            "derived_val_acc": derived["acc"], "derived_val_auc": derived["auc"],
            "lr": self.weight_opt.param_groups[0]["lr"],
            "seconds": start.seconds,
            "choices": dict(arch.choices),
        }, f"{self.run_dir}: epoch {self.epoch}")

    def weight_step(self, data: SplitData, positions: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        taps, labels = data.get(positions)
        with torch.no_grad():
            weights = self.strategy.all_weights(self.space, self.logits, training=True, batch=len(labels))
        loss, logits = weight_update(self.forward, self.weight_opt, taps, labels, weights, data.loss,
                                     hard=self.hard, precision=self.settings.precision)
        return loss, logits, labels

    def arch_step(self, data: SplitData, positions: Tensor) -> None:
        taps, labels = data.get(positions)
        weights = self.strategy.all_weights(self.space, self.logits, training=True, batch=len(labels))
        with autocast(self.device, self.settings.precision):
            loss = data.loss(self.forward(taps, weights), labels)  # every candidate: exact gradient
        self.arch_opt.zero_grad(set_to_none=True)
        loss.backward(inputs=list(self.logits.values()))  # no gradients of the network weights
        self.arch_opt.step()

    def select_final(self, record: dict[str, Any]) -> None:
        """``final`` selection: score the last epoch's derived architecture (its ``record``, whose
        derived metrics this fills) and make it the result."""
        arch = Architecture(self.space.name, self.space.config.to_dict(), record["choices"])
        derived = self.score(arch)
        self.best = self.scored(arch, derived)
        record.update(finite_record({"derived_val_acc": derived["acc"], "derived_val_auc": derived["auc"]},
                                   f"{self.run_dir}: epoch {self.epoch}"))

    def scored(self, arch: Architecture, derived: Mapping[str, float]) -> dict[str, Any]:
        """The ``best`` entry of the state: ``arch`` and its scores at this epoch."""
        return {"epoch": self.epoch, "choices": dict(arch.choices),
                "acc": derived["acc"], "auc": derived["auc"], "loss": derived["loss"]}

    def score(self, arch: Architecture) -> dict[str, float]:
        """Validation metrics of ``arch``'s derived network (:func:`score_derived`)."""
        s = self.settings
        return score_derived(self.space, arch, self.network, self.data, s.batch_size, self.device,
                             s.precision)

    def result_architecture(self) -> Architecture:
        assert self.best is not None
        s = self.settings
        return search_architecture(
            self.space, self.cache, self.best,
            strategy={**self.strategy.record(), "seed": s.seed, **self.strategy.search_record(s.batch_size)},
            provenance={**provenance(s, device=self.device, data=data_record(self.cache),
                                     started=self.started), "strategy": self.strategy.record()},
            seconds=self.clock.seconds, epochs=self.epoch, stopped=self.finished, balance=s.balance,
            select=s.select)
