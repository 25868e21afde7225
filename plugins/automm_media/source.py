"""The media plugin's cache ``source`` record in words (hook ``automm_describe_source``): the
datasets, each backbone with its weights, which were randomly initialised, and their parameters;
caches written before backbone records had ``pretrained`` are read from their weights labels."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from automm.report.markdown import join_and
from automm.report.source import SourceDescription, generic_description

RANDOM_INIT = "random-init"
"""Weights label of a randomly initialised backbone (``random-init (seed N)``), read only from
caches written before backbone records had ``pretrained``."""


def describe(source: Any) -> SourceDescription | None:
    """The description of a source this plugin wrote (backbone or dataset records, or an older
    cache's random-init label); None for any other."""
    if not isinstance(source, Mapping):
        return None
    backbones = source.get("backbones")
    if not isinstance(backbones, Mapping) and not isinstance(source.get("dataset"), Mapping) \
            and RANDOM_INIT not in str(source):
        return None
    base = generic_description(source)
    records = backbones if isinstance(backbones, Mapping) else {}
    if isinstance(backbones, Mapping):
        random = tuple(str(n) for n, b in backbones.items() if random_init(b))
    else:  # older caches: text only
        random = ("",) if RANDOM_INIT in str(source) else ()
    return replace(base, dataset=dataset_names(source.get("dataset")) or base.dataset,
                   extractors=tuple(f"the {n} backbone{_backbone(b)}" for n, b in records.items()),
                   random_init=random, weights=base.weights or _weights(records),
                   backbone_params=_params(records))


def random_init(backbone: Any) -> bool:
    """Whether a ``source.backbones`` record is of a randomly initialised backbone."""
    if isinstance(backbone, Mapping) and "pretrained" in backbone:
        return backbone["pretrained"] is False
    # Caches written before records had `pretrained`: only the weights label tells.
    return RANDOM_INIT in str(backbone)


def dataset_names(record: Any) -> str:
    """``the datasets a and b (protocol mixed)``: a cache's dataset record ``{"protocol",
    "datasets": [{"name", ...}]}`` in words; "" for any other (a plain name is read generically)."""
    if not isinstance(record, Mapping) or not isinstance(record.get("datasets"), list):
        return ""
    names = [str(d["name"]) for d in record["datasets"] if isinstance(d, Mapping) and d.get("name")]
    if not names:
        return ""
    protocol = record.get("protocol")
    tail = f" (protocol {protocol})" if protocol and protocol != "single" else ""
    return f"the dataset{'s' if len(names) > 1 else ''} {join_and(names)}{tail}"


def _backbone(record: Any) -> str:
    """`` resnet34 (randomly initialised)``: a backbone's name and weights, in words."""
    if not isinstance(record, Mapping):
        return ""
    name = record.get("name") or record.get("arch")
    text = f" {name}" if name else ""
    if random_init(record):
        return f"{text} (randomly initialised)"
    weights = record.get("weights")
    return f"{text} (pretrained weights {Path(str(weights)).name})" if weights else text


def _weights(backbones: Mapping[str, Any]) -> str | None:
    """The ``weights`` of each backbone record (``image: random-init (seed 0); audio: ...``)."""
    notes = [f"{name}: {b['weights']}" for name, b in backbones.items()
             if isinstance(b, Mapping) and b.get("weights") is not None]
    return "; ".join(notes) or None


def _params(backbones: Mapping[str, Any]) -> int | None:
    """Parameters of the backbones, when every record has an integer ``params``."""
    counts = [b.get("params") if isinstance(b, Mapping) else None for b in backbones.values()]
    if not counts or not all(isinstance(c, int) for c in counts):
        return None
    return sum(counts)
