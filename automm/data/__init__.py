"""Feature caches and dataset layouts (names load on first use, see :mod:`automm._lazy`)."""

from automm._lazy import lazy_exports

_EXPORTS = {
    "FORMAT": ".cache",
    "SPLITS": ".names",
    "FeatureCache": ".cache",
    "write_cache": ".cache",
    "DatasetLayout": ".dataset",
    "MediaSample": ".dataset",
    "detect_layout": ".dataset",
    "identity_disjoint_split": ".splits",
}
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
__all__ = sorted(_EXPORTS)
