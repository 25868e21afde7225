"""Dataset layouts (what dataset plugins register) and identity-disjoint splits."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

from automm.data.names import SPLITS
from automm.errors import DataError


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
    """What ``automm_register_datasets`` registers: a layout of videos on disk.

    Optional attributes: ``priority`` (int, default 0: when ``--dataset`` is not given, layouts
    are tried from the highest priority down, so a specific layout outranks a generic one),
    ``primary_identity`` (a sentence saying where a sample's first identity comes from) and
    ``example(root)`` (writes a tiny tree of this layout, empty video files allowed, for
    :func:`automm.testing.check_dataset`).
    """

    description: str

    def detect(self, root: Path) -> bool:
        """Whether ``root`` looks like this layout (used when ``--dataset`` is omitted)."""

    def samples(self, root: Path) -> list[MediaSample]:
        """Every video under ``root`` with its label and identities."""


def detect_layout(root: Path) -> str:
    """The registered dataset layout that recognises ``root``, highest ``priority`` first (ties
    by name); none is a one-line :class:`DataError`."""
    from automm import plugins

    names = sorted(plugins.datasets.list(),
                   key=lambda n: (-getattr(plugins.datasets.get(n), "priority", 0), n))
    for name in names:
        if plugins.datasets.get(name).detect(root):
            return name
    raise DataError(f"{root}: not a known dataset layout (known: {', '.join(names)}); "
                    "pass --dataset NAME")


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
