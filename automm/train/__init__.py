"""Training: the bilevel search loop, retraining/evaluation, metrics, batching, checkpoints.

Names load on first use (:mod:`automm._lazy`); :mod:`automm.train.settings` needs no torch.
"""

from automm._lazy import lazy_exports

_EXPORTS = {
    "RetrainResult": ".retraining",
    "RetrainSettings": ".settings",
    "SearchResult": ".bilevel",
    "SearchSettings": ".settings",
    "SplitData": ".batches",
    "accuracy": ".metrics",
    "equal_error_rate": ".metrics",
    "family_entropy": ".bilevel",
    "load_checkpoint": ".checkpoint",
    "load_splits": ".batches",
    "one_hot_weights": ".steps",
    "predict": ".prediction",
    "resume_search": ".bilevel",
    "retrain": ".retraining",
    "roc_auc": ".metrics",
    "save_checkpoint": ".checkpoint",
    "search": ".bilevel",
}
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
__all__ = sorted(_EXPORTS)
