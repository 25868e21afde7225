"""Strategy options: parameters a strategy exposes as ``--<name>`` on ``automm search``."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from automm.errors import AutommError


@dataclass(frozen=True)
class StrategyOption:
    """A strategy parameter exposed as ``--<name>`` on ``automm search``."""

    name: str
    type: type
    default: Any
    help: str
    choices: tuple[str, ...] = ()
    """The values a ``str`` option takes (``--help`` and shell completion list them); empty: any."""


ARCH_OPTIMIZERS = ("adam", "adamw")
"""``adam``: weight decay as an L2 term added to the gradient before Adam normalises it;
``adamw``: decoupled weight decay (the logits shrink by ``lr * decay`` per step)."""


def arch_options(optimizer: str = "adam", lr: float = 3e-3, weight_decay: float = 1e-3
                 ) -> tuple[StrategyOption, ...]:
    """The architecture optimiser's options (``--arch-optimizer``, ``--arch-lr``,
    ``--arch-weight-decay``) with a strategy's defaults."""
    return (
        StrategyOption("arch_optimizer", str, optimizer,
                       "optimiser of the architecture logits: adam (weight decay as an L2 term of the "
                       "gradient) or adamw (decoupled weight decay)", ARCH_OPTIMIZERS),
        StrategyOption("arch_lr", float, lr, "learning rate of the architecture logits (> 0)"),
        StrategyOption("arch_weight_decay", float, weight_decay,
                       "weight decay of the architecture logits (>= 0)"),
    )


ARCH_DEFAULTS = {o.name: o.default for o in arch_options()}
"""The architecture optimiser of a strategy that declares none of its options."""


def check_arch_options(strategy: str, params: Mapping[str, Any]) -> None:
    """Raise :class:`AutommError` (one line) for a bad architecture optimiser option in ``params``
    (options the strategy does not have are skipped)."""
    if params.get("arch_optimizer", "adam") not in ARCH_OPTIMIZERS:
        raise AutommError(f"{strategy}: arch_optimizer must be one of {', '.join(ARCH_OPTIMIZERS)} "
                          f"(got {params['arch_optimizer']!r})")
    lr, decay = params.get("arch_lr", 1.0), params.get("arch_weight_decay", 0.0)
    if not (math.isfinite(lr) and lr > 0):
        raise AutommError(f"{strategy}: arch_lr must be a finite number > 0 (got {lr})")
    if not (math.isfinite(decay) and decay >= 0):
        raise AutommError(f"{strategy}: arch_weight_decay must be a finite number >= 0 (got {decay})")
