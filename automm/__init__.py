"""automm: plugin-based multimodal neural architecture search."""

from __future__ import annotations

import pluggy

__version__ = "0.1.0"

hookimpl = pluggy.HookimplMarker("automm")
"""Decorator marking a function as an implementation of an automm hook."""

__all__ = ["__version__", "hookimpl"]
