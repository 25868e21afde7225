"""Schemas of the per-epoch records of a run (``metrics.jsonl``, ``history.jsonl``, a
checkpoint's ``history``), light to import (no torch) for the readers."""

from __future__ import annotations

from automm.schema import integer, list_of, map_of, nullable, number, obj, optional, string

RATE = nullable(number(0, 1))
LOSS = nullable(number())
_RATE, _LOSS = optional(RATE), optional(LOSS)
EPOCH = obj({
    "epoch": integer(1), "train_loss": _LOSS, "train_acc": _RATE, "val_loss": _LOSS, "val_acc": _RATE,
    "val_auc": _RATE, "derived_val_acc": _RATE, "derived_val_auc": _RATE, "seconds": optional(number(0)),
    "temperature": optional(nullable(number())), "entropy": optional(map_of(number())),
    "choices": optional(map_of(string())), "lr": optional(nullable(number(0))),
    "probabilities": optional(map_of(map_of(number(0, 1)))),
})
"""Schema of one epoch's record: a line of ``metrics.jsonl`` (search) or ``history.jsonl``
(evaluation), an item of a checkpoint's ``history`` (a non-finite loss is written as null)."""
HISTORY = list_of(EPOCH)
"""Schema of a checkpoint's ``history``: one :data:`EPOCH` record per epoch."""
