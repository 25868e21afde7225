"""``--data``: a feature cache as it is, anything else through the plugins that prepare data."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from automm.errors import CacheError

if TYPE_CHECKING:
    from automm.data.cache import FeatureCache
    from automm.ir import Architecture


def resolve_data(data: str | None) -> Path:
    """The feature-cache directory for ``--data`` (None: the plugins' default data).

    A directory with a ``manifest.json`` is used as is (one with ``.npy`` files but no manifest is
    a cache that lost it: an error naming the manifest); anything else the ``automm_prepare_data``
    hook answers (e.g. a dataset directory or the demo corpus).
    """
    if data is not None and (Path(data) / "manifest.json").is_file():
        return Path(data)
    if data is not None and Path(data).is_dir() and any(Path(data).glob("*.npy")):
        raise CacheError(f"{Path(data) / 'manifest.json'}: no such file, but the directory holds .npy "
                         "tap files: a feature cache whose manifest was deleted? (extract it again)")
    from automm.plugins import plugin_manager

    prepared = plugin_manager().hook.automm_prepare_data(data=data)
    if prepared is not None:
        return Path(prepared)
    if data is None:
        raise CacheError("--data is required: no installed plugin provides default data")
    raise CacheError(f"{data}: neither a feature cache (no manifest.json) nor a dataset directory an "
                     "installed plugin can extract")


def open_data(data: str | None, *, verify: bool = True) -> FeatureCache:
    """:func:`resolve_data`, opened."""
    from automm.data.cache import FeatureCache

    return FeatureCache.open(resolve_data(data), verify=verify)


def evaluation_cache(arch: Architecture, where: str | os.PathLike[str], data: str | None, *,
                     verify: bool = True, warn: Callable[[str], None] = print) -> FeatureCache:
    """The cache to evaluate ``arch`` on: ``data`` (:func:`resolve_data`), else the searched cache
    recorded in its provenance (``where`` names the arch.json in errors); a cache other than the
    searched one gets a ``warn`` line."""
    from automm.data.cache import FeatureCache

    recorded = arch.provenance.get("data")
    recorded = recorded if isinstance(recorded, Mapping) else {}
    if data is None:
        path = recorded.get("path")
        if not path or not (Path(path) / "manifest.json").is_file():
            raise CacheError(f"{where}: the searched feature cache {path or '(not recorded)'} "
                             "is not available; pass --data")
        return FeatureCache.open(path, verify=verify)
    cache = open_data(data, verify=verify)
    if recorded.get("fingerprint") and recorded["fingerprint"] != cache.fingerprint:
        warn(f"{cache.path} is not the feature cache the architecture was searched on (fingerprints differ)")
    return cache
