"""Binding a search space to a feature cache."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from automm.data.cache import FeatureCache
from automm.errors import CacheError
from automm.factory import build_space
from automm.ir.space import SearchSpace, SpaceDefinition


def space_for_cache(definition: SpaceDefinition, values: Mapping[str, Any], cache: FeatureCache
                    ) -> SearchSpace:
    """The space of ``definition`` with config ``values`` (defaults elsewhere) fitted to ``cache``:
    a ``tap_channels`` field is filled from the cache's tap shapes and a ``num_classes`` field
    from its classes. A cache without one of the space's taps is incompatible."""
    fields = {f.name for f in dataclasses.fields(definition.config_type)}
    space = build_space(definition, values)  # validates values and op names
    cache.require_taps(space.taps)
    fitted = dict(values)
    if "tap_channels" in fields:
        fitted["tap_channels"] = {t: cache.taps[t][0] for t in space.taps}
    if "num_classes" in fields:
        classes = len(cache.manifest["classes"])
        if fitted.setdefault("num_classes", classes) != classes:
            raise CacheError(f"{cache.path}: incompatible cache: {classes} classes, the space config "
                             f"asks for {fitted['num_classes']}")
    return build_space(definition, fitted)
