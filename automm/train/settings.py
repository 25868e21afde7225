"""Settings of the search and of the retraining (plain dataclasses: no torch, so that the
command line can show their defaults without loading it)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from automm.errors import AutommError
from automm.schema import Spec, boolean, dataclass_schema, integer, nullable, number, obj, optional, string
from automm.train.bootstrap import RESAMPLES

DEVICES = "auto, cpu or cuda[:k]"
BALANCES = ("none", "class-weight", "oversample")
"""Class balance of training (:mod:`automm.train.balance`); the settings default to class-weight."""
BALANCE_HELP = ("Class balance of training: none, class-weight (loss weighted by inverse class "
                "frequency) or oversample (classes drawn equally often).")


SELECTS = ("best", "final")
"""How a search picks its result (:mod:`automm.train.bilevel`); ``None``: the strategy's default."""
SELECT_HELP = ("How the search picks its architecture: best (derive, fine-tune and score on validation "
               "after every epoch, keep the highest AUC) or final (derive from the final logits, "
               "scored once; cheaper). Default: the strategy's (best for every built-in strategy).")


PRECISIONS = ("fp32", "bf16")
"""Arithmetic of the forward passes: float32, or bfloat16 autocast (:func:`automm.train.device.autocast`)."""
PRECISION_HELP = ("Arithmetic of the forward passes: fp32, or bf16 (autocast: matrix products and "
                  "convolutions in bfloat16, on the CPU and on CUDA).")


def check_balance(balance: str) -> None:
    """Raise :class:`AutommError` unless ``balance`` is one of :data:`BALANCES`."""
    if balance not in BALANCES:
        raise AutommError(f"--balance {balance}: unknown (use {', '.join(BALANCES)})")


def check_positive(settings: Any, *names: str) -> None:
    """Raise :class:`AutommError` naming the CLI option of the first field below 1."""
    for name in names:
        if getattr(settings, name) < 1:
            raise AutommError(f"--{name.replace('_', '-')} must be >= 1")


def check_precision(precision: str) -> None:
    """Raise :class:`AutommError` unless ``precision`` is one of :data:`PRECISIONS`."""
    if precision not in PRECISIONS:
        raise AutommError(f"--precision {precision}: unknown (use {', '.join(PRECISIONS)})")


@dataclass(frozen=True)
class SearchSettings:
    """Loop settings (the paper: batch 8, stop when the entropy stays constant)."""

    epochs: int = 30
    batch_size: int = 8
    seed: int = 0
    entropy_tol: float = 1e-3
    patience: int = 5
    device: str = "auto"
    balance: str = "class-weight"
    precision: str = "fp32"
    compile: bool = False
    """``torch.compile`` the supernet's training forward (static shapes: single-path strategies
    then run the full mixture, not only the chosen candidates)."""
    select: str | None = None
    """``best`` or ``final`` (:data:`SELECTS`); ``None``: the strategy's ``default_select``."""

    def __post_init__(self) -> None:
        check_positive(self, "epochs", "batch_size", "patience")
        check_balance(self.balance)
        check_precision(self.precision)
        if self.select is not None and self.select not in SELECTS:
            raise AutommError(f"--select {self.select}: unknown (use {', '.join(SELECTS)})")
        if self.entropy_tol < 0:
            raise AutommError("--entropy-tol must be >= 0")


@dataclass(frozen=True)
class RetrainSettings:
    """Training settings of the evaluation (defaults: the paper's)."""

    epochs: int = 100
    batch_size: int = 16
    seed: int = 0
    dropout: float = 0.2
    lr: float = 3e-3
    weight_decay: float = 3e-3
    min_lr: float = 1e-4
    device: str = "auto"
    balance: str = "class-weight"
    precision: str = "fp32"
    compile: bool = False
    """``torch.compile`` the network's training forward (as :attr:`SearchSettings.compile`)."""
    target_fpr: float = 0.05
    """The false-positive rate of the ``target-fpr`` decision threshold (:mod:`automm.train.thresholds`)."""
    bootstrap: int = RESAMPLES
    """Resamples of the test split for the 95% intervals (:mod:`automm.train.bootstrap`)."""
    robustness: bool = False
    """Also score the test split with modalities removed or noisy (:mod:`automm.train.robustness`)."""

    def __post_init__(self) -> None:
        check_positive(self, "epochs", "batch_size", "bootstrap")
        check_balance(self.balance)
        check_precision(self.precision)
        if not 0.0 <= self.target_fpr <= 1.0:
            raise AutommError("--target-fpr must be in [0, 1]")


SCORING_SETTINGS = ("target_fpr", "bootstrap", "robustness")
"""Fields of :class:`RetrainSettings` that act only after training: a resumed evaluation may
change them."""


SEED = integer(0, 2**63 - 1)
"""A seed, as ``--seed`` accepts it."""
_COMMON: dict[str, Spec] = {
    "epochs": optional(integer(1)), "batch_size": optional(integer(1)), "seed": optional(SEED),
    "device": optional(string()), "balance": optional(string(*BALANCES)),
    "precision": optional(string(*PRECISIONS)),
}
SEARCH_SETTINGS = dataclass_schema(
    SearchSettings, **_COMMON, entropy_tol=optional(number(0)), patience=optional(integer(1)),
    select=optional(nullable(string(*SELECTS))))
"""Schema of recorded :class:`SearchSettings` (``dataclasses.asdict``; a missing field: its default)."""
RETRAIN_SETTINGS = dataclass_schema(
    RetrainSettings, **_COMMON, dropout=optional(number(0, 1)), lr=optional(number(0)),
    weight_decay=optional(number(0)), min_lr=optional(number(0)), target_fpr=optional(number(0, 1)),
    bootstrap=optional(integer(1)), robustness=optional(boolean()))
"""Schema of recorded :class:`RetrainSettings`."""
RECORDED_SETTINGS = obj({**SEARCH_SETTINGS.fields, **RETRAIN_SETTINGS.fields})
"""Schema of a provenance record's ``settings``: either kind (the shared fields agree)."""
