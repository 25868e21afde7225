"""Strategy base class: owns architecture logits and turns them into weights."""

from __future__ import annotations

import itertools
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import torch
from torch import Tensor, nn

from automm.errors import AutommError
from automm.ir.architecture import Architecture
from automm.ir.space import INPUT, Choice, SearchSpace


@dataclass(frozen=True)
class StrategyOption:
    """A strategy parameter exposed as ``--<name>`` on ``automm search``."""

    name: str
    type: type
    default: Any
    help: str


class Strategy(ABC):
    """Relaxation + derivation contract used by the search loop.

    Subclasses set ``name`` and ``options`` and implement :meth:`weights`.
    """

    name: ClassVar[str] = ""
    options: ClassVar[tuple[StrategyOption, ...]] = ()

    def __init__(self, **params: Any) -> None:
        known = {o.name: o for o in self.options}
        unknown = sorted(set(params) - set(known))
        if unknown:
            raise AutommError(f"strategy {self.name!r} has no parameter(s) {', '.join(unknown)}; "
                              f"known: {', '.join(known) or 'none'}")
        self.params: dict[str, Any] = {o.name: o.default for o in self.options}
        for key, value in params.items():
            if value is not None:
                self.params[key] = known[key].type(value)

    def init_arch_params(self, space: SearchSpace,
                         generator: torch.Generator | None = None) -> dict[str, nn.Parameter]:
        """Small random logits, one vector per choice."""
        return {name: nn.Parameter(1e-3 * torch.randn(len(c.candidates), generator=generator))
                for name, c in space.choices.items()}

    @abstractmethod
    def weights(self, choice: Choice, logits: Tensor, training: bool) -> Tensor:
        """Weights over ``choice``'s candidates used by the supernet's forward."""

    def all_weights(self, space: SearchSpace, logits: Mapping[str, Tensor],
                    training: bool) -> dict[str, Tensor]:
        """Weights for every choice (subclasses may vectorise this)."""
        return {name: self.weights(c, logits[name], training) for name, c in space.choices.items()}

    def probabilities(self, logits: Tensor) -> Tensor:
        """The categorical distribution a logit vector stands for (entropy, derivation)."""
        return torch.softmax(logits.detach(), dim=-1)

    def on_epoch_end(self, epoch: int) -> None:
        """Schedules (e.g. temperature); nothing by default."""

    def derive(self, space: SearchSpace, logits: Mapping[str, Tensor]) -> Architecture:
        """Argmax per op; a node's input slots take the best pair of distinct candidates."""
        choices: dict[str, str] = {}
        slots: dict[str, list[Choice]] = {}
        for c in space.choices.values():
            if c.kind == INPUT:
                slots.setdefault(c.node, []).append(c)
            else:
                choices[c.name] = c.candidates[int(self.probabilities(logits[c.name]).argmax())]
        for node_slots in slots.values():
            choices.update(self.derive_slots(node_slots, logits))
        ordered = {name: choices[name] for name in space.choices}
        return Architecture(space.name, space.config.to_dict(), ordered,
                            strategy=self.record())

    def derive_slots(self, slots: list[Choice], logits: Mapping[str, Tensor]) -> dict[str, str]:
        """Selections of one node's input slots: the product-best tuple of distinct candidates
        (falls back to repeats only when there are fewer candidates than slots)."""
        probs = [self.probabilities(logits[c.name]) for c in slots]
        sizes = [len(c.candidates) for c in slots]
        best, best_score = None, -1.0
        distinct = all(len(c.candidates) >= len(slots) for c in slots)
        for combo in itertools.product(*(range(n) for n in sizes)):
            if distinct and len({slots[i].candidates[k] for i, k in enumerate(combo)}) < len(slots):
                continue
            score = float(torch.prod(torch.stack([p[k] for p, k in zip(probs, combo, strict=True)])))
            if score > best_score:
                best, best_score = combo, score
        assert best is not None
        return {c.name: c.candidates[k] for c, k in zip(slots, best, strict=True)}

    def record(self) -> dict[str, Any]:
        """The strategy entry of arch.json: name and parameters."""
        return {"name": self.name, **self.params}

    def state_dict(self) -> dict[str, Any]:
        """Strategy state for checkpoints (parameters and schedules)."""
        return {"params": dict(self.params)}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore :meth:`state_dict`."""
        self.params.update(state.get("params", {}))
