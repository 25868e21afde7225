"""automm_stgs: straight-through Gumbel-softmax relaxation with M samples (STGS-BMNAS).

DARTS with only the relaxation replaced (as GDAS is DARTS with the sampling overridden): the
network, the search loop and the derivation are those of :class:`automm_darts.DartsStrategy`.

Training, per choice with logits ``phi`` (K candidates), temperature ``lambda``, M samples:
``G`` is an ``(M, K)`` matrix of Gumbel(0, 1) noise ``-log(-log U)`` drawn in one tensor op
from torch's global RNG (so seeding and RNG-state checkpoints reproduce a run);
``y_m = softmax((phi + G_m) / lambda)`` are the soft samples and ``h_m = one_hot(argmax y_m)``
the hard ones; every reading is straight-through, ``w = h + (y - stopgrad(y))``: forward
values exactly ``h``, the gradient of ``y``. The paper does not say how the M samples combine;
``--ensemble`` offers four readings:

- ``split`` (default; section 3.7: "the goal of the architecture search is to find a high
  performance architecture", ``min E_{A ~ p(alpha, gamma)} L(A)``): M one-hot architectures are
  drawn per step and the batch is cut into M groups of (nearly) equal size, group m running
  architecture m. The loss is the batch mean, so the gradient is the mean of M straight-through
  estimates of the expected loss. One forward pass; single path: every example goes through
  exactly one candidate of each choice. M here is the number of architectures per step, at most
  one per example: with M larger than the batch (the defaults M = 15, batch 8) a step runs
  ``batch`` architectures; ``automm search`` says so in one line and arch.json's strategy entry
  records ``effective_samples`` (:meth:`StgsStrategy.search_record`).
- ``max-soft`` (introduction and Proposition 4: "the maximum of the softmax of the primitive
  operation is picked up"): ``y = max_m y_m`` per candidate, ``h = one_hot(argmax y)``: one
  single-path architecture per step for the whole batch, M samples per choice. At M > 1 the
  winner is the candidate with the largest soft value over M samples, a sharper distribution than
  ``softmax(phi)`` (the issue's measurement: 0.33 for a candidate of probability 0.292 at M = 15),
  so this reading does not estimate the expected loss. Kept as the paper's sentence says it, not
  corrected: an exact draw of ``argmax(phi + G)`` is the M = 1 case, and ``split`` is the reading
  that estimates the expectation.
- ``max-hard`` (ensemble Gumbel-softmax, Chang et al. 2019): ``h = max_m h_m``, a multi-hot mask,
  ``y = max_m y_m``. At K = 5, M = 15 nearly every candidate is on and a node's two input slots
  get the same mixture; kept for comparison (``max`` in runs of automm 0.1 means this).
- ``mean``: ``w = mean_m(h_m + y_m - stopgrad(y_m))`` (forward weights = sample frequencies).

Evaluation (validation during search, deterministic predictions) draws no noise and uses the
architecture probabilities themselves, ``w = softmax(phi)`` (eq. 15), as does
:meth:`probabilities` (entropy, derivation): ``argmax(phi + G)`` does not depend on ``lambda``,
which shapes only the gradient (and, in ``max-soft``, which candidate wins).

Architecture optimiser (``--arch-optimizer``, ``--arch-lr``, ``--arch-weight-decay``): AdamW, lr
0.03, decoupled weight decay 1e-3, betas (0.9, 0.999) by default. The paper's setting (section
4.3: Adam, lr 3e-3, weight decay 1e-3, beta1 0.9) is ``--arch-optimizer adam --arch-lr 3e-3``:
torch's Adam adds the decay to the gradient as an L2 term before normalising it, and the
straight-through gradients (about 3e-4 at lambda = 10) are balanced by it near zero logits, so
the distributions stay near uniform. Measured on a planted sum-signal cache (1 cell, 1 step,
batch 8, 60 steps per epoch, seed 0, lr 3e-3): the cell-input entropy after 10 / 30 / 50 epochs
was 1.65 / 0.82 / 0.70 nats with AdamW, 1.95 / 1.83 / 1.79 with the paper's setting (uniform
2.08); Adam without decay fell as AdamW did. The decoupled decay keeps a small pull towards
uniform without cancelling the gradient. lr 0.03 rather than 3e-3 (docs/results.md, the NAS study,
3,024 architecture steps): on the sum-signal caches the cell-input entropy ends at 0.04-0.09
instead of 0.66-0.74, with the same test AUC (0.970) and planted taps (5/5); on XOR the final
logits find the pair on 3/5 caches instead of 2/5 at about the same test AUC; on the demo corpus
(300 architecture steps) lr 3e-3 leaves the entropy at uniform and lr 0.03 moves it.
"""

from __future__ import annotations

import automm
from automm._lazy import lazy_exports
from automm.registry import LazyComponent
from automm.strategy import StrategyOption, arch_options

ENSEMBLES = ("split", "max-soft", "max-hard", "mean")
ALIASES = {"max": "max-hard"}
"""Names of earlier releases: ``max`` (automm 0.1's default) is ``max-hard``."""

OPTIONS = (
    StrategyOption("temperature", float, 10.0, "Gumbel-softmax temperature lambda (> 0)"),
    StrategyOption("samples", int, 15, "sampling times M: Gumbel samples per choice and step"),
    StrategyOption("ensemble", str, "split",
                   "how the M samples combine: split (the batch split over M one-hot architectures), "
                   "max-soft (one-hot of the max soft sample), max-hard (multi-hot mask) or mean; max: "
                   "the earlier name of max-hard", (*ENSEMBLES, *ALIASES)),
    *arch_options("adamw", lr=0.03, weight_decay=1e-3),
)
"""The options of ``automm search --strategy stgs`` (known without importing torch)."""

__getattr__, __dir__ = lazy_exports(__name__, {"StgsStrategy": ".strategy"})


@automm.hookimpl
def automm_register_strategies(register) -> None:
    """Register ``stgs``."""
    register("stgs", LazyComponent("automm_stgs.strategy:StgsStrategy", name="stgs", options=OPTIONS))
