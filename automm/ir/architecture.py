"""Architecture: a frozen selection per choice, and its file form ``arch.json``."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from automm.errors import ArchitectureError, AutommError
from automm.fileio import read_json, write_json
from automm.ir.space import SearchSpace
from automm.provenance import PROVENANCE
from automm.schema import integer, map_of, nullable, number, obj, optional, problem, string
from automm.train.settings import SEED, SELECTS

FORMAT = "automm.arch/1"

_RATE = optional(nullable(number(0, 1)))
METRICS = obj({
    "val_auc": _RATE, "val_acc": _RATE, "params": optional(integer(0)), "search_seconds": optional(number(0)),
    "epochs": optional(integer(0)), "select": optional(string(*SELECTS)), "best_epoch": optional(integer(0)),
    "stopped": optional(string("converged", "max-epochs")), "balance": optional(string()),
    "class_counts": optional(map_of(map_of(integer(0)))),
})
"""Schema of arch.json's ``metrics`` (:func:`automm.run.result.search_architecture`)."""
SCHEMA = obj({
    "format": string(),
    "space": obj({"name": string(), "config": optional(obj())}),
    "choices": map_of(string()),
    "strategy": optional(obj({"name": optional(string()), "seed": optional(SEED)})),
    "metrics": optional(METRICS),
    "provenance": optional(PROVENANCE),
})
"""Schema of arch.json (docs/formats.md); ``space.config`` is checked by the space's config
(types and ``SpaceConfig.limits``), the choices against the space."""


def _frozen(d: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return MappingProxyType(dict(d or {}))


@dataclass(frozen=True)
class Architecture:
    """One point of a search space: choice name -> selected candidate.

    ``strategy``, ``metrics`` and ``provenance`` are free-form records kept in arch.json.
    """

    space: str
    config: Mapping[str, Any]
    choices: Mapping[str, str]
    strategy: Mapping[str, Any] = field(default_factory=dict)
    metrics: Mapping[str, Any] = field(default_factory=dict)
    provenance: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in ("config", "choices", "strategy", "metrics", "provenance"):
            object.__setattr__(self, name, _frozen(getattr(self, name)))

    def __getitem__(self, choice: str) -> str:
        return self.choices[choice]

    def replace(self, **changes: Any) -> Architecture:
        """A copy with some fields replaced."""
        fields = {k: getattr(self, k) for k in
                  ("space", "config", "choices", "strategy", "metrics", "provenance")}
        fields.update(changes)
        return Architecture(**fields)

    def to_dict(self) -> dict[str, Any]:
        """The arch.json document."""
        return {
            "format": FORMAT,
            "space": {"name": self.space, "config": dict(self.config)},
            "choices": dict(self.choices),
            "strategy": dict(self.strategy),
            "metrics": dict(self.metrics),
            "provenance": dict(self.provenance),
        }

    def validate(self, space: SearchSpace) -> None:
        """Raise :class:`ArchitectureError` unless every choice of ``space`` has a valid selection."""
        for name, selected in self.choices.items():
            choice = space.choices.get(name)
            if choice is None:
                raise ArchitectureError(f"choice {name!r} does not exist in space {space.name!r}")
            if selected not in choice.candidates:
                raise ArchitectureError(
                    f"choice {name!r}: {selected!r} is not a candidate "
                    f"(candidates: {', '.join(choice.candidates)})")
        missing = [n for n in space.choices if n not in self.choices]
        if missing:
            raise ArchitectureError(f"missing choice(s): {', '.join(missing[:5])}"
                                    + (" ..." if len(missing) > 5 else ""))


def build_space_for(arch: Architecture) -> SearchSpace:
    """Rebuild the search space an architecture was selected from (via the space registry)."""
    from automm.factory import create_space

    return create_space(arch.space, arch.config)


def architecture_from_dict(doc: Any) -> Architecture:
    """Parse and validate an arch.json document (raises :class:`AutommError`)."""
    if isinstance(doc, dict) and doc.get("format") != FORMAT:
        raise ArchitectureError(f"unsupported format {doc.get('format')!r:.60} (expected {FORMAT!r})")
    found = problem(doc, SCHEMA)
    if found is not None:
        raise ArchitectureError(found)
    space, choices = doc["space"], doc["choices"]
    config = space.get("config", {})
    records = {key: doc.get(key, {}) for key in ("strategy", "metrics", "provenance")}
    unknown = sorted(set(doc) - {"format", "space", "choices", "strategy", "metrics", "provenance"})
    if unknown:
        raise ArchitectureError(f"unknown key(s): {', '.join(unknown)}")
    arch = Architecture(space["name"], config, choices, **records)
    arch.validate(build_space_for(arch))
    return arch


def load_architecture(path: str | os.PathLike[str]) -> Architecture:
    """Read and validate ``arch.json``; every problem is one error naming the file."""
    p = Path(path)
    doc = read_json(p, ArchitectureError)
    try:
        return architecture_from_dict(doc)
    except AutommError as exc:
        raise type(exc)(f"{p}: {exc}") from None


def save_architecture(arch: Architecture, path: str | os.PathLike[str]) -> None:
    """Write ``arch.json`` atomically."""
    write_json(path, arch.to_dict())
