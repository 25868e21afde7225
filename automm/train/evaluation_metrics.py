"""The JSON results of an evaluation directory (``metrics.json`` written by
:mod:`automm.train.retraining`, ``robustness.json`` by :mod:`automm.train.robustness`): their
schemas and the readers every command uses."""

from __future__ import annotations

import os
from typing import Any

from automm.errors import AutommError
from automm.fileio import read_json
from automm.provenance import DATA, PROVENANCE
from automm.schema import boolean, check, integer, list_of, map_of, nullable, number, obj, optional, string
from automm.train.settings import BALANCES, SEED
from automm.train.thresholds import SCHEMA as THRESHOLDS

_RATE = optional(nullable(number(0, 1)))
_INTERVAL = optional(nullable(list_of(nullable(number(0, 1)), 2, 2)))
_BREAKDOWN = optional(obj({"reals": optional(integer(0)), "unknown_fakes": optional(integer(0)),
                           "note": optional(nullable(string())),
                           "groups": optional(map_of(obj({"fakes": optional(integer(0)), "auc": _RATE,
                                                          "auc_ci": _INTERVAL})))}))
SCHEMA = obj({
    "test_auc": _RATE, "test_acc": _RATE, "test_eer": _RATE,
    "test_auc_ci": _INTERVAL, "test_acc_ci": _INTERVAL, "test_eer_ci": _INTERVAL,
    "distinguishable_from_chance": optional(nullable(boolean())),
    "bootstrap": optional(obj({"resamples": optional(integer(1)), "seed": optional(SEED),
                               "level": optional(number(0, 1))})),
    "by_category": _BREAKDOWN, "by_method": _BREAKDOWN,
    "test_loss": optional(nullable(number())), "params": optional(integer(0)),
    "params_with_backbones": optional(nullable(integer(0))), "val_auc": _RATE, "val_acc": _RATE,
    "best_epoch": optional(integer(1)), "epochs": optional(integer(1)), "batch_size": optional(integer(1)),
    "dropout": optional(number(0, 1)), "seed": optional(SEED), "weights": optional(nullable(string())),
    "balance": optional(string(*BALANCES)), "class_counts": optional(map_of(map_of(integer(0)))),
    "train_seconds": optional(number(0)), "data": optional(DATA), "thresholds": optional(THRESHOLDS),
    "provenance": optional(PROVENANCE),
})
"""Schema of an evaluation's metrics.json (docs/formats.md)."""


def read_evaluation_metrics(path: str | os.PathLike[str], error: type[AutommError] = AutommError
                            ) -> dict[str, Any]:
    """The metrics.json at ``path``, checked against :data:`SCHEMA` (one line naming the file and
    the field otherwise)."""
    record = read_json(path, error)
    check(record, SCHEMA, path, error)
    return record


_CONDITION = obj({
    "condition": string(), "modality": optional(nullable(string())),
    "perturbation": optional(string("none", "zero", "mean", "noise")), "level": optional(nullable(number(0))),
    "auc": _RATE, "auc_ci": _INTERVAL, "acc": _RATE, "acc_ci": _INTERVAL, "eer": _RATE, "eer_ci": _INTERVAL,
})
ROBUSTNESS = obj({
    "format": optional(string()), "split": optional(string()), "samples": optional(integer(0)),
    "bootstrap": optional(obj()),
    "noise_levels": optional(list_of(number(0))), "noise": optional(string()),
    "modalities": optional(map_of(list_of(string()))), "conditions": list_of(_CONDITION, 1),
    "removal_drop": optional(map_of(nullable(number(-1, 1)))), "lean_margin": optional(number(0, 1)),
    "leans_on": optional(list_of(string())), "verdict": optional(string()),
})
"""Schema of robustness.json (docs/formats.md)."""


def read_robustness_file(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The robustness.json at ``path``, checked against :data:`ROBUSTNESS`."""
    record = read_json(path)
    check(record, ROBUSTNESS, path)
    return record
