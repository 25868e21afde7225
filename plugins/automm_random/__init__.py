"""automm_random: random search with weight sharing (Li & Talwalkar, "Random Search and
Reproducibility for Neural Architecture Search", UAI 2019), the baseline of every comparison.

- Supernet: trained on uniformly sampled single paths, one architecture per example (as
  ``stgs --ensemble split`` with uniform logits and M = batch), so the single-path weight steps
  run only the chosen candidates.
- Logits: constant zeros, never trained: the search runs weight steps only (:meth:`step`), no
  architecture steps; the entropy stays at uniform and the search never converges.
- Derivation: every epoch a uniformly random architecture (each op uniform, each node's input
  slots a uniform tuple of distinct candidates where the space allows), drawn from torch's global
  RNG (seeded by ``--seed``, restored on resume). It is scored exactly as the other strategies'
  derived architectures: with ``--select best`` (the default, the paper's random search) the best
  of the epochs' draws by validation AUC after the same short fine-tune; with ``--select final``
  the last epoch's draw, scored once.
"""

from __future__ import annotations

import automm
from automm._lazy import lazy_exports
from automm.registry import LazyComponent

__getattr__, __dir__ = lazy_exports(__name__, {"RandomStrategy": ".strategy"})


@automm.hookimpl
def automm_register_strategies(register) -> None:
    """Register ``random``."""
    register("random", LazyComponent("automm_random.strategy:RandomStrategy", name="random", options=()))
