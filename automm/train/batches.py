"""Batches of a feature cache split: on a GPU, preloaded tensors in its memory when the cache
fits; on the CPU (and on a GPU otherwise), rows gathered from the memory-mapped cache in place
(no copy of the cache: the operating system keeps the pages it reads). Shuffling from a seeded
``torch.Generator``."""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Mapping, Sequence

import numpy as np
import torch
from torch import Tensor

from automm.data.cache import FeatureCache
from automm.errors import CacheError
from automm.train.balance import Balance

GPU_PRELOAD_FRACTION = 0.5
"""On a GPU, caches (the used taps of the requested splits) up to this fraction of its free
memory are loaded into it."""

Batch = tuple[dict[str, Tensor], Tensor, Tensor]
"""(taps, labels, positions within the split)."""


class SplitData:
    """One split of a cache (rows, labels and the taps a network reads) on a device."""

    def __init__(self, cache: FeatureCache, split: str, taps: Sequence[str], device: torch.device,
                 preload: bool, balance: str = "none") -> None:
        self.cache = cache
        self.split = split
        self.taps = list(taps)
        self.device = device
        self.rows = cache.indices(split)
        if self.rows.size == 0:
            notes = cache.manifest.get("source", {}).get("dataset", {}).get("split", {}).get("notes", [])
            why = next((n for n in notes if f"split {split!r}" in n), "re-extract with other --fractions, "
                       "--split random or --linked keep")
            raise CacheError(f"{cache.path}: the {split!r} split is empty ({why})")
        self.labels = torch.from_numpy(cache.labels[self.rows]).to(device)
        self.balance = Balance(balance, self.labels, len(cache.manifest["classes"]))
        self.ids = [cache.samples[r]["id"] for r in self.rows]
        self.tensors: dict[str, Tensor] | None = None
        self.mapped: dict[str, Tensor] = {}
        self.row_index = torch.from_numpy(self.rows)
        if preload:
            self.tensors = {t: x.to(device) for t, x in cache.batch(self.rows, self.taps).items()}
        else:
            with warnings.catch_warnings():  # read-only maps: the tensors are only ever read
                warnings.simplefilter("ignore", UserWarning)
                self.mapped = {t: torch.from_numpy(cache.arrays[t]) for t in self.taps}

    def __len__(self) -> int:
        return int(self.rows.size)

    def get(self, positions: Tensor) -> tuple[dict[str, Tensor], Tensor]:
        """Tap tensors and labels of the given positions within the split."""
        index = positions.to(self.device)
        if self.tensors is not None:
            taps = {t: x.index_select(0, index) for t, x in self.tensors.items()}
        else:
            rows = self.row_index.index_select(0, positions.cpu())
            taps = {t: x.index_select(0, rows).to(self.device, non_blocking=True)
                    for t, x in self.mapped.items()}
        return taps, self.labels[index]

    def loss(self, logits: Tensor, labels: Tensor) -> Tensor:
        """Training loss of a batch of this split (class-weighted when its balance says so)."""
        return self.balance.loss(logits, labels)

    def num_batches(self, batch_size: int, train: bool = False) -> int:
        """How many batches :meth:`batches` yields."""
        full, rest = divmod(len(self), batch_size)
        return full + (1 if rest > (1 if train else 0) else 0)

    def order(self, batch_size: int, generator: torch.Generator | None, train: bool = False
              ) -> list[Tensor]:
        """Positions of each batch: shuffled with ``generator`` (in order without one).

        In training a last batch of a single sample is dropped (batch norm needs two), and the
        split's class balance (``oversample``) decides the positions.
        """
        n = len(self)
        if generator is None:
            perm = torch.arange(n)
        else:
            perm = self.balance.permutation(n, generator) if train else torch.randperm(n, generator=generator)
        return list(perm.split(batch_size))[: self.num_batches(batch_size, train)]

    def batches(self, batch_size: int, generator: torch.Generator | None = None,
                train: bool = False) -> Iterator[Batch]:
        """Yield ``(taps, labels, positions)`` batches (see :meth:`order`)."""
        for positions in self.order(batch_size, generator, train):
            yield *self.get(positions), positions


MIN_SPLIT_SAMPLES = 2
"""Fewest samples of a split a run trains on or selects with (``train``, ``val``): batch norm
trains on two, and one validation sample cannot rank architectures or epochs."""


def require_split_sizes(cache: FeatureCache, data: Mapping[str, SplitData], splits: Sequence[str]) -> None:
    """Raise :class:`CacheError` naming the cache when a split of ``splits`` holds fewer than
    :data:`MIN_SPLIT_SAMPLES` samples (the same check for search and evaluate, verified or not)."""
    for name in splits:
        if len(data[name]) < MIN_SPLIT_SAMPLES:
            raise CacheError(f"{cache.path}: the {name!r} split needs at least {MIN_SPLIT_SAMPLES} samples "
                             f"(it has {len(data[name])})")


def load_splits(cache: FeatureCache, splits: Sequence[str], taps: Sequence[str],
                device: torch.device, preload_bytes: int | None = None, balance: str = "none"
                ) -> dict[str, SplitData]:
    """The requested splits of ``cache`` restricted to ``taps``, training batches balanced by
    ``balance``; preloaded onto ``device`` when they fit in ``preload_bytes`` together (default:
    on a GPU, :data:`GPU_PRELOAD_FRACTION` of its free memory; on the CPU never, the memory map
    being as fast without a copy)."""
    cache.require_taps(taps)
    if preload_bytes is None:
        preload_bytes = (int(torch.cuda.mem_get_info(device)[0] * GPU_PRELOAD_FRACTION)
                         if device.type == "cuda" else -1)
    rows = sum(int(cache.indices(s).size) for s in splits)
    per_row = sum(int(np.prod(cache.taps[t])) * 4 for t in taps)
    preload = rows * per_row <= preload_bytes
    return {s: SplitData(cache, s, taps, device, preload, balance) for s in splits}
