"""The STGS strategy (see :mod:`automm_stgs` for the readings of the M samples)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
import torch.nn.functional as F
from automm_darts.strategy import DartsStrategy
from torch import Tensor

from automm.errors import AutommError
from automm_stgs import ALIASES, ENSEMBLES, OPTIONS


class StgsStrategy(DartsStrategy):
    """Straight-through Gumbel-softmax with M samples per choice and step."""

    name = "stgs"
    options = OPTIONS
    arch_betas = (0.9, 0.999)

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        self._check()

    def _check(self) -> None:
        p = self.params
        p["ensemble"] = ALIASES.get(p["ensemble"], p["ensemble"])
        if not p["temperature"] > 0:
            raise AutommError(f"stgs: temperature must be > 0 (got {p['temperature']})")
        if p["samples"] < 1:
            raise AutommError(f"stgs: samples must be >= 1 (got {p['samples']})")
        if p["ensemble"] not in ENSEMBLES:
            raise AutommError(f"stgs: ensemble must be one of {', '.join(ENSEMBLES)} "
                              f"(got {p['ensemble']!r})")

    @property
    def single_path(self) -> bool:
        """Whether training weights are one-hot per example (the derived network's family)."""
        return self.params["ensemble"] in ("split", "max-soft")

    def sample(self, logits: Tensor, count: int | None = None) -> tuple[Tensor, Tensor]:
        """``count`` (default M) soft samples ``y`` and their one-hot samples ``h``, both
        ``(count, *logits.shape)``, from one draw of uniform noise."""
        count = self.params["samples"] if count is None else count
        u = torch.rand((count, *logits.shape), dtype=logits.dtype, device=logits.device)
        gumbel = -torch.log(-torch.log(u.clamp_min(torch.finfo(u.dtype).tiny)))
        perturbed = logits + gumbel
        soft = torch.softmax(perturbed / self.params["temperature"], dim=-1)
        hard = F.one_hot(perturbed.argmax(dim=-1), logits.shape[-1]).to(logits.dtype)
        return soft, hard

    def relax(self, logits: Tensor, training: bool, batch: int | None = None) -> Tensor:
        if not training:
            return torch.softmax(logits, dim=-1)
        ensemble = self.params["ensemble"]
        if ensemble == "split":
            return self._split(logits, batch)
        soft, hard = self.sample(logits)
        if ensemble == "max-soft":
            y = soft.amax(dim=0)
            h = F.one_hot(y.argmax(dim=-1), logits.shape[-1]).to(logits.dtype)
        elif ensemble == "max-hard":
            h, y = hard.amax(dim=0), soft.amax(dim=0)
        else:
            h, y = hard.mean(dim=0), soft.mean(dim=0)
        return h + (y - y.detach())

    def _split(self, logits: Tensor, batch: int | None) -> Tensor:
        """``(batch, *logits.shape)``: example ``b`` runs architecture ``b * A // batch`` of
        ``A = min(M, batch)`` one-hot architectures; without a batch, one architecture."""
        count = 1 if batch is None else min(self.params["samples"], batch)
        soft, hard = self.sample(logits, count)
        w = hard + (soft - soft.detach())
        if batch is None:
            return w[0]
        group = torch.arange(batch, device=logits.device) * count // batch
        return w[group]

    def effective_samples(self, batch_size: int) -> int:
        """Architectures one step runs: M, but under ``split`` at most one per example."""
        samples = self.params["samples"]
        return min(samples, batch_size) if self.params["ensemble"] == "split" else samples

    def search_record(self, batch_size: int) -> dict[str, Any]:
        return {"effective_samples": self.effective_samples(batch_size)}

    def notes(self, batch_size: int) -> list[str]:
        samples, runs = self.params["samples"], self.effective_samples(batch_size)
        if runs == samples:
            return []
        return [f"stgs: samples M={samples} > batch {batch_size}: each step runs {runs} architectures "
                "(one per example)"]

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        super().load_state_dict(state)
        self._check()
