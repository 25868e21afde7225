"""Predictions of a network on a split, and model selection by their metrics."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from automm.train.batches import SplitData
from automm.train.metrics import accuracy, roc_auc

EVAL_BATCH = 256
"""Batch size of evaluation passes (no gradients, so larger than the training batch)."""

@dataclass
class Predictions:
    """Outputs of a network on one split: mean loss, P(class 1) per sample, predicted classes."""

    loss: float
    scores: np.ndarray
    predicted: np.ndarray
    labels: np.ndarray

    def metrics(self) -> dict[str, float]:
        """``loss``, ``acc`` and ``auc``."""
        return {"loss": self.loss, "acc": accuracy(self.predicted, self.labels),
                "auc": roc_auc(self.scores, self.labels)}


@torch.no_grad()
def predict(model: nn.Module, data: SplitData, weights: Mapping[str, Tensor] | None = None,
            batch_size: int = EVAL_BATCH) -> Predictions:
    """Evaluate ``model`` (in eval mode) on every sample of ``data`` in order."""
    was_training = model.training
    model.eval()
    losses, probs = [], []
    try:
        for taps, labels, _ in data.batches(batch_size):
            logits = model(taps, weights)
            losses.append(F.cross_entropy(logits, labels, reduction="sum"))
            probs.append(torch.softmax(logits.float(), dim=-1))
    finally:
        model.train(was_training)
    p = torch.cat(probs).cpu().numpy()
    return Predictions(float(torch.stack(losses).sum()) / len(data), p[:, 1], p.argmax(axis=1),
                       data.labels.cpu().numpy())


def better(candidate: Mapping[str, float], best: Mapping[str, float] | None) -> bool:
    """Model selection: higher accuracy wins, ties go to the lower loss (on easy data many epochs
    reach the same accuracy, and the earliest is rarely the best), full ties to ``best``."""
    if best is None:
        return True

    def key(m: Mapping[str, float]) -> tuple[float, float]:
        acc, loss = m.get("acc"), m.get("loss")
        return (-1.0 if acc is None or np.isnan(acc) else acc,
                -np.inf if loss is None or np.isnan(loss) else -loss)

    return key(candidate) > key(best)
