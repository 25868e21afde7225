"""Fusion operations of Table 1 of the STGS-BMNAS paper: zero, sum, attention, linear-glu, concat-fc.

Each op maps ``(x, y)``, both ``(B, C, L)``, to ``(B, C, L)``.
"""

from __future__ import annotations

import automm
from automm._lazy import lazy_exports
from automm.registry import LazyComponent

OPS = {"zero": "Zero", "sum": "Sum", "attention": "Attention", "linear-glu": "LinearGLU",
       "concat-fc": "ConcatFC"}
"""Registered name -> class in :mod:`automm_fusion.ops`; each class is constructed from ``(C, L)``."""

__getattr__, __dir__ = lazy_exports(__name__, {cls: ".ops" for cls in OPS.values()})


@automm.hookimpl
def automm_register_fusion_ops(register) -> None:
    """Register the five ops of Table 1 (``zero`` is ``constant``: its output ignores its inputs)."""
    for name, cls in OPS.items():
        register(name, LazyComponent(f"automm_fusion.ops:{cls}", constant=name == "zero"))
