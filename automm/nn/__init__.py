"""Building torch modules from the IR (names load on first use, see :mod:`automm._lazy`;
:mod:`automm.nn.plan`, the reading of the graph, needs no torch)."""

from automm._lazy import lazy_exports

_EXPORTS = {
    "CellProjection": ".network",
    "FusionNetwork": ".network",
    "TapReducer": ".network",
    "count_parameters": ".network",
    "make_plan": ".plan",
}
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
__all__ = sorted(_EXPORTS)
