"""Training: the bilevel search loop, retraining/evaluation, metrics, batching, checkpoints."""

from automm.train.batches import SplitData, load_splits
from automm.train.bilevel import SearchResult, SearchSettings, family_entropy, resume_search, search
from automm.train.checkpoint import load_checkpoint, save_checkpoint
from automm.train.common import one_hot_weights, predict
from automm.train.metrics import accuracy, equal_error_rate, roc_auc
from automm.train.retraining import RetrainResult, RetrainSettings, retrain

__all__ = [
    "RetrainResult",
    "RetrainSettings",
    "SearchResult",
    "SearchSettings",
    "SplitData",
    "accuracy",
    "equal_error_rate",
    "family_entropy",
    "load_checkpoint",
    "load_splits",
    "one_hot_weights",
    "predict",
    "resume_search",
    "retrain",
    "roc_auc",
    "save_checkpoint",
    "search",
]
