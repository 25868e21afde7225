"""The architecture a search writes to arch.json: the best derived architecture with the search's
metrics (:mod:`automm.train.bilevel` and plugins' own loops alike)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from automm.data.cache import FeatureCache
from automm.fileio import finite_or_none
from automm.ir import Architecture, SearchSpace
from automm.nn import FusionNetwork, count_parameters
from automm.train.balance import class_counts


def search_architecture(space: SearchSpace, cache: FeatureCache, best: Mapping[str, Any], *,
                        strategy: Mapping[str, Any], provenance: Mapping[str, Any], seconds: float,
                        epochs: int, stopped: str | None, balance: str, select: str | None = None
                        ) -> Architecture:
    """``best`` (``epoch``, ``choices``, ``acc``, ``auc``) as an architecture of ``space`` with its
    ``metrics`` (validation AUC and accuracy, fusion parameters, search time, epochs, ``select``
    when given, best epoch, how it stopped, class balance, class counts of ``cache``)."""
    arch = Architecture(space.name, space.config.to_dict(), best["choices"])
    return arch.replace(
        strategy=dict(strategy),
        metrics=finite_or_none({
            "val_auc": best["auc"], "val_acc": best["acc"],
            "params": count_parameters(FusionNetwork(space, arch)), "search_seconds": round(seconds, 3),
            "epochs": epochs,
            **({"select": select} if select is not None else {}), "best_epoch": best["epoch"],
            "stopped": stopped, "balance": balance, "class_counts": class_counts(cache)}),
        provenance=dict(provenance))
