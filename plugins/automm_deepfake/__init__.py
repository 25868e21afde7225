"""Audio-visual deepfake detection: the bimodal-deepfake search space, dataset layouts
(FakeAVCeleb v1.2, SWAN-DF, real/ + fake/ folders) and the embedded demo corpus."""

from __future__ import annotations

from pathlib import Path

import click

import automm
from automm_deepfake.space import BimodalDeepfakeSpace


@automm.hookimpl
def automm_register_spaces(register) -> None:
    """Register the ``bimodal-deepfake`` space."""
    register("bimodal-deepfake", BimodalDeepfakeSpace())


@automm.hookimpl
def automm_register_datasets(register) -> None:
    """Register the ``fakeavceleb``, ``swan-df`` and ``folder`` layouts."""
    from automm_deepfake.datasets import LAYOUTS

    for name, layout in LAYOUTS.items():
        register(name, layout())


@automm.hookimpl
def automm_prepare_data(data: str | None) -> Path | None:
    """A dataset directory (any registered layout) extracted once into the user cache; None:
    the demo corpus, generated and extracted once."""
    from automm_deepfake.data import prepare

    return prepare(data)


@automm.hookimpl
def automm_register_commands(cli: click.Group) -> None:
    """Add ``demo-data`` and ``cache``."""
    from automm_deepfake.cli import cache_command, demo_data_command

    cli.add_command(demo_data_command)
    cli.add_command(cache_command)
