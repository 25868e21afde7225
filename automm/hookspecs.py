"""Hook specifications of automm.

Every hook hands the plugin a ``register`` callback; the host keeps the
registry. A plugin implements any subset of these with ``@automm.hookimpl``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
import pluggy

if TYPE_CHECKING:
    from automm.diagnostics import Check
    from automm.report.source import SourceDescription

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
        ``nn.Module`` with ``modality`` (str), ``taps`` (list of ``(name, channels)``) and
        ``example_input(batch)`` (a valid input batch), whose forward returns a dict tap
        name -> tensor ``(B, channels, L)``. ``automm extract --backbone MODALITY=NAME`` passes
        the options ``L``, ``weights`` and ``seed`` that the factory accepts.
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
def automm_register_loggers(register: Register) -> None:
    """Register loggers (experiment trackers that ``--logger NAME`` turns on).

    :param register: ``register(name, factory)``; ``factory(context)`` gets an
        :class:`automm.loggers.LoggerContext` and returns an :class:`automm.loggers.Logger`.
    """


@hookspec(firstresult=True)
def automm_prepare_data(data: str | None) -> str | Path | None:
    """Turn ``--data`` (or its absence) into a feature-cache directory, or return None to pass.

    Called for whatever is not already a feature cache; the first non-None answer wins
    (e.g. a dataset directory extracted once, or a demo corpus when ``data`` is None).
    """


@hookspec(firstresult=True)
def automm_describe_source(source: Any) -> SourceDescription | None:
    """Describe the ``source`` record of a feature cache your plugin wrote, or return None to pass.

    Read by ``automm report`` (which features, randomly initialised backbones), ``automm
    evaluate`` (``weights`` and ``params_with_backbones`` of metrics.json) and ``automm search``;
    without an answer a generic description is used (:mod:`automm.report.source`).
    """


@hookspec
def automm_register_commands(cli: click.Group) -> None:
    """Add commands to the ``automm`` command line.

    :param cli: the root click group; call ``cli.add_command(...)``.
    """


@hookspec
def automm_doctor_checks() -> list[Check]:
    """Check what the plugin's components need, for ``automm doctor`` (run only there).

    :return: :class:`automm.diagnostics.Check` s, each ``ok``, ``warn`` or ``fail`` with a
        detail and, unless ok, the fix.
    """
