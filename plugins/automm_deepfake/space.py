"""The bimodal-deepfake space: image and audio taps, cells of fusion steps, a 2-class head."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import ClassVar

from automm import plugins
from automm.ir import SearchSpace, SpaceConfig, SpaceDefinition, Tap, build_cell_space

RESNET34_STAGE_CHANNELS = (64, 128, 256, 512)
PAPER_OPS = ("zero", "sum", "attention", "linear-glu", "concat-fc")


@dataclass(frozen=True)
class BimodalDeepfakeConfig(SpaceConfig):
    """Hyper-parameters of the bimodal-deepfake space (defaults: the paper's setting).

    ``image_taps``/``audio_taps`` take the first N backbone stages (``image/1`` is stage 1);
    ``tap_channels`` is filled from the feature cache (ResNet-34 stage widths otherwise).
    """

    C: int = 128
    L: int = 8
    cells: int = 2
    steps: int = 2
    ops: tuple[str, ...] = PAPER_OPS
    image_taps: int = 4
    audio_taps: int = 4
    num_classes: int = 2
    tap_channels: dict[str, int] = field(default_factory=dict)

    limits: ClassVar[Mapping[str, tuple[float, float]]] = {
        "C": (1, 4096), "L": (1, 4096), "cells": (1, 32), "steps": (1, 32),
        "image_taps": (0, 4), "audio_taps": (0, 4), "num_classes": (2, 1000),
        "tap_channels": (1, 65536)}
    """Bounds of every numeric field (:class:`automm.ir.SpaceConfig`)."""
    descriptions: ClassVar[Mapping[str, str]] = {
        "C": "channels C: every tap is reduced to C channels (and the cells work at C)",
        "L": "positions L: every tap is pooled to L positions along time",
        "cells": "cells N, in sequence, each picking two inputs among the taps and earlier cells",
        "steps": "step nodes per cell, each picking two inputs and one fusion op",
        "ops": "the fusion ops a step chooses from",
        "image_taps": "image backbone stages tapped (image/1..N)",
        "audio_taps": "audio backbone stages tapped (audio/1..N)",
        "num_classes": "classes of the head"}
    """Option help of the fields (``automm search --help``)."""
    registries: ClassVar[Mapping[str, str]] = {"ops": "fusion_ops"}

    def __post_init__(self) -> None:
        for name in ("C", "L", "cells", "steps", "num_classes"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1")
        for name in ("image_taps", "audio_taps"):
            if not 0 <= getattr(self, name) <= len(RESNET34_STAGE_CHANNELS):
                raise ValueError(f"{name} must be between 0 and {len(RESNET34_STAGE_CHANNELS)}")
        if self.image_taps + self.audio_taps < 1:
            raise ValueError("the space needs at least one tap")

    def taps(self) -> list[Tap]:
        """The feature taps of this config."""
        out = []
        for modality, count in (("image", self.image_taps), ("audio", self.audio_taps)):
            for i in range(1, count + 1):
                name = f"{modality}/{i}"
                default = RESNET34_STAGE_CHANNELS[i - 1]
                out.append(Tap(name, modality, int(self.tap_channels.get(name, default))))
        return out


class BimodalDeepfakeSpace(SpaceDefinition):
    """Two-level STGS-BMNAS space over image (face) and audio (spectrogram) taps."""

    config_type = BimodalDeepfakeConfig
    description = "image + audio taps -> N cells of fusion steps -> real/fake head"

    def build(self, config: SpaceConfig) -> SearchSpace:
        assert isinstance(config, BimodalDeepfakeConfig)
        # unknown op names fail here, listing the known ones; arch.json records the registered
        # (canonical) names, never the spelling on the command line (--ops SUM -> sum)
        config = replace(config, ops=tuple(plugins.fusion_ops.entry(op).name for op in config.ops))
        return build_cell_space("bimodal-deepfake", config, config.taps(),
                                cells=config.cells, steps=config.steps, ops=config.ops)
