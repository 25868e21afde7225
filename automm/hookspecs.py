"""Hook specifications of automm.

Every hook hands the plugin a ``register`` callback; the host keeps the
registry. A plugin implements any subset of these with ``@automm.hookimpl``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click
import pluggy

hookspec = pluggy.HookspecMarker("automm")

Register = Callable[[str, Any], None]


@hookspec
def automm_register_strategies(register: Register) -> None:
    """Register search strategies.

    :param register: ``register(name, factory)``; ``factory(**params)`` returns an
        :class:`automm.strategy.Strategy`. ``factory.options`` (optional) is a list
        of :class:`automm.strategy.StrategyOption` exposed as CLI options.
    """


@hookspec
def automm_register_fusion_ops(register: Register) -> None:
    """Register fusion operations.

    :param register: ``register(name, factory)`` where ``factory(C: int, L: int)``
        returns an ``nn.Module`` whose ``forward(x, y)`` maps two tensors of shape
        ``(B, C, L)`` to one tensor of shape ``(B, C, L)``.
    """


@hookspec
def automm_register_backbones(register: Register) -> None:
    """Register modality backbones (feature extractors exposing taps).

    :param register: ``register(name, factory)``; ``factory(**options)`` returns an
        ``nn.Module`` with attribute ``taps`` (list of ``(name, channels)``) whose
        forward returns a dict tap name -> tensor ``(B, channels, L)``.
    """


@hookspec
def automm_register_spaces(register: Register) -> None:
    """Register search spaces.

    :param register: ``register(name, definition)`` with an
        :class:`automm.ir.SpaceDefinition` instance.
    """


@hookspec
def automm_register_datasets(register: Register) -> None:
    """Register dataset layouts.

    :param register: ``register(name, dataset)`` with an object implementing
        :class:`automm.data.DatasetLayout`.
    """


@hookspec
def automm_register_commands(cli: click.Group) -> None:
    """Add commands to the ``automm`` command line.

    :param cli: the root click group; call ``cli.add_command(...)``.
    """
