"""Declarative schemas of the files automm reads (arch.json, cache manifests, checkpoint records,
model directories): field -> type, range, choices, optional, nested. :func:`check` refuses the
first problem in one line ``FILE: field a.b.c must be <what> (got <value>)``.

Each file kind's schema lives beside the code that owns the file. Keys a schema does not name
are accepted (files of a newer automm or a plugin may add records), but every number anywhere
in a checked document, named or not, must be finite: the one check of non-finite values on load.
"""

from __future__ import annotations

import dataclasses
import math
import re
import types
import typing
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from automm.errors import AutommError

KINDS = ("integer", "number", "string", "boolean", "object", "list", "map", "any")


@dataclass(frozen=True)
class Spec:
    """What one field holds. ``kind`` is one of :data:`KINDS` (``number``: an integer or a float;
    ``map``: an object whose every value is ``item``); ``optional``: the key may be missing;
    ``null``: ``null`` is accepted; ``low``/``high``: inclusive bounds of a number (or of a
    string's, list's or map's length); ``choices``: the accepted values; ``pattern``: a regular
    expression a string matches in full; ``fields``: an object's named fields; ``item``: the
    items of a list or the values of a map."""

    kind: str
    optional: bool = False
    null: bool = False
    low: float | None = None
    high: float | None = None
    choices: tuple[Any, ...] = ()
    pattern: str | None = None
    fields: Mapping[str, Spec] = field(default_factory=dict)
    item: Spec | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown schema kind {self.kind!r}")

    def describe(self) -> str:
        """What the field must be, in words (``an integer from 1 to 4096``)."""
        if self.choices:
            text = "one of " + ", ".join(repr(c) for c in self.choices)
        else:
            text = {"integer": "an integer", "number": "a finite number", "string": "a string",
                    "boolean": "true or false", "object": "a JSON object", "list": "a list",
                    "map": "a JSON object", "any": "any value"}[self.kind]
            if self.pattern:
                text += f" matching {self.pattern}"
            text += _range(self)
        return f"null or {text}" if self.null else text


def _range(spec: Spec) -> str:
    lo, hi = (None if v is None else str(v) if isinstance(v, int) else f"{v:g}"
              for v in (spec.low, spec.high))
    if lo is None and hi is None:
        return ""
    if spec.kind in ("integer", "number"):
        return f" from {lo} to {hi}" if lo and hi else f" >= {lo}" if lo else f" <= {hi}"
    if spec.kind == "string" and spec.low == 1 and hi is None:
        return " (not empty)"
    unit = " characters" if spec.kind == "string" else " items"
    if lo is not None and lo == hi:
        return f" of exactly {lo}{unit}"
    return (f" of {lo} to {hi}{unit}" if lo and hi else f" of at least {lo}{unit}" if lo
            else f" of at most {hi}{unit}")


# -- constructors -------------------------------------------------------------------------

def integer(low: float | None = None, high: float | None = None, **kw: Any) -> Spec:
    """An integer (not a boolean) in ``[low, high]``."""
    return Spec("integer", low=low, high=high, **kw)


def number(low: float | None = None, high: float | None = None, **kw: Any) -> Spec:
    """A finite integer or float in ``[low, high]``."""
    return Spec("number", low=low, high=high, **kw)


def string(*choices: str, pattern: str | None = None, **kw: Any) -> Spec:
    """A string (one of ``choices`` when given; matching ``pattern`` in full when given)."""
    return Spec("string", choices=choices, pattern=pattern, **kw)


def boolean(**kw: Any) -> Spec:
    """``true`` or ``false``."""
    return Spec("boolean", **kw)


def obj(fields: Mapping[str, Spec] | None = None, **kw: Any) -> Spec:
    """An object with these named fields (others accepted)."""
    return Spec("object", fields=dict(fields or {}), **kw)


def list_of(item: Spec | None = None, low: int | None = None, high: int | None = None, **kw: Any) -> Spec:
    """A list of ``item`` (anything when ``None``) with ``low`` to ``high`` items."""
    return Spec("list", item=item, low=low, high=high, **kw)


def map_of(item: Spec, low: int | None = None, high: int | None = None, **kw: Any) -> Spec:
    """An object whose every value is ``item`` (string keys), ``low`` to ``high`` entries."""
    return Spec("map", item=item, low=low, high=high, **kw)


ANY = Spec("any")


def optional(spec: Spec) -> Spec:
    """``spec`` whose key may be missing."""
    return dataclasses.replace(spec, optional=True)


def nullable(spec: Spec) -> Spec:
    """``spec`` that also accepts ``null``."""
    return dataclasses.replace(spec, null=True)


def dataclass_schema(cls: type, **overrides: Spec) -> Spec:
    """The object schema of the dataclass ``cls`` as ``dataclasses.asdict`` writes it: one
    optional field per dataclass field typed from its annotation (``int``, ``float``, ``str``,
    ``bool``, ``X | None``, tuples and lists), replaced by ``overrides`` where given."""
    hints = typing.get_type_hints(cls)
    fields = {f.name: overrides.get(f.name) or optional(_annotation_spec(hints[f.name]))
              for f in dataclasses.fields(cls)}
    return obj(fields)


def _annotation_spec(annotation: Any) -> Spec:
    args = typing.get_args(annotation)
    if typing.get_origin(annotation) in (typing.Union, types.UnionType) and type(None) in args:
        rest = [a for a in args if a is not type(None)]
        return nullable(_annotation_spec(rest[0]) if len(rest) == 1 else ANY)
    if typing.get_origin(annotation) in (tuple, list):
        return list_of()
    return {int: integer(), float: number(), str: string(), bool: boolean()}.get(annotation, ANY)


# -- checking -----------------------------------------------------------------------------

def problem(value: Any, spec: Spec, path: str = "") -> str | None:
    """The first problem of ``value`` against ``spec`` as ``field PATH must be ... (got ...)``,
    or ``None``."""
    for where, found, wanted in _problems(value, spec, path):
        name = f"field {where}" if where else "top level"
        if found is _MISSING:
            return f"{name} is missing (must be {wanted.describe()})"
        if wanted is None:
            return f"{name} must be a finite number (got {_shown(found)})"
        return f"{name} must be {wanted.describe()} (got {_shown(found)})"
    return None


def check(value: Any, spec: Spec, where: Any, error: type[AutommError] = AutommError) -> None:
    """Raise ``error("WHERE: field a.b must be ... (got ...)")`` unless ``value`` fits ``spec``."""
    found = problem(value, spec)
    if found is not None:
        raise error(f"{where}: {found}")


_MISSING = object()


def _join(path: str, key: Any) -> str:
    return f"{path}[{key}]" if isinstance(key, int) else f"{path}.{key}" if path else str(key)


def _problems(value: Any, spec: Spec, path: str) -> Iterator[tuple[str, Any, Spec | None]]:
    """``(path, value, spec)`` of each problem, first the field itself, then its contents;
    ``spec`` ``None``: a non-finite number outside the named fields."""
    if value is None:
        if not spec.null and spec.kind != "any":
            yield path, value, spec
        return
    if not _fits(value, spec):
        yield path, value, spec
        return
    if spec.kind == "object":
        for key, sub in spec.fields.items():
            if key not in value:
                if not sub.optional:
                    yield _join(path, key), _MISSING, sub
                    return
            else:
                yield from _problems(value[key], sub, _join(path, key))
        for key, item in value.items():
            if key not in spec.fields:
                yield from _non_finite(item, _join(path, key))
    elif spec.kind in ("list", "map"):
        items = enumerate(value) if spec.kind == "list" else value.items()
        for key, item in items:
            if spec.item is None:
                yield from _non_finite(item, _join(path, key))
            else:
                yield from _problems(item, spec.item, _join(path, key))
    elif spec.kind == "any":
        yield from _non_finite(value, path)


def _fits(value: Any, spec: Spec) -> bool:
    kind = spec.kind
    ok = {"integer": isinstance(value, int) and not isinstance(value, bool),
          "number": (isinstance(value, int) and not isinstance(value, bool))
          or (isinstance(value, float) and math.isfinite(value)),
          "string": isinstance(value, str), "boolean": isinstance(value, bool),
          "object": isinstance(value, Mapping), "map": isinstance(value, Mapping)
          and all(isinstance(k, str) for k in value),
          "list": isinstance(value, list | tuple), "any": True}[kind]
    if not ok:
        return False
    if spec.choices and value not in spec.choices:
        return False
    if spec.pattern is not None and not re.fullmatch(spec.pattern, value):
        return False
    if kind in ("boolean", "object", "any"):
        return True
    size = value if kind in ("integer", "number") else len(value)
    return (spec.low is None or size >= spec.low) and (spec.high is None or size <= spec.high)


def _non_finite(value: Any, path: str) -> Iterator[tuple[str, Any, None]]:
    """A float that is NaN or infinite anywhere in ``value`` (free-form records included)."""
    if isinstance(value, float):
        if not math.isfinite(value):
            yield path, value, None
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from _non_finite(item, _join(path, key))
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            yield from _non_finite(item, _join(path, i))


def _shown(value: Any, limit: int = 40) -> str:
    """A short view of a wrong value: its repr (cut) for a scalar, its type for a container."""
    if isinstance(value, Mapping):
        return f"an object of {len(value)} key(s)"
    if isinstance(value, list | tuple):
        return f"a list of {len(value)} item(s)"
    if isinstance(value, int) and value.bit_length() > 1000:  # repr of huge ints is slow or refused
        return "an integer of more than 300 digits"
    if isinstance(value, bool | int | float | str) or value is None:
        text = "null" if value is None else repr(value)
        return text if len(text) <= limit else text[:limit] + "..."
    return f"a {type(value).__name__}"


def mutations(doc: Any, spec: Spec, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    """``(keys, bad value)`` pairs for every field of ``spec`` present in ``doc``: a value of the
    wrong type, NaN and infinity where numbers go, values just outside a range or the choices,
    and (``bad value`` :data:`MISSING`) removal of a required field. For tests: each must give
    the one-line error naming the field."""
    if spec.kind == "any":
        return
    if not spec.null:
        yield path, None
    wrong = {"integer": "1", "number": "1.5", "string": 7, "boolean": "yes", "object": [1],
             "list": {"a": 1}, "map": [1]}[spec.kind]
    yield path, wrong
    if spec.kind in ("integer", "number"):
        yield path, math.nan
        yield path, math.inf
        if spec.kind == "integer":
            yield path, 1.5
        if spec.low is not None:
            yield path, spec.low - 1
        if spec.high is not None:
            yield path, spec.high + 1
    if spec.kind == "string" and spec.choices:
        yield path, "".join(spec.choices) + "?"
    if spec.kind == "string" and spec.pattern is not None:
        yield from ((path, v) for v in ("", "\n", "x\n") if not re.fullmatch(spec.pattern, v))
    if spec.kind == "object" and isinstance(doc, Mapping):
        for key, sub in spec.fields.items():
            if key in doc:
                if not sub.optional:
                    yield (*path, key), MISSING
                yield from mutations(doc[key], sub, (*path, key))
    elif spec.kind in ("list", "map") and spec.item is not None and doc:
        first = 0 if isinstance(doc, list | tuple) else next(iter(doc))
        yield from mutations(doc[first], spec.item, (*path, first))


MISSING = _MISSING
"""The bad value of :func:`mutations` that stands for a deleted key."""


def mutated(doc: Any, keys: tuple[Any, ...], bad: Any) -> Any:
    """A copy of ``doc`` with the item at ``keys`` replaced by ``bad`` (deleted for
    :data:`MISSING`); what :func:`mutations` describes."""
    if not keys:
        return bad
    head, rest = keys[0], keys[1:]
    copy = dict(doc) if isinstance(doc, Mapping) else list(doc)
    if not rest and bad is MISSING:
        del copy[head]
    else:
        copy[head] = mutated(doc[head], rest, bad)
    return copy


def field_name(keys: tuple[Any, ...]) -> str:
    """How :func:`problem` names the field at ``keys`` (``items[1].id``)."""
    return "".join(f"[{k}]" if isinstance(k, int) else f".{k}" for k in keys).lstrip(".")
