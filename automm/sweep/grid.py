"""The axes of a sweep (``--grid NAME=V1,V2``, ``--seeds``), their points and the points' keys.

An axis is a strategy option or a space config field; its values are converted with the option's
or the field's type (a tuple field takes ``+``-joined names: ``--grid ops=sum+concat-fc,sum``).
Seeds are the last axis. Torch-free: the command line parses a grid without loading torch.
"""

from __future__ import annotations

import itertools
import math
import re
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from automm.errors import AutommError
from automm.registry import did_you_mean

SEED = "seed"
STRATEGY, SPACE = "strategy", "space"
TUPLE_SEPARATOR = "+"
_UNSAFE = re.compile(r"[^A-Za-z0-9.+-]")


@dataclass(frozen=True)
class Axis:
    """One axis of a grid: ``name`` (a strategy option or space config field, or ``seed``),
    ``kind`` (``strategy``, ``space`` or ``seed``) and its distinct ``values`` in order."""

    name: str
    kind: str
    values: tuple[Any, ...]

    def to_dict(self) -> dict[str, Any]:
        """The axis as recorded in sweep.json (tuple values as lists)."""
        return {"name": self.name, "kind": self.kind, "values": [plain(v) for v in self.values]}


def plain(value: Any) -> Any:
    """``value`` as JSON holds it (tuples become lists)."""
    return list(value) if isinstance(value, tuple) else value


def parse_axis(text: str, strategy_options: Mapping[str, Any], space_fields: Mapping[str, Any]) -> Axis:
    """The axis of ``--grid NAME=V1,V2,...``; ``strategy_options`` and ``space_fields`` map the
    names the grid may vary to their types."""
    name, sep, values = text.partition("=")
    name = name.strip().lstrip("-").replace("-", "_")
    if not sep or not name or not values.strip():
        raise AutommError(f"--grid {text}: expected NAME=V1,V2,...")
    if name == SEED:
        raise AutommError("--grid seed=...: give the seeds with --seeds")
    if name in strategy_options:
        kind, hint = STRATEGY, strategy_options[name]
    elif name in space_fields:
        kind, hint = SPACE, space_fields[name]
    else:
        names = sorted({*strategy_options, *space_fields})
        raise AutommError(f"--grid {text}: {name!r} is neither an option of the strategy nor a config "
                          f"field of the space{did_you_mean(name, names)} (known: {', '.join(names)})")
    converted = [_convert(name, token.strip(), hint) for token in values.split(",") if token.strip()]
    return Axis(name, kind, tuple(dict.fromkeys(converted)))


def seed_axis(text: str) -> Axis:
    """The axis of ``--seeds 0,1,2`` (non-negative integers)."""
    seeds = [_convert(SEED, token.strip(), int) for token in text.split(",") if token.strip()]
    if not seeds or any(s < 0 or s >= 2**63 for s in seeds):
        raise AutommError(f"--seeds {text}: expected non-negative integers, e.g. 0,1,2")
    return Axis(SEED, SEED, tuple(dict.fromkeys(seeds)))


def _convert(name: str, token: str, hint: Any) -> Any:
    if typing.get_origin(hint) is tuple:
        return tuple(v.strip() for v in token.split(TUPLE_SEPARATOR) if v.strip())
    try:
        value = hint(token)
    except ValueError:
        kind = getattr(hint, "__name__", hint)
        raise AutommError(f"--grid {name}: {token!r} is not a valid {kind}") from None
    if isinstance(value, float) and not math.isfinite(value):
        raise AutommError(f"--grid {name}: {token!r} is not a finite number")
    return value


def check_axes(axes: Sequence[Axis]) -> None:
    """Refuse an axis given twice."""
    names = [a.name for a in axes]
    for name in names:
        if names.count(name) > 1:
            raise AutommError(f"--grid {name} is given more than once")


def points(axes: Sequence[Axis]) -> list[dict[str, Any]]:
    """Every combination of the axes' values (the first axis varies slowest)."""
    return [dict(zip((a.name for a in axes), combo, strict=True))
            for combo in itertools.product(*(a.values for a in axes))]


def format_value(value: Any) -> str:
    """A value as it appears in a point key and in tables: ``5``, ``0.5``, ``sum+concat-fc``."""
    if isinstance(value, tuple | list):
        return TUPLE_SEPARATOR.join(map(str, value))
    if isinstance(value, float):
        short = f"{value:g}"
        return short if float(short) == value else repr(value)
    return str(value)


def point_key(values: Mapping[str, Any]) -> str:
    """The readable directory name of a point: ``temperature=5_samples=10_seed=0``."""
    return "_".join(f"{name.replace('_', '-')}={_UNSAFE.sub('-', format_value(v))}"
                    for name, v in values.items())
