"""Components by name from the registries (as timm's ``create_model``): the one recipe
"space name + config -> space", and "strategy name + parameters -> strategy"."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from automm import plugins

if TYPE_CHECKING:
    from automm.ir.space import SearchSpace, SpaceDefinition
    from automm.strategy.base import Strategy


def create_space(name: str, config: Mapping[str, Any] | None = None) -> SearchSpace:
    """The search space ``name`` with config fields ``config`` (defaults for the others;
    validated as when read from arch.json)."""
    return build_space(plugins.spaces.get(name), config)


def build_space(definition: SpaceDefinition, config: Mapping[str, Any] | None = None) -> SearchSpace:
    """The space of a registered ``definition`` with config fields ``config`` (see
    :func:`create_space`)."""
    return definition.build(definition.config_type.from_dict(dict(config or {})))


def create_strategy(name: str, params: Mapping[str, Any] | None = None) -> Strategy:
    """The search strategy ``name`` with parameters ``params``."""
    return plugins.strategies.get(name)(**dict(params or {}))
