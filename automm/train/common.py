"""Pieces shared by the search loop and the retraining loop."""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn
from tqdm.auto import tqdm

from automm.data.cache import FeatureCache
from automm.errors import AutommError
from automm.fileio import write_text
from automm.ir.architecture import Architecture
from automm.ir.space import SearchSpace
from automm.nn.network import FusionNetwork
from automm.train.batches import SplitData
from automm.train.metrics import accuracy, finite_or_none, roc_auc

EVAL_BATCH = 256
"""Batch size of evaluation passes (no gradients, so larger than the training batch)."""

EpochCallback = Callable[[dict[str, Any]], None]
"""Called with each epoch's record (e.g. to print it)."""


def data_record(cache: FeatureCache) -> dict[str, Any]:
    """The ``provenance.data`` entry of arch.json for ``cache``: path, fingerprint, source."""
    return {"path": str(cache.path.resolve()), "fingerprint": cache.fingerprint,
            "source": cache.manifest.get("source", {})}


def resolve_device(name: str) -> torch.device:
    """``auto`` (CUDA when available, else the CPU), ``cpu`` or ``cuda[:k]``; CUDA without a GPU
    is an error."""
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    try:
        device = torch.device(name)
    except RuntimeError:
        raise AutommError(f"unknown device {name!r} (use auto, cpu or cuda)") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise AutommError("--device cuda: no CUDA GPU is available")
    if device.type not in ("cpu", "cuda"):
        raise AutommError(f"unsupported device {name!r} (use auto, cpu or cuda)")
    if device.type == "cpu":
        # Gumbel multi-hot weights and attention softmaxes underflow into denormals, which are
        # 1.3-1.5x slower on CPUs (benchmarks/search_step.py); set before the first parallel op.
        torch.set_flush_denormal(True)
    return device


def autocast(device: torch.device, precision: str) -> contextlib.AbstractContextManager[Any]:
    """bfloat16 autocast on ``device`` when ``precision`` is ``bf16``; else nothing."""
    return torch.autocast(device.type, dtype=torch.bfloat16, enabled=precision == "bf16")


def one_hot_weights(space: SearchSpace, arch: Architecture, device: torch.device | None = None
                    ) -> dict[str, Tensor]:
    """Supernet weights selecting exactly ``arch``: with them the supernet computes the
    derived network's function."""
    out = {}
    for name, choice in space.choices.items():
        w = torch.zeros(len(choice.candidates), device=device)
        w[choice.candidates.index(arch[name])] = 1.0
        out[name] = w
    return out


def weight_update(network: Callable[..., Tensor], optimizer: torch.optim.Optimizer,
                  taps: Mapping[str, Tensor], labels: Tensor, weights: Mapping[str, Tensor] | None,
                  loss_fn: Callable[[Tensor, Tensor], Tensor], *, hard: bool = False,
                  precision: str = "fp32") -> tuple[Tensor, Tensor]:
    """One optimiser step of the network weights on a batch (forward under ``precision``'s
    :func:`autocast`); returns (loss, class logits).

    ``hard``: the weights are one-hot, so only the chosen candidates run
    (:meth:`FusionNetwork.features`); parameters that took no part get zero gradients, as the full
    mixture gives them, so that the update (weight decay, moments) is the same.
    """
    with autocast(labels.device, precision):
        logits = network(taps, weights, hard=hard)
        loss = loss_fn(logits, labels)
    optimizer.zero_grad(set_to_none=not hard)
    loss.backward()
    if hard:
        for group in optimizer.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    p.grad = torch.zeros_like(p)
    optimizer.step()
    return loss, logits


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


def inherit_weights(derived: FusionNetwork, supernet: FusionNetwork) -> FusionNetwork:
    """Copy the supernet's parameters and buffers into ``derived`` (same names); return it."""
    state = supernet.state_dict()
    derived.load_state_dict({k: state[k] for k in derived.state_dict()})
    return derived


def reset_batch_norm(model: nn.Module) -> None:
    """Forget batch-norm statistics; the next training-mode passes set them to exact averages."""
    for m in model.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            m.reset_running_stats()
            m.momentum = None


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


class RunProgress:
    """One progress bar on stderr over all epochs of a run: the current epoch, the elapsed and
    the remaining time of the whole run (advancing per batch; a resumed run starts at its
    epoch). ``enabled=None`` shows it only when stderr is a terminal."""

    FORMAT = "{desc} {percentage:3.0f}%|{bar}| {elapsed}<{remaining}{postfix}"

    def __init__(self, epochs: int, done: int, enabled: bool | None) -> None:
        self.epochs = epochs
        self.bar = tqdm(total=epochs, initial=done, bar_format=self.FORMAT, leave=False,
                        dynamic_ncols=True, smoothing=0, disable=None if enabled is None else not enabled)

    def __enter__(self) -> RunProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Remove the bar."""
        self.bar.close()

    @contextlib.contextmanager
    def epoch(self, epoch: int, batches: int) -> Iterator[EpochProgress]:
        """Progress within epoch ``epoch`` (1-based) of ``batches`` batches."""
        self.bar.set_description_str(f"epoch {epoch}/{self.epochs}", refresh=False)
        try:
            yield EpochProgress(self.bar, 1 / max(batches, 1))
        except BaseException:
            self.close()  # the error message gets a clean line
            raise
        self.bar.n = epoch  # exact, whatever the rounding of the per-batch steps
        self.bar.refresh()


@dataclass
class EpochProgress:
    """The per-batch view of a :class:`RunProgress`."""

    bar: tqdm
    step: float

    def update(self, batches: int = 1) -> None:
        """Advance by ``batches`` batches."""
        self.bar.update(batches * self.step)

    def set_postfix(self, **values: Any) -> None:
        """Show ``values`` (e.g. the running loss) after the times."""
        self.bar.set_postfix(values, refresh=False)


def write_jsonl(path: str | os.PathLike[str], records: Iterable[Mapping[str, Any]]) -> None:
    """Write one JSON object per line, atomically (non-finite floats become null)."""
    write_text(path, "".join(json.dumps(finite_or_none(dict(r))) + "\n" for r in records))


class Stopwatch:
    """Seconds accumulated across resumed runs."""

    def __init__(self, elapsed: float = 0.0) -> None:
        self._start = time.perf_counter()
        self._base = elapsed

    @property
    def seconds(self) -> float:
        """Seconds so far, including those of earlier runs."""
        return self._base + time.perf_counter() - self._start
