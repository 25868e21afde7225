"""Media pipeline: PyAV decoding, MTCNN face alignment, spectrograms, ResNet-34 backbones,
``automm extract`` (videos -> feature cache), ``automm predict`` (videos -> P(fake) and a label),
``automm export`` (the detector as one TorchScript or ONNX file) and ``automm weights convert``
(a ResNet-34 checkpoint -> the backbone weights file extract reads).

Nothing is downloaded: MTCNN weights ship in facenet-pytorch's wheel and ResNet weights come
from local files only (random initialisation with a fixed seed otherwise).
"""

from __future__ import annotations

from typing import Any

import click

import automm


def image_backbone(**options: Any) -> Any:
    """``resnet34-image``: face crops ``(B, K, 3, S, S)`` -> taps ``image/1..4``."""
    from automm_media.backbones import ImageBackbone

    return ImageBackbone(**options)


def audio_backbone(**options: Any) -> Any:
    """``resnet34-audio``: spectrograms ``(B, 1, 257, 300)`` -> taps ``audio/1..4``."""
    from automm_media.backbones import AudioBackbone

    return AudioBackbone(**options)


@automm.hookimpl
def automm_register_backbones(register) -> None:
    """Register the ResNet-34 face and spectrogram backbones."""
    register("resnet34-image", image_backbone)
    register("resnet34-audio", audio_backbone)


@automm.hookimpl
def automm_doctor_checks() -> list[Any]:
    """PyAV and the MTCNN weights."""
    from automm_media.doctor import check_mtcnn, check_pyav

    return [check_pyav(), check_mtcnn()]


@automm.hookimpl
def automm_describe_source(source: Any) -> Any:
    """The datasets and backbones of a cache this plugin extracted (None for any other)."""
    from automm_media.source import describe

    return describe(source)


@automm.hookimpl
def automm_register_commands(cli: click.Group) -> None:
    """Add ``extract``, ``predict``, ``export`` and ``weights``."""
    from automm_media.cli import export_command, extract_command, predict_command, weights_command

    cli.add_command(extract_command)
    cli.add_command(predict_command)
    cli.add_command(export_command)
    cli.add_command(weights_command)
