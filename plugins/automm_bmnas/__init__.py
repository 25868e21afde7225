"""automm_bmnas: BM-NAS (Yin et al., AAAI 2022) as its public reference implementation searches.

- Relaxation: softmax on every choice (:class:`automm_darts.DartsStrategy`), first order.
- Architecture optimiser: Adam, lr 3e-4, betas (0.5, 0.999), L2 weight decay 1e-3 (the
  ``--arch-*`` options' defaults here).
- Network weights: Adam (lr 1e-3, weight decay 3e-4) with cosine annealing and warm restarts
  (first period 1 epoch, doubling, down to 1e-6), stepped after every batch at fractional
  epochs as the reference steps it.
- Derivation: ops by argmax; a node's two input slots by the best-scoring pair
  ``p_j * p_k`` (``j != k``), preferring a pair that no earlier node of the same level has
  taken (earlier steps of the same cell; for a cell's inputs, earlier cells), and falling back to
  the best taken pair when every pair is taken. A pair is taken when the same two candidates were
  selected together (the reference's commented-out ``[j, k] not in selected_edges``; its active
  rule, "at least one candidate not selected before", would crash rather than fall back).

BM-NAS defects not reproduced: the search network feeding one mixture to both inputs of a node
(here each slot is its own choice, and the supernet and the derived network compute the same
thing); architecture weights missing from the state dict (the search loop checkpoints the logits);
step-to-step edges searched but never derived (every slot is derived); a crash with fewer inputs
than steps (the pair rule falls back); model selection on test data (the loop selects on
validation).
"""

from __future__ import annotations

import automm
from automm._lazy import lazy_exports
from automm.registry import LazyComponent
from automm.strategy import arch_options

OPTIONS = arch_options("adam", lr=3e-4, weight_decay=1e-3)
"""The options of ``automm search --strategy bmnas``: the architecture optimiser's."""

__getattr__, __dir__ = lazy_exports(__name__, {"BmnasStrategy": ".strategy"})


@automm.hookimpl
def automm_register_strategies(register) -> None:
    """Register ``bmnas``."""
    register("bmnas", LazyComponent("automm_bmnas.strategy:BmnasStrategy", name="bmnas", options=OPTIONS))
