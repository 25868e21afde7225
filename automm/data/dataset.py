"""Dataset layouts (what dataset plugins register) and their samples."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

from automm.errors import DataError


@dataclass(frozen=True)
class MediaSample:
    """One video of a dataset.

    ``id`` is unique within the dataset (the path relative to its root); ``label`` is
    0 for real and 1 for fake; ``identities`` lists every person involved (a fake may
    carry a source and a target identity), the first being the primary ``identity``.
    ``category`` and ``method`` name the kind of video where the layout knows it (e.g.
    FakeAVCeleb's ``FakeVideo-RealAudio`` and ``faceswap``); empty when it does not.
    """

    id: str
    path: Path
    label: int
    identities: tuple[str, ...]
    category: str = ""
    method: str = ""

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


class UnknownLayoutError(DataError):
    """No registered dataset layout recognises a directory."""


def detect_layout(root: Path) -> str:
    """The registered dataset layout that recognises ``root``, highest ``priority`` first (ties
    by name); none is a one-line :class:`UnknownLayoutError`."""
    from automm import plugins

    names = sorted(plugins.datasets.list(),
                   key=lambda n: (-getattr(plugins.datasets.get(n), "priority", 0), n))
    for name in names:
        if plugins.datasets.get(name).detect(root):
            return name
    raise UnknownLayoutError(f"{root}: not a known dataset layout (known: {', '.join(names)})")

