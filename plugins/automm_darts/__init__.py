"""automm_darts: the DARTS softmax relaxation (Liu et al., ICLR 2019), first order.

Every choice's weights are ``softmax(phi)`` in training and in evaluation; the architecture is
derived by the base class (argmax per op, the best pair of distinct candidates per node).
Subclasses change the relaxation by overriding :meth:`DartsStrategy.relax` only (as GDAS is
DARTS with the sampling overridden): ``automm_stgs`` does so.
"""

from __future__ import annotations

import automm
from automm._lazy import lazy_exports
from automm.registry import LazyComponent

__getattr__, __dir__ = lazy_exports(__name__, {"DartsStrategy": ".strategy"})


@automm.hookimpl
def automm_register_strategies(register) -> None:
    """Register ``darts``."""
    register("darts", LazyComponent("automm_darts.strategy:DartsStrategy", name="darts", options=()))
