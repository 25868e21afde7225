"""Missing-modality and degradation robustness of a trained detector on the test split.

A modality is the prefix of its taps' names (``image`` of ``image/1``..``image/4``). Besides
the clean inputs, each modality is scored

- removed: every one of its taps zeroed, and every one replaced by its mean over the training
  split (per channel and position: what a detector sees on average);
- degraded: Gaussian noise of standard deviation ``level x sd`` added to each of its taps, ``sd``
  being the tap's standard deviation over the training split, for each level of
  :data:`NOISE_LEVELS` (seeded).

Each condition gets AUC, accuracy and EER with bootstrap intervals. The detector *leans on* the
modality whose removal (the more harmful of zeroing and the training mean) lowers the test AUC
most, by at least :data:`LEAN_MARGIN`, and by at least :data:`LEAN_MARGIN` more than the removal
of any other modality; modalities within the margin of the largest drop are leaned on together.
A detector not distinguishable from chance on clean inputs leans on nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn

from automm.fileio import finite_or_none
from automm.train.batches import SplitData
from automm.train.bootstrap import Bootstrap, distinguishable_from_chance
from automm.train.device import autocast
from automm.train.metrics import equal_error_rate
from automm.train.prediction import EVAL_BATCH, predict

FORMAT = "automm.robustness/1"
NOISE_LEVELS = (0.5, 1.0, 2.0)
"""Standard deviations of the added Gaussian noise, in units of each tap's training-split sd."""
NOISE = "Gaussian, standard deviation = level x the tap's standard deviation over the training split"
LEAN_MARGIN = 0.05
"""AUC drop that counts as leaning on a modality (see the module docstring)."""
REMOVALS = {"zero": "zeroed", "mean": "training mean"}


@dataclass(frozen=True)
class Condition:
    """One way of altering the inputs: ``perturbation`` ``none``, ``zero``, ``mean`` or ``noise``
    (at ``level``) of the taps of ``modality``."""

    perturbation: str
    modality: str | None = None
    level: float | None = None

    @property
    def name(self) -> str:
        """``clean``, ``image removed (zeroed)``, ``audio noise 0.5 sd``."""
        if self.perturbation == "none":
            return "clean"
        if self.perturbation == "noise":
            return f"{self.modality} noise {self.level:g} sd"
        return f"{self.modality} removed ({REMOVALS[self.perturbation]})"


def modalities(taps: Sequence[str]) -> dict[str, list[str]]:
    """Taps grouped by modality (the name before the first ``/``), in order."""
    out: dict[str, list[str]] = {}
    for tap in taps:
        out.setdefault(tap.split("/", 1)[0], []).append(tap)
    return out


def conditions(names: Sequence[str], levels: Sequence[float] = NOISE_LEVELS) -> list[Condition]:
    """Clean, then per modality its two removals and its noise levels."""
    out = [Condition("none")]
    for modality in names:
        out += [Condition(kind, modality) for kind in REMOVALS]
        out += [Condition("noise", modality, float(level)) for level in levels]
    return out


@torch.no_grad()
def tap_statistics(split: SplitData) -> tuple[dict[str, Tensor], dict[str, float]]:
    """Per tap of ``split``: the mean sample ``(C, L)`` and the standard deviation of all values."""
    sums: dict[str, Tensor] = {}
    squares: dict[str, Tensor] = {}
    for taps, _, _ in split.batches(EVAL_BATCH):
        for name, x in taps.items():
            x = x.double()
            sums[name] = sums.get(name, 0) + x.sum(0)
            squares[name] = squares.get(name, 0) + (x * x).sum()
    n = len(split)
    means = {name: (s / n).float() for name, s in sums.items()}
    sds = {}
    for name, s in sums.items():
        variance = float(squares[name]) / (n * s.numel()) - float(s.sum() / (n * s.numel())) ** 2
        sds[name] = max(variance, 0.0) ** 0.5
    return means, sds


class Perturbed(nn.Module):
    """``network`` fed inputs altered by ``condition`` (noise drawn from a generator seeded
    with ``seed`` on the inputs' device, so a condition always sees the same noise)."""

    def __init__(self, network: nn.Module, condition: Condition, taps: Sequence[str],
                 means: Mapping[str, Tensor], sds: Mapping[str, float], seed: int = 0) -> None:
        super().__init__()
        self.network, self.condition, self.taps = network, condition, list(taps)
        self.means, self.sds, self.seed = means, sds, seed
        self.generator: torch.Generator | None = None

    def forward(self, taps: Mapping[str, Tensor], weights: Any = None) -> Tensor:
        c = self.condition
        altered = dict(taps)
        for name in self.taps:
            x = altered[name]
            if c.perturbation == "zero":
                altered[name] = torch.zeros_like(x)
            elif c.perturbation == "mean":
                altered[name] = self.means[name].to(x.device, x.dtype).expand_as(x)
            elif c.perturbation == "noise":
                if self.generator is None:
                    self.generator = torch.Generator(device=x.device).manual_seed(self.seed)
                noise = torch.randn(x.shape, generator=self.generator, device=x.device, dtype=x.dtype)
                altered[name] = x + noise * (c.level * self.sds[name])
        return self.network(altered, weights)


def robustness(network: nn.Module, train: SplitData, test: SplitData, bootstrap: Bootstrap, *,
               precision: str = "fp32", levels: Sequence[float] = NOISE_LEVELS, seed: int = 0
               ) -> dict[str, Any]:
    """Score ``network`` on ``test`` under every :func:`conditions` of its taps' modalities
    (statistics from ``train``); the record robustness.json holds (see docs/formats.md)."""
    groups = modalities(test.taps)
    means, sds = tap_statistics(train)
    rows = []
    for condition in conditions(list(groups), levels):
        model = Perturbed(network, condition, groups.get(condition.modality or "", []), means, sds, seed)
        with autocast(test.device, precision):
            scored = predict(model, test)
        m = scored.metrics()
        ci = bootstrap.binary(scored.scores, scored.predicted, scored.labels)
        rows.append({"condition": condition.name, "modality": condition.modality,
                     "perturbation": condition.perturbation, "level": condition.level,
                     "auc": m["auc"], "auc_ci": _list(ci["auc"]), "acc": m["acc"], "acc_ci": _list(ci["acc"]),
                     "eer": equal_error_rate(scored.scores, scored.labels), "eer_ci": _list(ci["eer"])})
    clean = rows[0]
    drops = {modality: clean["auc"] - min(r["auc"] for r in rows if r["modality"] == modality
                                          and r["perturbation"] in REMOVALS) for modality in groups}
    leaning, verdict = leans_on(drops, clean["auc"], distinguishable_from_chance(clean["auc_ci"]))
    return finite_or_none({
        "format": FORMAT, "split": test.split, "samples": len(test), "bootstrap": bootstrap.record(),
        "noise_levels": [float(level) for level in levels],
        "noise": NOISE,
        "modalities": groups, "conditions": rows, "removal_drop": drops,
        "lean_margin": LEAN_MARGIN, "leans_on": leaning, "verdict": verdict})


def leans_on(drops: Mapping[str, float], clean_auc: float, distinguishable: bool | None
             ) -> tuple[list[str], str]:
    """The modalities the detector leans on (module docstring) and the sentence that says so."""
    listed = ", ".join(f"removing {m} lowers the AUC by {d:.2f}" for m, d in drops.items())
    if not distinguishable:
        return [], (f"The detector is not distinguishable from chance on clean inputs (AUC {clean_auc:.2f}), "
                    "so it leans on no modality.")
    top = max(drops.values(), default=0.0)
    if top < LEAN_MARGIN:
        return [], f"No single modality matters by {LEAN_MARGIN:g} AUC or more: {listed}."
    leaning = [m for m, d in drops.items() if d >= LEAN_MARGIN and top - d < LEAN_MARGIN]
    return leaning, f"The detector leans on {' and '.join(leaning)}: {listed}."


def _list(interval: tuple[float, float] | None) -> list[float] | None:
    return None if interval is None else list(interval)
