"""NNI's one-shot strategies on automm's feature caches, writing a normal automm run directory.

The NNI model space of the space (:func:`automm_nni.to_model_space`) is trained by NNI's own
strategy (``darts``: ``nni.nas.strategy.DARTS``, first order; ``gumbel``: ``GumbelDARTS``, soft
Gumbel-softmax with its linear temperature schedule; ``random``: ``RandomOneShot``; ``enas``:
``ENAS``, an RL controller) through NNI's Lightning evaluator ``Classification`` (the network's
Adam, no schedule), one NNI call per run. After every epoch the architecture is read from the
strategy (``darts``/``gumbel``: automm's derivation, argmax per op and the most probable distinct
pair per node, on the softmax of NNI's architecture logits, not its Gumbel-noised
``export_probs``; ``random``/``enas``: NNI's own ``export()``, for ``random`` an arbitrary
architecture) and scored as ``automm search`` scores it: its derived FusionNetwork inherits the
supernet's weights (same parameter names), is fine-tuned for one pass over at most
:data:`automm.train.bilevel.FINETUNE_SAMPLES` training samples and evaluated on the validation
split. The best epoch's architecture (validation AUC, ties by loss:
:func:`automm.train.bilevel.better_derived`) goes to arch.json with the strategy recorded as
``nni-<name>``; metrics.jsonl has one record per epoch.
"""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pytorch_lightning as pl
import torch
from torch import Tensor
from torch.utils.data import DataLoader, Dataset

from automm import __version__
from automm.data.cache import FeatureCache, data_record
from automm.errors import AutommError, CacheError
from automm.fileio import finite_record, write_jsonl
from automm.ir import Architecture, SearchSpace, save_architecture
from automm.ir.space import Choice
from automm.run.layout import ARCH, METRICS
from automm.run.result import search_architecture
from automm.strategy import Strategy
from automm.train.batches import load_splits
from automm.train.bilevel import (
    SearchResult,
    better_derived,
    family_entropy,
    score_derived,
)
from automm.train.checkpoint import seed_everything
from automm.train.device import resolve_device
from automm.train.progress import EpochCallback, Stopwatch
from automm_nni import STRATEGIES
from automm_nni._nni import (
    DARTS,
    ENAS,
    Classification,
    GumbelDARTS,
    GumbelSoftmax,
    RandomOneShot,
    RawFormatModelSpace,
    SequentialExecutionEngine,
    trace,
)
from automm_nni._nni import Strategy as NniStrategy
from automm_nni._nni import __version__ as nni_version
from automm_nni.space import AutommModelSpace, to_architecture, to_model_space

DIFFERENTIABLE = ("darts", "gumbel")


@dataclass(frozen=True)
class NniSettings:
    """Settings of an NNI search (recorded in arch.json's ``strategy``)."""

    epochs: int = 30
    batch_size: int = 64
    seed: int = 0
    device: str = "auto"
    learning_rate: float = 3e-3
    weight_decay: float = 3e-3
    arc_learning_rate: float = 3e-4


class _Split(Dataset):
    """One cache split as (taps, label) items, preloaded."""

    def __init__(self, cache: FeatureCache, split: str, taps: list[str]) -> None:
        rows = cache.indices(split)
        if rows.size < 2:
            raise CacheError(f"{cache.path}: the {split!r} split needs at least 2 samples")
        self.taps = cache.batch(rows, taps)
        self.labels = torch.from_numpy(cache.labels[rows])

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i: int) -> tuple[dict[str, Tensor], Tensor]:
        return {t: x[i] for t, x in self.taps.items()}, self.labels[i]


def _loader(data: _Split, batch_size: int, seed: int) -> DataLoader:
    """Shuffled batches; a last batch of one sample is dropped (batch norm needs two)."""
    return trace(DataLoader)(data, batch_size=batch_size, shuffle=True, drop_last=len(data) % batch_size == 1,
                             generator=torch.Generator().manual_seed(seed))


def make_strategy(name: str, settings: NniSettings) -> NniStrategy:
    """NNI's strategy called ``name`` (:data:`STRATEGIES`)."""
    if name == "darts":
        return DARTS(arc_learning_rate=settings.arc_learning_rate)
    if name == "gumbel":
        return GumbelDARTS(arc_learning_rate=settings.arc_learning_rate)
    if name == "random":
        return RandomOneShot()
    if name == "enas":
        _check_enas()
        return ENAS(reward_metric_name="val_acc")
    raise AutommError(f"unknown NNI strategy {name!r}; known: {', '.join(STRATEGIES)}")


def _check_enas() -> None:
    """NNI 3.0's ENAS needs tianshou and gym, and tells its train batches from its validation
    batches by the dataloader index that only pytorch-lightning 2.0 passes (with a later one every
    batch would go to the controller and the network would never train)."""
    from importlib.util import find_spec

    from packaging.version import Version

    missing = [m for m in ("tianshou", "gym") if find_spec(m) is None]
    if missing or Version(pl.__version__) >= Version("2.1"):
        why = f"{', '.join(missing)} missing" if missing else f"pytorch-lightning {pl.__version__}"
        raise AutommError(f"NNI's enas needs tianshou 0.5, gym and pytorch-lightning<2.1 ({why}); "
                          "pip install 'automm[nni]'")


class _Derivation(Strategy):
    """automm's derivation rule (argmax per op, best distinct pair per node) over given logits."""

    name = "nni"

    def weights(self, choice: Choice, logits: Tensor, training: bool, batch: int | None = None) -> Tensor:
        raise NotImplementedError("only derivation is used")


def _logits(space: SearchSpace, name: str, module: Any) -> dict[str, Tensor]:
    """Per choice, logits whose softmax is the strategy's distribution over the candidates:
    NNI's architecture parameters (darts, gumbel), the log of the ENAS controller's last
    probabilities (entropy only; enas derives by NNI's export), zeros (random)."""
    if name in DIFFERENTIABLE:
        found = {m.label: next(iter(m.arch_parameters())).detach().cpu()
                 for m in module.supernet_modules() if hasattr(m, "arch_parameters")}
        return {c: found[c] for c in space.choices}
    if name == "enas":
        probs = module.export_probs()
        return {c: torch.tensor(list(probs[c].values())).clamp_min(1e-30).log() for c in space.choices}
    return {c: torch.zeros(len(choice.candidates)) for c, choice in space.choices.items()}


def derive(space: SearchSpace, strategy: str, module: Any, logits: Mapping[str, Tensor] | None = None
           ) -> Architecture:
    """The architecture NNI's ``strategy`` stands at (``module``: its one-shot Lightning module):
    darts and gumbel, automm's derivation on the softmax of the architecture ``logits`` (default:
    read from ``module``); random and enas, NNI's ``export()``."""
    if strategy in DIFFERENTIABLE:
        return _Derivation().derive(space, _logits(space, strategy, module) if logits is None else logits)
    with warnings.catch_warnings():  # RandomOneShot warns that its export is arbitrary
        warnings.simplefilter("ignore", UserWarning)
        return to_architecture(space, module.export())


def _temperature(module: Any) -> float | None:
    taus = [m.tau for m in module.modules() if isinstance(m, GumbelSoftmax)]
    return float(taus[0]) if taus else None


class _Recorder(pl.Callback):
    """Per epoch: derive, score, record (metrics.jsonl) and keep the best architecture."""

    def __init__(self, run: _NniSearch) -> None:
        self.run = run
        self.losses: list[float] = []
        self.clock = Stopwatch()

    def on_train_epoch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self.losses, self.clock = [], Stopwatch()

    def on_train_batch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule, outputs: Any,
                           batch: Any, batch_idx: int) -> None:
        loss = outputs.get("loss") if isinstance(outputs, Mapping) else outputs  # ENAS: none on its val steps
        if isinstance(loss, Tensor):
            self.losses.append(float(loss.detach()))

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self.run.end_epoch(pl_module, self.losses, self.clock.seconds)


class _NniSearch:
    """One NNI search: data, strategy, the per-epoch history and the best architecture."""

    def __init__(self, space: SearchSpace, strategy: str, cache: FeatureCache, settings: NniSettings,
                 run_dir: Path, progress: bool | None, on_epoch: EpochCallback | None) -> None:
        if strategy not in STRATEGIES:
            raise AutommError(f"unknown NNI strategy {strategy!r}; known: {', '.join(STRATEGIES)}")
        self.space, self.strategy, self.cache, self.settings = space, strategy, cache, settings
        self.run_dir, self.progress, self.on_epoch = run_dir, progress, on_epoch
        self.device = resolve_device(settings.device)
        self.data = load_splits(cache, ("train", "val"), space.taps, self.device)
        self.history: list[dict[str, Any]] = []
        self.best: dict[str, Any] | None = None
        self.clock = Stopwatch()
        self.model_space: AutommModelSpace | None = None

    def run(self) -> SearchResult:
        seed_everything(self.settings.seed)
        s = self.settings
        self.model_space = model_space = to_model_space(self.space)  # mutated into the supernet in place
        taps = model_space.tap_names
        nni_strategy = make_strategy(self.strategy, s)
        self.run_dir.mkdir(parents=True, exist_ok=True)
        with _quiet():
            evaluator = Classification(
                learning_rate=s.learning_rate, weight_decay=s.weight_decay,
                num_classes=model_space.plan.num_classes,
                train_dataloaders=_loader(_Split(self.cache, "train", taps), s.batch_size, s.seed),
                val_dataloaders=_loader(_Split(self.cache, "val", taps), s.batch_size, s.seed),
                max_epochs=s.epochs, accelerator="gpu" if self.device.type == "cuda" else "cpu",
                devices=[self.device.index or 0] if self.device.type == "cuda" else 1,
                logger=False, enable_checkpointing=False, enable_model_summary=False, num_sanity_val_steps=0,
                enable_progress_bar=bool(self.progress), callbacks=[_Recorder(self)])
            nni_strategy.initialize(RawFormatModelSpace(model_space, evaluator), SequentialExecutionEngine())
            nni_strategy.run()
        if self.best is None:
            raise AutommError(f"{self.run_dir}: NNI's {self.strategy} finished no epoch")
        arch = self.result_architecture()
        save_architecture(arch, self.run_dir / ARCH)
        return SearchResult(arch, self.run_dir, self.history, "max-epochs")

    def end_epoch(self, module: Any, losses: list[float], seconds: float) -> None:
        logits = _logits(self.space, self.strategy, module)
        arch = derive(self.space, self.strategy, module, logits)
        derived = score_derived(self.space, arch, self.model_space, self.data, self.settings.batch_size,
                                self.device)
        epoch = len(self.history) + 1
        if better_derived(derived, self.best):
            self.best = {"epoch": epoch, "choices": dict(arch.choices), "acc": derived["acc"],
                         "auc": derived["auc"], "loss": derived["loss"]}
        record = finite_record({
            "epoch": epoch, "train_loss": sum(losses) / len(losses) if losses else None,
            "temperature": _temperature(module),
            "entropy": family_entropy(self.space, _Derivation(), logits),
            "derived_val_loss": derived["loss"], "derived_val_acc": derived["acc"],
            "derived_val_auc": derived["auc"], "seconds": seconds, "choices": dict(arch.choices)},
            f"{self.run_dir}: epoch {epoch}")
        self.history.append(record)
        write_jsonl(self.run_dir / METRICS, self.history)
        if self.on_epoch is not None:
            self.on_epoch(record)

    def record(self) -> dict[str, Any]:
        """The ``strategy`` entry of arch.json."""
        derive = ("automm's rule on the softmax of NNI's architecture logits"
                  if self.strategy in DIFFERENTIABLE else "NNI's export()")
        settings = asdict(self.settings)
        if self.strategy not in DIFFERENTIABLE:
            settings.pop("arc_learning_rate")
        return {"name": f"nni-{self.strategy}", "nni": nni_version, "derive": derive, **settings}

    def result_architecture(self) -> Architecture:
        assert self.best is not None
        return search_architecture(
            self.space, self.cache, self.best, strategy=self.record(),
            provenance={"automm": __version__, "torch": str(torch.__version__), "nni": nni_version,
                        "data": data_record(self.cache)},
            seconds=self.clock.seconds, epochs=len(self.history), stopped="max-epochs", balance="none")


class _quiet:
    """Lightning's and NNI's info logging and advisory warnings off for the duration."""

    LOGGERS = ("pytorch_lightning", "lightning", "lightning.pytorch", "lightning_fabric", "nni")
    MODULES = r"(pytorch_lightning|lightning_fabric|torchmetrics|nni)(\.|$)"

    def __enter__(self) -> None:
        self.levels = {n: logging.getLogger(n).level for n in self.LOGGERS}
        for n in self.LOGGERS:
            logging.getLogger(n).setLevel(logging.ERROR)
        self.warnings = warnings.catch_warnings()
        self.warnings.__enter__()
        warnings.filterwarnings("ignore", module=self.MODULES)

    def __exit__(self, *exc: object) -> None:
        self.warnings.__exit__(*exc)
        for n, level in self.levels.items():
            logging.getLogger(n).setLevel(level)


def nni_search(space: SearchSpace, strategy: str, cache: FeatureCache, settings: NniSettings,
               run_dir: str | os.PathLike[str], *, progress: bool | None = None,
               on_epoch: EpochCallback | None = None) -> SearchResult:
    """Run NNI's one-shot ``strategy`` (:data:`STRATEGIES`) on ``space`` over ``cache`` and write
    ``run_dir`` (arch.json, metrics.jsonl) as ``automm search`` does."""
    return _NniSearch(space, strategy, cache, settings, Path(run_dir), progress, on_epoch).run()
