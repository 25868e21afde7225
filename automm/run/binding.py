"""Binding a search space to a feature cache."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from automm.data.cache import FeatureCache
from automm.errors import AutommError, CacheError
from automm.factory import build_space
from automm.ir.space import SearchSpace, SpaceDefinition


def space_for_cache(definition: SpaceDefinition, values: Mapping[str, Any], cache: FeatureCache
                    ) -> SearchSpace:
    """The space of ``definition`` with config ``values`` (defaults elsewhere) fitted to ``cache``:
    a ``tap_channels`` field is filled from the cache's tap shapes and a ``num_classes`` field
    from its classes. A cache without one of the space's taps is incompatible."""
    fields = {f.name for f in dataclasses.fields(definition.config_type)}
    space = build_space(definition, values)  # validates values and op names
    try:
        cache.require_taps(space.taps)
    except CacheError as exc:
        fit = fitting_values(definition, values, cache)
        if not fit:
            raise
        options = " ".join(f"--{name.replace('_', '-')} {value}" for name, value in fit.items())
        raise CacheError(f"{exc}; the space fits this cache with {options}") from None
    fitted = dict(values)
    if "tap_channels" in fields:
        fitted["tap_channels"] = {t: cache.taps[t][0] for t in space.taps}
    if "num_classes" in fields:
        classes = len(cache.manifest["classes"])
        if fitted.setdefault("num_classes", classes) != classes:
            raise CacheError(f"{cache.path}: incompatible cache: {classes} classes, the space config "
                             f"asks for {fitted['num_classes']}")
    return build_space(definition, fitted)


def fitting_values(definition: SpaceDefinition, values: Mapping[str, Any], cache: FeatureCache
                   ) -> dict[str, int]:
    """Integer config fields not in ``values`` (such as ``image_taps``) whose smaller values make
    every tap of the space one of ``cache``'s: field by field, the largest value leaving the fewest
    taps missing; empty when no such values remove every missing tap."""
    defaults = definition.default_config().to_dict()
    limits = getattr(definition.config_type, "limits", {})
    chosen: dict[str, int] = {}

    def taps(change: Mapping[str, int]) -> list[str] | None:
        try:
            return build_space(definition, {**values, **chosen, **change}).taps
        except (AutommError, ValueError):
            return None

    for name, default in defaults.items():
        if name in values or type(default) is not int or name not in limits:
            continue
        now, fewer = taps({}), taps({name: default - 1})
        if now is None or fewer is None or fewer == now:
            continue  # the field does not choose taps (C, cells, ...)
        low = int(limits[name][0])
        missing = {v: [t for t in found if t not in cache.taps]
                   for v in range(default, low - 1, -1) if (found := taps({name: v})) is not None}
        best = min(missing, key=lambda v: (len(missing[v]), -v))
        if best != default:
            chosen[name] = best
    left = taps({})
    return chosen if left is not None and all(t in cache.taps for t in left) else {}
