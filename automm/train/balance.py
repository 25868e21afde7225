"""Class balance for skewed data (FakeAVCeleb has about 20 fakes per real video).

- ``none``: plain cross-entropy, batches drawn uniformly;
- ``class-weight`` (the default): cross-entropy weighted by ``n / (K * n_c)`` per class, from
  the counts of the split being trained on, so every class contributes equally to the loss;
- ``oversample``: each training epoch draws as many positions as the split has, with
  replacement, every class equally likely (a weighted random sampler); the loss is plain.

Evaluation passes (validation, test) are never balanced: their loss and metrics are as measured.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from automm.data.cache import FeatureCache
from automm.data.splits import split_counts
from automm.train.settings import check_balance


class Balance:
    """How one split's training batches are drawn and their loss weighted."""

    def __init__(self, mode: str, labels: Tensor, num_classes: int) -> None:
        check_balance(mode)
        self.mode = mode
        counts = torch.bincount(labels.cpu(), minlength=num_classes).double()
        present = counts > 0
        per_class = torch.where(present, counts.sum() / (present.sum() * counts.clamp_min(1)), 0.0)
        self.weight = per_class.float().to(labels.device) if mode == "class-weight" else None
        self.sample_weight = (1.0 / counts.clamp_min(1))[labels.cpu()] if mode == "oversample" else None

    def loss(self, logits: Tensor, labels: Tensor) -> Tensor:
        """Mean cross-entropy of a training batch (class-weighted in ``class-weight`` mode)."""
        return F.cross_entropy(logits, labels, weight=self.weight)

    def permutation(self, n: int, generator: torch.Generator) -> Tensor:
        """The positions of one training epoch: a permutation, or in ``oversample`` mode ``n``
        draws with replacement in which every class is equally likely."""
        if self.sample_weight is None:
            return torch.randperm(n, generator=generator)
        return torch.multinomial(self.sample_weight, n, replacement=True, generator=generator)


def class_counts(cache: FeatureCache) -> dict[str, dict[str, int]]:
    """Per split of ``cache``, the number of samples of each class (for metrics and reports)."""
    return split_counts(cache.samples, cache.manifest["classes"])
