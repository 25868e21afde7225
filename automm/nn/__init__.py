"""Building torch modules from the IR."""

from automm.nn.network import CellProjection, FusionNetwork, TapReducer, count_parameters

__all__ = ["CellProjection", "FusionNetwork", "TapReducer", "count_parameters"]
