"""automm extract --backbone MODALITY=NAME: any registered backbone, third-party ones included,
and the manifest records each tap's backbone, weights and shapes."""

from __future__ import annotations

import pytest
import torch
from automm_media.backbones import AudioBackbone, ImageBackbone
from automm_media.extractor import ExtractSettings
from click.testing import CliRunner
from videokit import face_frames, speech, write_video

from automm.cli import cli
from automm.data import FeatureCache
from automm.errors import DataError


class Loudness(torch.nn.Module):
    """A third-party audio backbone: band energies of the spectrogram over time, no weights."""

    modality = "audio"

    def __init__(self, L: int = 4) -> None:
        super().__init__()
        self.L = L
        self.taps = [("loudness/bands", 3)]

    def example_input(self, batch: int) -> torch.Tensor:
        return torch.randn(batch, 1, 257, 20)

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        bands = torch.stack([b.mean(dim=(1, 2)) for b in x.chunk(3, dim=2)], dim=1)
        return {"loudness/bands": torch.nn.functional.adaptive_avg_pool1d(bands, self.L)}


@pytest.fixture
def tiny_videos(tmp_path):
    root = tmp_path / "videos"
    for label in ("real", "fake"):
        for person in ("ann", "ben"):
            write_video(root / label / person / "a.mp4", face_frames(12, seed=len(person)),
                        speech(1.5, seed=len(label)))
    return root


def test_a_third_party_backbone_is_used_by_extract_and_recorded(automm_register, tiny_videos, tmp_path):
    automm_register("backbones", "loudness", Loudness)
    out = tmp_path / "cache"
    res = CliRunner().invoke(cli, [
        "extract", str(tiny_videos), "--out", str(out), "--backbone", "audio=loudness", "--backbone",
        "image=none", "--frames", "2", "--crop", "64", "--positions", "4", "--quiet", "--device", "cpu",
        "--fractions", "0.5,0.25,0.25", "--workers", "1"])  # registered in this process only
    assert res.exit_code == 0, res.output
    cache = FeatureCache.open(out)
    assert cache.taps == {"loudness/bands": (3, 4)}
    record = cache.manifest["source"]["backbones"]
    assert list(record) == ["audio"]
    audio = record["audio"]
    assert audio["name"] == "loudness" and audio["pretrained"] is False and audio["weights_sha256"] is None
    assert audio["weights"].startswith("random-init") and audio["taps"] == {"loudness/bands": [3, 4]}
    assert cache.manifest["source"]["settings"]["backbones"] == [["audio", "loudness"]]


def test_weights_for_a_backbone_without_a_weights_option_is_one_line(automm_register, tmp_path):
    automm_register("backbones", "loudness", Loudness)
    weights = tmp_path / "w.pt"
    torch.save({}, weights)
    settings = ExtractSettings(backbones=(("audio", "loudness"),), weights=(("audio", str(weights)),))
    from automm_media.extractor import FeatureExtractor

    with pytest.raises(DataError, match="backbone 'loudness' takes no weights file"):
        FeatureExtractor(settings)


@pytest.mark.parametrize(("args", "message"), [
    (["--backbone", "video=resnet34-image"], "makes inputs for image, audio only"),
    (["--backbone", "audio"], "expected MODALITY=VALUE"),
    (["--backbone", "audio=resnet34-image"], "backbone 'resnet34-image' is for modality 'image'"),
    (["--weights", "depth=x.pt"], "no backbone for modality 'depth'"),
    (["--backbone", "audio=nope"], "unknown backbone 'nope'"),
])
def test_bad_backbone_options_are_one_line(tiny_videos, tmp_path, args, message):
    res = CliRunner().invoke(cli, ["extract", str(tiny_videos), "--out", str(tmp_path / "c"), "--quiet",
                                   "--device", "cpu", *args])
    assert res.exit_code == 2 and message in res.stderr and len(res.stderr.strip().splitlines()) == 1, \
        res.output


@pytest.mark.parametrize(("backbone", "shape"), [(ImageBackbone, (3, 2, 3, 64, 64)),
                                                 (AudioBackbone, (3, 1, 257, 40))])
def test_the_inference_copy_computes_the_same_taps(backbone, shape):
    """Extraction's blocked-layout copy of a ResNet-34 backbone: the original's taps (within
    float rounding), as dense tensors; the original is left as it was."""
    module = backbone(L=4, seed=3)
    fast = module.inference_copy()
    x = torch.rand(shape)
    with torch.inference_mode():
        want, got = module(x), fast(x)
    assert not module.blocked and fast.blocked and list(got) == list(want)
    for tap, value in want.items():
        assert not got[tap].is_mkldnn
        torch.testing.assert_close(got[tap], value, rtol=1e-4, atol=1e-5)
