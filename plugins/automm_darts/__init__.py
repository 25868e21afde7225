"""automm_darts: the DARTS softmax relaxation (Liu et al., ICLR 2019), first order.

Every choice's weights are ``softmax(phi)`` in training and in evaluation; the architecture is
derived by the base class (argmax per op, the best pair of distinct candidates per node).
Architecture optimiser: Adam, lr 3e-3, betas (0.5, 0.999), L2 weight decay 1e-3 (DARTS's
settings), configurable with ``--arch-optimizer``, ``--arch-lr`` and ``--arch-weight-decay``.
Subclasses change the relaxation by overriding :meth:`DartsStrategy.relax` only (as GDAS is
DARTS with the sampling overridden): ``automm_stgs`` does so.
"""

from __future__ import annotations

import automm
from automm._lazy import lazy_exports
from automm.registry import LazyComponent
from automm.strategy import arch_options

OPTIONS = arch_options("adam", lr=3e-3, weight_decay=1e-3)
"""The options of ``automm search --strategy darts``: the architecture optimiser's."""

__getattr__, __dir__ = lazy_exports(__name__, {"DartsStrategy": ".strategy"})


@automm.hookimpl
def automm_register_strategies(register) -> None:
    """Register ``darts``."""
    register("darts", LazyComponent("automm_darts.strategy:DartsStrategy", name="darts", options=OPTIONS))
