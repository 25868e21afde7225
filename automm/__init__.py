"""automm: plugin-based multimodal neural architecture search."""

from __future__ import annotations

import pluggy

from automm._lazy import lazy_exports

__version__ = "0.1.0"

hookimpl = pluggy.HookimplMarker("automm")
"""Decorator marking a function as an implementation of an automm hook."""

_API = ("build_network", "create_space", "evaluate", "list_components", "load_architecture", "search")
__getattr__, __dir__ = lazy_exports(__name__, dict.fromkeys(_API, ".api"))
"""The notebook API (:mod:`automm.api`) loads on first use: ``import automm`` stays light."""

__all__ = ["__version__", "hookimpl", *_API]
