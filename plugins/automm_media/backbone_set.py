"""The backbones of an extraction: any registered backbone per modality the media pipeline
decodes (``image``: face crops ``(B, K, 3, S, S)``; ``audio``: spectrograms ``(B, 1, 257, T)``)."""

from __future__ import annotations

import inspect
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from torch import nn

from automm import plugins
from automm.errors import DataError
from automm.registry import did_you_mean

MEDIA_INPUTS = ("image", "audio")
"""Modalities the media pipeline makes inputs for."""
DEFAULT_BACKBONES = (("image", "resnet34-image"), ("audio", "resnet34-audio"))

Pairs = tuple[tuple[str, str], ...]


def parse_pairs(values: Iterable[str], option: str) -> Pairs:
    """``MODALITY=VALUE`` strings (``--backbone``, ``--weights``) as pairs; a bad one is one line."""
    out: dict[str, str] = {}
    for text in values:
        modality, sep, value = text.partition("=")
        if not sep or not modality or not value:
            raise DataError(f"{option} {text}: expected MODALITY=VALUE, e.g. {option} image=resnet34-image")
        out[modality.strip()] = value.strip()
    return tuple(out.items())


def chosen_backbones(specs: Iterable[str]) -> Pairs:
    """The defaults updated by ``--backbone MODALITY=NAME`` options (NAME ``none`` drops one)."""
    chosen = dict(DEFAULT_BACKBONES)
    chosen.update(parse_pairs(specs, "--backbone"))
    pairs = tuple((m, n) for m, n in chosen.items() if n != "none")
    for _, name in pairs:
        plugins.backbones.get(name)  # an unknown name: one line with the closest known one
    return pairs


def check_backbones(backbones: Pairs, weights: Pairs) -> None:
    """Every modality is one the pipeline decodes, at most once; weights name a chosen modality."""
    modalities = [m for m, _ in backbones]
    for m in modalities:
        if m not in MEDIA_INPUTS:
            raise DataError(f"--backbone {m}=...: the media pipeline makes inputs for "
                            f"{', '.join(MEDIA_INPUTS)} only{did_you_mean(m, MEDIA_INPUTS)}")
    if len(set(modalities)) != len(modalities) or not modalities:
        raise DataError(f"--backbone: one backbone per modality, at least one (got {modalities})")
    for m, _ in weights:
        if m not in modalities:
            raise DataError(f"--weights {m}=...: no backbone for modality {m!r} "
                            f"(backbones: {', '.join(modalities)})")


def build_backbone(modality: str, name: str, *, L: int, weights: str | None, seed: int) -> nn.Module:
    """Backbone ``name`` for ``modality``, given those of ``L``, ``weights``, ``seed`` its factory
    takes (all of them through ``**options``)."""
    factory = plugins.backbones.get(name)
    try:
        params = inspect.signature(factory).parameters
    except (TypeError, ValueError):
        params = {}
    takes_all = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    offered = {"L": L, "weights": weights, "seed": seed}
    kwargs = {k: v for k, v in offered.items() if takes_all or k in params}
    if weights is not None and "weights" not in kwargs:
        raise DataError(f"--weights {modality}=...: backbone {name!r} takes no weights file")
    module = factory(**kwargs)
    found = getattr(module, "modality", modality)
    if found != modality:
        raise DataError(f"--backbone {modality}={name}: backbone {name!r} is for modality {found!r}")
    return module


def describe(module: nn.Module, name: str, weights: str | None, seed: int) -> dict[str, Any]:
    """The manifest record of one backbone: its name, ``describe()`` if it has one, the weights
    (a file and its sha256, or random initialisation), ``pretrained``, a state fingerprint."""
    from automm_media.backbones import file_sha256, random_init_label, state_sha256

    record: dict[str, Any] = {"name": name, **getattr(module, "describe", dict)()}
    record.setdefault("weights", str(Path(weights).resolve()) if weights else random_init_label(seed))
    record.setdefault("sha256", state_sha256(module))
    record["pretrained"] = weights is not None
    record["weights_sha256"] = file_sha256(weights) if weights else None
    record["taps"] = {tap: [channels, None] for tap, channels in module.taps}
    return record
