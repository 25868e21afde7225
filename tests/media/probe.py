"""A linear probe: held-out-identity AUC of logistic regression on time-pooled cache features."""

from __future__ import annotations

import numpy as np
import torch

from automm.data import FeatureCache


def auc(scores: np.ndarray, labels: np.ndarray) -> float:
    """Area under the ROC curve (ties count half)."""
    pos, neg = scores[labels == 1], scores[labels == 0]
    greater = (pos[:, None] > neg[None]).sum() + 0.5 * (pos[:, None] == neg[None]).sum()
    return float(greater / (len(pos) * len(neg)))


def identity_groups(samples: list[dict]) -> np.ndarray:
    """Per sample, its group of linked identities (a fake links target and donor)."""
    parent: dict[str, str] = {}

    def find(a: str) -> str:
        parent.setdefault(a, a)
        while parent[a] != a:
            a = parent[a]
        return a

    for s in samples:
        for other in s["identities"][1:]:
            parent[find(other)] = find(s["identities"][0])
    return np.array([find(s["identity"]) for s in samples])


def _fit_predict(x: np.ndarray, y: np.ndarray, test: np.ndarray, decay: float) -> np.ndarray:
    mu, sd = x.mean(0), x.std(0) + 1e-6
    xt = torch.tensor((x - mu) / sd, dtype=torch.float32)
    yt = torch.tensor(y, dtype=torch.float32)
    w = torch.zeros(xt.shape[1], requires_grad=True)
    b = torch.zeros(1, requires_grad=True)
    opt = torch.optim.LBFGS([w, b], max_iter=100, line_search_fn="strong_wolfe")
    balance = (1 - yt).sum() / yt.sum().clamp_min(1)

    def closure() -> torch.Tensor:
        opt.zero_grad()
        loss = torch.nn.functional.binary_cross_entropy_with_logits(xt @ w + b, yt, pos_weight=balance)
        loss = loss + decay * (w * w).sum()
        loss.backward()
        return loss

    opt.step(closure)
    with torch.no_grad():
        return (torch.tensor((test - mu) / sd, dtype=torch.float32) @ w + b).numpy()


def held_out_identity_auc(cache: FeatureCache, labels: np.ndarray, decay: float = 1e-2) -> float:
    """Leave-one-identity-group-out predictions of a logistic regression on every tap
    averaged over time, pooled into one AUC."""
    x = np.concatenate([np.asarray(a).mean(-1) for a in cache.arrays.values()], axis=1)
    groups = identity_groups(cache.samples)
    scores = np.zeros(len(labels))
    for g in np.unique(groups):
        held = groups == g
        scores[held] = _fit_predict(x[~held], labels[~held], x[held], decay)
    return auc(scores, labels)
