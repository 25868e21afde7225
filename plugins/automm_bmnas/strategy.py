"""automm_bmnas: BM-NAS (Yin et al., AAAI 2022) as its public reference implementation searches.

- Relaxation: softmax on every choice (:class:`automm_darts.DartsStrategy`), first order.
- Architecture optimiser: Adam, lr 3e-4, betas (0.5, 0.999), weight decay 1e-3.
- Network weights: Adam (lr 1e-3, weight decay 3e-4) with cosine annealing and warm restarts
  (first period 1 epoch, doubling, down to 1e-6); the reference steps it per batch, the search
  loop steps it per epoch, so the lr is held for an epoch at the value the reference starts it at.
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

from collections.abc import Mapping

import torch
from automm_darts.strategy import DartsStrategy
from torch import Tensor, nn

from automm.ir import SearchSpace
from automm.strategy import adam


class BmnasStrategy(DartsStrategy):
    """Softmax relaxation with BM-NAS's optimiser settings and pair-derivation rule."""

    name = "bmnas"
    options = ()
    schedule_per_batch = True

    def arch_optimizer(self, params: list[nn.Parameter]) -> torch.optim.Optimizer:
        return adam(params, lr=3e-4, betas=(0.5, 0.999), weight_decay=1e-3)

    def weight_optimizer(
        self, params: list[nn.Parameter], epochs: int
    ) -> tuple[torch.optim.Optimizer, torch.optim.lr_scheduler.LRScheduler]:
        opt = adam(params, lr=1e-3, weight_decay=3e-4)
        sched = torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=1, T_mult=2, eta_min=1e-6)
        return opt, sched

    def derive_inputs(self, space: SearchSpace, logits: Mapping[str, Tensor]) -> dict[str, str]:
        """Pair rule: the best pair not taken by an earlier node of the same level, else the best."""
        choices: dict[str, str] = {}
        taken: dict[str | None, set[frozenset[str]]] = {}
        for owner, slots in space.input_groups().items():
            level = taken.setdefault(space.graph.nodes[owner].get("cell"), set())
            picked = self.derive_slots(slots, logits, avoid=level)
            level.add(frozenset(picked.values()))
            choices.update(picked)
        return choices
