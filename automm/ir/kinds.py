"""The IR's node kinds: the value of a graph node's ``kind`` attribute."""

from __future__ import annotations

from enum import Enum


class NodeKind(str, Enum):
    """Kinds of :class:`~automm.ir.SearchSpace` graph nodes; members compare equal to their
    strings, so graphs may hold either."""

    TAP = "tap"
    """A modality feature input (attributes ``modality``, ``channels``)."""
    CELL_INPUT = "cell-input"
    """One input choice; its value is the chosen node (attribute ``cell`` groups slots)."""
    STEP = "step"
    """Two input choices and one op choice; its value is ``op(x, y)``."""
    CELL = "cell"
    """The concatenation of its members, projected back to ``C``."""
    HEAD = "head"
    """Exactly one: its inputs concatenated, pooled and classified."""

    def __str__(self) -> str:
        return self.value
