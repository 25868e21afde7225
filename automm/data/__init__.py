"""Feature caches and dataset layouts."""

from automm.data.cache import CLASSES, FORMAT, SPLITS, FeatureCache, write_cache
from automm.data.dataset import DatasetLayout, MediaSample, identity_disjoint_split

__all__ = [
    "CLASSES",
    "FORMAT",
    "SPLITS",
    "DatasetLayout",
    "FeatureCache",
    "MediaSample",
    "identity_disjoint_split",
    "write_cache",
]
