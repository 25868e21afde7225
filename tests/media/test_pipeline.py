"""Pieces of the media pipeline: alignment maths, MTCNN output quirks, spectrogram, backbones."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torchvision
from automm_media.audio import LogSpectrogram
from automm_media.backbones import AudioBackbone, ImageBackbone, state_sha256
from automm_media.faces import _floats, invert_affine, similarity, warp
from safetensors.torch import save_file

from automm import plugins
from automm.errors import DataError


def test_similarity_recovers_a_known_transform():
    rng = np.random.default_rng(0)
    src = rng.uniform(0, 100, (5, 2))
    angle, scale, shift = 0.3, 1.7, np.array([5.0, -3.0])
    rot = scale * np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    m = similarity(src, src @ rot.T + shift)
    np.testing.assert_allclose(m, np.concatenate([rot, shift[:, None]], 1), atol=1e-9)
    np.testing.assert_allclose(invert_affine(invert_affine(m)), m, atol=1e-9)


def test_warp_with_identity_map_is_identity():
    image = torch.rand(2, 3, 16, 20)
    eye = np.tile(np.array([[1.0, 0, 0], [0, 1.0, 0]]), (2, 1, 1))
    torch.testing.assert_close(warp(image, eye, (16, 20)), image, atol=1e-5, rtol=0)


def test_mtcnn_object_arrays_are_read_as_floats():
    assert _floats(None) is None
    assert _floats(np.array([None], dtype=object)) is None
    boxes = np.empty(1, dtype=object)
    boxes[0] = np.array([[1.0, 2.0, 3.0, 4.0]], dtype=object)
    assert _floats(boxes[0]).dtype == np.float32 and _floats(boxes[0]).shape == (1, 4)


@pytest.mark.parametrize("seconds", [0.5, 3.0, 5.0])
def test_spectrogram_is_257_by_300(seconds):
    spec = LogSpectrogram()(np.random.default_rng(0).standard_normal(int(16000 * seconds)))
    assert spec.shape == (1, 257, 300) and torch.isfinite(spec).all()


def test_backbones_are_registered_and_expose_four_pooled_taps():
    image = plugins.backbones.get("resnet34-image")(L=3)
    audio = plugins.backbones.get("resnet34-audio")(L=5, seed=1)
    assert isinstance(image, ImageBackbone) and isinstance(audio, AudioBackbone)
    with torch.inference_mode():
        img = image(torch.rand(2, 4, 3, 64, 64))
        aud = audio(torch.randn(2, 1, 257, 300))
    assert {k: tuple(v.shape) for k, v in img.items()} == {
        f"image/{i}": (2, c, 3) for i, c in enumerate((64, 128, 256, 512), 1)}
    assert {k: tuple(v.shape) for k, v in aud.items()} == {
        f"audio/{i}": (2, c, 5) for i, c in enumerate((64, 128, 256, 512), 1)}
    assert image.describe()["weights"] == "random-init (seed 0)"
    image.train()
    assert not image.training  # a frozen feature extractor


def test_random_init_is_seeded_and_leaves_the_global_rng_alone():
    torch.manual_seed(123)
    before = torch.rand(1)
    torch.manual_seed(123)
    first = state_sha256(ImageBackbone(seed=0).net)
    assert torch.equal(torch.rand(1), before)
    assert first == state_sha256(ImageBackbone(seed=0).net) != state_sha256(ImageBackbone(seed=1).net)


def test_weights_from_local_files(tmp_path):
    state = torchvision.models.resnet34(weights=None).state_dict()
    save_file(state, str(tmp_path / "w.safetensors"))
    torch.save({"state_dict": {f"module.{k}": v for k, v in state.items()}}, tmp_path / "w.pt")
    for name in ("w.safetensors", "w.pt"):
        image = ImageBackbone(weights=tmp_path / name)
        torch.testing.assert_close(image.net.conv1.weight, state["conv1.weight"])
        assert image.describe()["weights"] == str((tmp_path / name).resolve())
    audio = AudioBackbone(weights=tmp_path / "w.safetensors")  # 3-channel conv1 summed to 1 channel
    torch.testing.assert_close(audio.net.conv1.weight, state["conv1.weight"].sum(1, keepdim=True))
    torch.save({"conv1.weight": torch.zeros(1)}, tmp_path / "bad.pt")
    with pytest.raises(DataError, match="not ResNet-34 weights"):
        ImageBackbone(weights=tmp_path / "bad.pt")
    (tmp_path / "junk.pt").write_bytes(b"not a torch file")
    with pytest.raises(DataError, match="cannot read weights"):
        ImageBackbone(weights=tmp_path / "junk.pt")
