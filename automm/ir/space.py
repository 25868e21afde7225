"""The search-space IR: a graph of data nodes plus named choices."""

from __future__ import annotations

import dataclasses
import math
import typing
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import networkx as nx

from automm.errors import ArchitectureError
from automm.ir.kinds import NodeKind

INPUT = "input"
OP = "op"


@dataclass(frozen=True)
class Choice:
    """A named decision with an ordered list of candidates.

    ``kind`` is ``"input"`` (pick one candidate node) or ``"op"`` (pick one op name);
    ``family`` groups choices for entropy logging (e.g. ``cell-input``, ``step-input``, ``op``);
    ``node`` is the graph node the choice belongs to.
    """

    name: str
    kind: str
    family: str
    node: str
    candidates: tuple[str, ...]


@dataclass(frozen=True)
class SpaceConfig:
    """Base of space hyper-parameters; subclasses add fields with defaults.

    ``limits`` bounds numeric fields (for a dict field: each value) to ``(low, high)``
    inclusive; :meth:`from_dict` enforces them, so a config read from a file can neither
    allocate without bound nor build a degenerate space. Tuples and dicts hold at most
    :data:`MAX_ITEMS` items.
    """

    limits: ClassVar[Mapping[str, tuple[float, float]]] = {}
    descriptions: ClassVar[Mapping[str, str]] = {}
    """What a field means, for the help of its command-line option (``--C``: the channels C ...)."""
    registries: ClassVar[Mapping[str, str]] = {}
    """A tuple field whose items are names of a registry (``ops``: ``fusion_ops``, a key of
    :data:`automm.plugins.REGISTRIES`): its option's help and shell completion list them."""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (tuples become lists)."""
        return _jsonable(dataclasses.asdict(self))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SpaceConfig:
        """Build from a dict; unknown keys or wrong types raise :class:`ArchitectureError`."""
        if not isinstance(data, dict):
            raise ArchitectureError("space config must be an object")
        fields = {f.name: f for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - set(fields))
        if unknown:
            raise ArchitectureError(f"unknown space config key(s): {', '.join(unknown)}")
        hints = typing.get_type_hints(cls)
        values = {k: _coerce(k, v, hints[k]) for k, v in data.items()}
        for key, value in values.items():
            _check_limit(key, value, cls.limits.get(key))
        try:
            config = cls(**values)
        except (TypeError, ValueError) as exc:
            raise ArchitectureError(f"invalid space config: {exc}") from None
        return config


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


MAX_ITEMS = 256
"""Most items of a tuple or dict config field."""


def _check_limit(key: str, value: Any, limit: tuple[float, float] | None) -> None:
    items = value.values() if isinstance(value, dict) else (value,)
    for item in items:
        if isinstance(item, float) and not math.isfinite(item):
            raise ArchitectureError(f"space config {key!r} must be finite")
        if limit is not None and isinstance(item, int | float) and not limit[0] <= item <= limit[1]:
            raise ArchitectureError(f"space config {key!r} must be between {limit[0]} and {limit[1]} "
                                    f"(got {item})")


def _coerce(key: str, value: Any, hint: Any) -> Any:
    origin = typing.get_origin(hint)
    if isinstance(value, list | tuple | dict) and len(value) > MAX_ITEMS:
        raise ArchitectureError(f"space config {key!r} has more than {MAX_ITEMS} items")
    if origin is tuple:
        if not isinstance(value, list | tuple):
            raise ArchitectureError(f"space config {key!r} must be a list")
        item = typing.get_args(hint)[0]
        return tuple(_coerce(f"{key}[]", v, item) for v in value)
    if origin is dict:
        if not isinstance(value, dict):
            raise ArchitectureError(f"space config {key!r} must be an object")
        _, item = typing.get_args(hint)
        return {k: _coerce(f"{key}.{k}", v, item) for k, v in value.items()}
    if hint is int and (not isinstance(value, int) or isinstance(value, bool)):
        raise ArchitectureError(f"space config {key!r} must be an integer")
    if hint is float and (not isinstance(value, int | float) or isinstance(value, bool)):
        raise ArchitectureError(f"space config {key!r} must be a number")
    if hint is str and not isinstance(value, str):
        raise ArchitectureError(f"space config {key!r} must be a string")
    if hint is str and (len(value) > 200 or not value.isprintable()):
        raise ArchitectureError(f"space config {key!r} must be a short printable string")
    return value


class SearchSpace:
    """A search space: a ``networkx.DiGraph`` of data nodes and named :class:`Choice` s.

    Node attribute ``kind`` is a :class:`~automm.ir.kinds.NodeKind` (or its string).
    Tap nodes carry ``modality`` and ``channels``; nodes inside a cell carry ``cell``.
    Edges go from every candidate to the node that may consume it (attribute ``choice``).
    """

    def __init__(self, name: str, config: SpaceConfig, graph: nx.DiGraph, choices: list[Choice]):
        self.name = name
        self.config = config
        self.graph = graph
        self.choices: dict[str, Choice] = {c.name: c for c in choices}

    def choice(self, name: str) -> Choice:
        """The choice called ``name``."""
        try:
            return self.choices[name]
        except KeyError:
            raise ArchitectureError(f"space {self.name!r} has no choice {name!r}") from None

    def nodes_of(self, kind: NodeKind | str) -> list[str]:
        """Nodes of one kind, in insertion order."""
        return [n for n, d in self.graph.nodes(data=True) if d["kind"] == kind]

    @property
    def taps(self) -> list[str]:
        """Feature-tap node names (e.g. ``image/1``)."""
        return self.nodes_of(NodeKind.TAP)

    @property
    def cells(self) -> list[str]:
        """Cell node names in order (a cell node stands for the cell's output)."""
        return self.nodes_of(NodeKind.CELL)

    def steps(self, cell: str) -> list[str]:
        """Step node names of ``cell`` in order."""
        return [n for n in self.nodes_of(NodeKind.STEP) if self.graph.nodes[n]["cell"] == cell]

    def cell_inputs(self, cell: str) -> list[str]:
        """Input node names of ``cell`` in order."""
        return [n for n in self.nodes_of(NodeKind.CELL_INPUT) if self.graph.nodes[n]["cell"] == cell]

    def families(self) -> dict[str, list[Choice]]:
        """Choices grouped by family, in order of first appearance."""
        out: dict[str, list[Choice]] = {}
        for c in self.choices.values():
            out.setdefault(c.family, []).append(c)
        return out

    def uniform_entropy(self) -> dict[str, float]:
        """Per family, the mean over its choices of ``log K`` (K candidates): the entropy of
        uniform distributions, the most a family's entropy (eqs 20-21) can be."""
        return {family: sum(math.log(len(c.candidates)) for c in choices) / len(choices)
                for family, choices in self.families().items()}

    def input_groups(self) -> dict[str, list[Choice]]:
        """Input-slot choices grouped by the node that consumes them together, in order.

        A step's slots are grouped under the step; a cell's slots (nodes of kind ``cell-input``)
        under the cell (their ``cell`` attribute; a cell-input node without one is its own
        group). Derivation gives the slots of one group distinct candidates.
        """
        out: dict[str, list[Choice]] = {}
        for c in self.choices.values():
            if c.kind == INPUT:
                data = self.graph.nodes[c.node]
                owner = data.get("cell", c.node) if data["kind"] == NodeKind.CELL_INPUT else c.node
                out.setdefault(owner, []).append(c)
        return out

    def __repr__(self) -> str:
        return f"SearchSpace({self.name!r}, {len(self.graph)} nodes, {len(self.choices)} choices)"


class SpaceDefinition(ABC):
    """What a space plugin registers: a config type and a builder of :class:`SearchSpace`.

    ``config_type`` is a frozen dataclass subclassing :class:`SpaceConfig`; its simple
    fields (int, float, str, tuple of str) become CLI options (``--cells``, ``--ops a,b``).
    A config field ``tap_channels`` (dict tap -> channels) is filled from the feature cache.
    Turning ``--data`` into a feature cache is not the space's business: plugins implement
    ``automm_prepare_data`` (:func:`automm.data.prepare.resolve_data`).
    """

    config_type: ClassVar[type[SpaceConfig]]
    description: ClassVar[str] = ""

    @abstractmethod
    def build(self, config: SpaceConfig) -> SearchSpace:
        """The search space for ``config``."""

    def default_config(self) -> SpaceConfig:
        """The config with every default."""
        return self.config_type()
