"""Dataset layouts (what dataset plugins register) and identity-disjoint splits."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

from automm.data.names import SPLITS


@dataclass(frozen=True)
class MediaSample:
    """One video of a dataset.

    ``id`` is unique within the dataset (the path relative to its root); ``label`` is
    0 for real and 1 for fake; ``identities`` lists every person involved (a fake may
    carry a source and a target identity), the first being the primary ``identity``.
    """

    id: str
    path: Path
    label: int
    identities: tuple[str, ...]
    category: str = ""

    @property
    def identity(self) -> str:
        """The primary identity."""
        return self.identities[0]


@runtime_checkable
class DatasetLayout(Protocol):
    """What ``automm_register_datasets`` registers: a layout of videos on disk."""

    description: str

    def detect(self, root: Path) -> bool:
        """Whether ``root`` looks like this layout (used when ``--dataset`` is omitted)."""

    def samples(self, root: Path) -> list[MediaSample]:
        """Every video under ``root`` with its label and identities."""


def identity_disjoint_split(
    samples: Sequence[MediaSample],
    fractions: Sequence[float] = (0.7, 0.15, 0.15),
    seed: int = 0,
) -> dict[str, str]:
    """Assign each sample id to train/val/test so that no identity is in two splits.

    Identities linked by a sample (e.g. source and target of a face swap) form one
    group; groups are shuffled with ``seed`` and dealt to the splits until each split
    reaches its fraction of the samples.
    """
    parent: dict[str, str] = {}

    def find(a: str) -> str:
        parent.setdefault(a, a)
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    for s in samples:
        root = find(s.identities[0])
        for other in s.identities[1:]:
            parent[find(other)] = root
    groups: dict[str, list[MediaSample]] = {}
    for s in samples:
        groups.setdefault(find(s.identity), []).append(s)
    keys = sorted(groups)
    random.Random(seed).shuffle(keys)
    total = len(samples)
    targets = [f * total for f in fractions]
    counts = [0.0] * len(SPLITS)
    out: dict[str, str] = {}
    for key in keys:
        # the split furthest below its target takes the next group (a zero fraction takes none)
        k = max((i for i in range(len(SPLITS)) if targets[i] > 0),
                key=lambda i: (targets[i] - counts[i]) / targets[i])
        for s in groups[key]:
            out[s.id] = SPLITS[k]
        counts[k] += len(groups[key])
    return out
