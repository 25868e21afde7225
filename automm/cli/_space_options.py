"""Space config fields as command-line options: ``--cells 3 --ops sum,attention --image-taps 2``.

The simple fields of a space's config dataclass (int, float, str, tuple of str) become
``--kebab-case`` options; tuples take comma-separated values. Verbs that accept a space
collect the unknown options (click's ``ignore_unknown_options``) and pass them here.
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Sequence
from typing import Any

import click

from automm.ir import SpaceConfig


def space_options(config_type: type[SpaceConfig]) -> dict[str, tuple[str, Any]]:
    """Option (``--image-taps``) -> (field name, type) for the simple fields of ``config_type``."""
    hints = typing.get_type_hints(config_type)
    out = {}
    for f in dataclasses.fields(config_type):
        hint = hints[f.name]
        if hint in (int, float, str) or typing.get_origin(hint) is tuple:
            out["--" + f.name.replace("_", "-")] = (f.name, hint)
    return out


def parse_space_options(config_type: type[SpaceConfig], tokens: Sequence[str]) -> SpaceConfig:
    """The config given by ``tokens`` (``--key value`` or ``--key=value``; defaults elsewhere).

    Unknown options and unparsable values raise :class:`click.UsageError` listing the options.
    """
    options = space_options(config_type)
    values: dict[str, Any] = {}
    rest = iter(tokens)
    for token in rest:
        key, sep, value = token.partition("=")
        if key not in options:
            what = "option" if token.startswith("-") else "argument"
            raise click.UsageError(f"unexpected {what} {token!r}; space options: {', '.join(options)}")
        if not sep:
            value = next(rest, None)
            if value is None:
                raise click.UsageError(f"option {key} needs a value")
        name, hint = options[key]
        values[name] = _convert(key, value, hint)
    return config_type.from_dict(values)


def _convert(key: str, value: str, hint: Any) -> Any:
    if typing.get_origin(hint) is tuple:
        return tuple(v.strip() for v in value.split(",") if v.strip())
    try:
        return hint(value)
    except ValueError:
        raise click.UsageError(f"option {key}: {value!r} is not a valid {hint.__name__}") from None
