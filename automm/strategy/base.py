"""Strategy base class: owns architecture logits and turns them into weights."""

from __future__ import annotations

import itertools
import math
from abc import ABC, abstractmethod
from collections.abc import Callable, Collection, Iterable, Mapping
from typing import Any, ClassVar, TypeVar

import torch
from torch import Tensor, nn

from automm.errors import AutommError
from automm.ir.architecture import Architecture
from automm.ir.space import INPUT, Choice, SearchSpace
from automm.strategy.options import ARCH_DEFAULTS, StrategyOption, check_arch_options

T = TypeVar("T")


def adam(params: Iterable[nn.Parameter], *, decoupled: bool = False, **options: Any
         ) -> torch.optim.Optimizer:
    """``torch.optim.Adam`` (``torch.optim.AdamW`` when ``decoupled``: weight decay applied to the
    parameters, not added to the gradient), fused (one kernel for all parameters) where every
    parameter lives on a CPU or CUDA device: the same update, without a Python loop."""
    params = list(params)
    fused = bool(params) and all(isinstance(p, Tensor) and p.device.type in ("cpu", "cuda")
                                 for p in params)
    kind = torch.optim.AdamW if decoupled else torch.optim.Adam
    return kind(params, fused=fused or None, **options)


class Strategy(ABC):
    """Relaxation + derivation contract used by the search loop.

    Subclasses set ``name`` and ``options`` and implement :meth:`weights`.
    """

    name: ClassVar[str] = ""
    options: ClassVar[tuple[StrategyOption, ...]] = ()
    schedule_per_batch: ClassVar[bool] = False
    """Step the weight schedule after every batch (at fractional epochs), not every epoch."""
    default_select: ClassVar[str] = "best"
    """How a search picks its result unless ``--select`` says (:mod:`automm.train.bilevel`)."""
    arch_betas: ClassVar[tuple[float, float]] = (0.5, 0.999)
    """Adam's betas of the architecture optimiser (:meth:`arch_optimizer`)."""

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
        check_arch_options(self.name, self.params)

    @property
    def single_path(self) -> bool:
        """Whether training weights are one-hot per example (each example runs one candidate of
        every choice, as the derived network does): weight steps then run only the chosen
        candidates. False by default."""
        return False

    @property
    def temperature(self) -> float | None:
        """The relaxation's current temperature, logged every epoch (``None``: none); by default
        the ``temperature`` parameter, if the strategy has one."""
        value = self.params.get("temperature")
        return None if value is None else float(value)

    def step(self, weight_step: Callable[[], T], arch_step: Callable[[], None]) -> T:
        """One step of the search loop: by default Algorithm 1's alternation, ``weight_step()``
        (the network weights on a training batch), then ``arch_step()`` (the logits on a
        validation batch); returns what the weight step returns (loss, outputs, labels).
        Override to own the update (e.g. no architecture steps)."""
        result = weight_step()
        arch_step()
        return result

    def init_arch_params(self, space: SearchSpace,
                         generator: torch.Generator | None = None) -> dict[str, nn.Parameter]:
        """Small random logits, one vector per choice."""
        return {name: nn.Parameter(1e-3 * torch.randn(len(c.candidates), generator=generator))
                for name, c in space.choices.items()}

    @abstractmethod
    def weights(self, choice: Choice, logits: Tensor, training: bool,
                batch: int | None = None) -> Tensor:
        """Weights over ``choice``'s candidates used by the supernet's forward: ``(K,)`` shared
        by the batch, or ``(batch, K)`` per example (only when ``batch`` is given: the number of
        examples of the forward they are for)."""

    def all_weights(self, space: SearchSpace, logits: Mapping[str, Tensor], training: bool,
                    batch: int | None = None) -> dict[str, Tensor]:
        """Weights for every choice (subclasses may vectorise this)."""
        return {name: self.weights(c, logits[name], training, batch)
                for name, c in space.choices.items()}

    def probabilities(self, logits: Tensor) -> Tensor:
        """The categorical distribution a logit vector stands for (entropy, derivation)."""
        return torch.softmax(logits.detach(), dim=-1)

    def on_epoch_end(self, epoch: int) -> None:  # noqa: B027
        """Schedules (e.g. temperature); nothing by default."""

    def derive(self, space: SearchSpace, logits: Mapping[str, Tensor]) -> Architecture:
        """Argmax per op; each node's input slots take the best tuple of distinct candidates."""
        choices = {**self.derive_ops(space, logits), **self.derive_inputs(space, logits)}
        ordered = {name: choices[name] for name in space.choices}
        return Architecture(space.name, space.config.to_dict(), ordered,
                            strategy=self.record())

    def derive_ops(self, space: SearchSpace, logits: Mapping[str, Tensor]) -> dict[str, str]:
        """The most probable candidate of every non-input choice."""
        return {c.name: c.candidates[int(self.probabilities(logits[c.name]).argmax())]
                for c in space.choices.values() if c.kind != INPUT}

    def derive_inputs(self, space: SearchSpace, logits: Mapping[str, Tensor]) -> dict[str, str]:
        """Selections of every input slot, one node (:meth:`SearchSpace.input_groups`) at a time."""
        choices: dict[str, str] = {}
        for slots in space.input_groups().values():
            choices.update(self.derive_slots(slots, logits))
        return choices

    def derive_slots(self, slots: list[Choice], logits: Mapping[str, Tensor],
                     avoid: Collection[frozenset[str]] = ()) -> dict[str, str]:
        """Selections of one node's input slots: the tuple of distinct candidates with the best
        product of probabilities (repeats only when there are fewer candidates than slots).

        Tuples whose set of candidates is in ``avoid`` are taken only when no other tuple is left.
        """
        probs = [self.probabilities(logits[c.name]).tolist() for c in slots]
        distinct = all(len(c.candidates) >= len(slots) for c in slots)
        best: tuple[bool, float] | None = None
        picked: list[str] = []
        for combo in itertools.product(*(range(len(c.candidates)) for c in slots)):
            names = [c.candidates[k] for c, k in zip(slots, combo, strict=True)]
            if distinct and len(set(names)) < len(slots):
                continue
            rank = (frozenset(names) not in avoid,
                    math.prod(p[k] for p, k in zip(probs, combo, strict=True)))
            if best is None or rank > best:
                best, picked = rank, names
        return {c.name: name for c, name in zip(slots, picked, strict=True)}

    def arch_optimizer(self, params: list[nn.Parameter]) -> torch.optim.Optimizer:
        """Optimiser of the architecture logits: the strategy's ``arch_optimizer``, ``arch_lr`` and
        ``arch_weight_decay`` options (:func:`automm.strategy.options.arch_options`; a strategy
        without them: Adam, lr 3e-3, L2 weight decay 1e-3) with :attr:`arch_betas`."""
        o = ARCH_DEFAULTS | {k: v for k, v in self.params.items() if k in ARCH_DEFAULTS}
        return adam(params, decoupled=o["arch_optimizer"] == "adamw", lr=o["arch_lr"],
                    betas=self.arch_betas, weight_decay=o["arch_weight_decay"])

    def weight_optimizer(
        self, params: list[nn.Parameter], epochs: int
    ) -> tuple[torch.optim.Optimizer, torch.optim.lr_scheduler.LRScheduler]:
        """Optimiser and per-epoch schedule of the network weights
        (paper: Adam, lr 3e-3, weight decay 3e-3, cosine schedule)."""
        opt = adam(params, lr=3e-3, weight_decay=3e-3)
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(epochs, 1), eta_min=1e-4)
        return opt, sched

    def record(self) -> dict[str, Any]:
        """The strategy entry of arch.json: name and parameters."""
        return {"name": self.name, **self.params}

    def search_record(self, batch_size: int) -> dict[str, Any]:
        """Entries a search at ``batch_size`` adds to the strategy entry of arch.json (what the
        parameters amount to there); none by default."""
        return {}

    def notes(self, batch_size: int) -> list[str]:
        """One-line notes ``automm search`` prints at the start of a search at ``batch_size``
        (e.g. a parameter capped by the batch); none by default."""
        return []

    def state_dict(self) -> dict[str, Any]:
        """Strategy state for checkpoints (parameters and schedules)."""
        return {"params": dict(self.params)}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore :meth:`state_dict`."""
        self.params.update(state.get("params", {}))
        check_arch_options(self.name, self.params)
