"""``automm weights convert``: torchvision and AutoSpeech ResNet-34 checkpoints, built here with
random weights, become safetensors files that automm's backbones load and compute the original
networks with; files that cannot fit are one error naming their first mismatched keys."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch
import torch.nn.functional as F
import torchvision
from automm_media.backbones import AudioBackbone, ImageBackbone, ResNet34Taps
from automm_media.weights import convert, load_state_dict_file, trunk_shapes
from click.testing import CliRunner
from safetensors.torch import save_file
from torch import nn

from automm.cli import cli
from automm.errors import DataError


def _randomise_norms(net: nn.Module) -> nn.Module:
    """Batch-norm statistics and affines off their init values, so that a wrongly loaded one shows."""
    g = torch.Generator().manual_seed(1)
    for m in net.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.copy_(torch.randn(m.num_features, generator=g) * 0.1)
            m.running_var.copy_(torch.rand(m.num_features, generator=g) + 0.5)
            m.weight.data.copy_(torch.rand(m.num_features, generator=g) + 0.5)
            m.bias.data.copy_(torch.randn(m.num_features, generator=g) * 0.1)
    return net.eval()


def _stages(net: nn.Module, x: torch.Tensor) -> list[torch.Tensor]:
    return ResNet34Taps.stages(SimpleNamespace(net=net, blocked=False), x)  # type: ignore[arg-type]


def autospeech_resnet34() -> nn.Module:
    """AutoSpeech's ResNet-34 (models/resnet.py): torchvision's trunk with a 1-channel conv1 padded
    by 2, no ``fc`` and a ``classifier`` head over the VoxCeleb1 speakers; it reads (time, freq)."""
    torch.manual_seed(2)
    net = torchvision.models.resnet34(weights=None)
    net.conv1 = nn.Conv2d(1, 64, kernel_size=7, stride=2, padding=2, bias=False)
    net.fc = nn.Identity()
    net.classifier = nn.Linear(512, 1251)
    return _randomise_norms(net)


def test_a_torchvision_state_dict_in_a_wrapped_checkpoint_converts_to_the_same_network(tmp_path):
    torch.manual_seed(0)
    original = _randomise_norms(torchvision.models.resnet34(weights=None))
    torch.save({"epoch": 3, "model": {f"module.{k}": v for k, v in original.state_dict().items()}},
               tmp_path / "resnet34.pth")
    used, channels = convert(tmp_path / "resnet34.pth", tmp_path / "image.safetensors")
    assert (used, channels) == ("torchvision", 3)
    converted = load_state_dict_file(tmp_path / "image.safetensors")
    assert set(converted) == set(trunk_shapes(3))  # fc.* dropped, nothing else
    image = ImageBackbone(weights=tmp_path / "image.safetensors")
    x = torch.rand(2, 3, 3, 64, 64)
    with torch.no_grad():
        got = image.stages((x.flatten(0, 1) - image.mean) / image.std)
        want = _stages(original, (x.flatten(0, 1) - image.mean) / image.std)
    for g, w in zip(got, want, strict=True):
        assert torch.equal(g, w)


def test_an_autospeech_checkpoint_computes_autospeech_on_automm_spectrograms(tmp_path):
    original = autospeech_resnet34()
    torch.save({"epoch": 30, "state_dict": original.state_dict(), "best_acc1": 81.3,
                "optimizer": {"state": {}, "param_groups": [{"lr": 0.01}]},
                "path_helper": {"ckpt_path": "logs/resnet34/Model"}}, tmp_path / "checkpoint_best.pth")
    assert convert(tmp_path / "checkpoint_best.pth", tmp_path / "audio.safetensors") == ("autospeech", 1)
    audio = AudioBackbone(weights=tmp_path / "audio.safetensors").double()  # float64: summation order
    original.double()  # of the transposed convolutions differs, so float32 differs in the last bits
    x = torch.randn(2, 1, 257, 100, dtype=torch.float64)  # automm: (frequency, time)
    # AutoSpeech's conv1 pads 2 where automm's pads 3: the same network on one zero bin and frame more
    reference_input = F.pad(x, (1, 1, 1, 1)).transpose(-1, -2)
    with torch.no_grad():
        got, want = audio.stages(x), _stages(original, reference_input)
    for g, w in zip(got, want, strict=True):
        torch.testing.assert_close(g, w.transpose(-1, -2), rtol=1e-9, atol=1e-9)


def test_the_wrong_layout_or_a_narrower_speaker_resnet_is_one_error_naming_keys(tmp_path):
    torch.save({"state_dict": autospeech_resnet34().state_dict()}, tmp_path / "autospeech.pt")
    wrong = r"layout torchvision: unexpected classifier\.weight, classifier\.bias"
    with pytest.raises(DataError, match=wrong):
        convert(tmp_path / "autospeech.pt", tmp_path / "out.safetensors", layout="torchvision")
    # WeSpeaker ResNet34 as pyannote wraps it: ResNet-34 blocks at half the widths, an embedding head
    narrow = {f"resnet.{k}": torch.zeros([d // 2 if d in (64, 128, 256, 512) else d for d in shape])
              for k, shape in trunk_shapes(1).items()}
    narrow["resnet.seg_1.weight"] = torch.zeros(256, 5120)
    save_file(narrow, str(tmp_path / "wespeaker.safetensors"))
    with pytest.raises(DataError) as info:
        convert(tmp_path / "wespeaker.safetensors", tmp_path / "out.safetensors")
    message = str(info.value)
    assert "unexpected seg_1.weight" in message
    assert "shape of conv1.weight (32, 1, 7, 7) (expected (64, 1, 7, 7))" in message
    assert "stage widths 32-64-128-256 are not ResNet-34's 64-128-256-512" in message
    assert not (tmp_path / "out.safetensors").exists()


def test_cli_converts_and_refuses_in_one_line(tmp_path):
    torch.save(torchvision.models.resnet34(weights=None).state_dict(), tmp_path / "resnet34.pt")

    def run(source: str, out: str):
        return CliRunner().invoke(cli, ["weights", "convert", str(tmp_path / source), "-o",
                                        str(tmp_path / out)])

    ok = run("resnet34.pt", "w.safetensors")
    assert ok.exit_code == 0, ok.output
    assert "layout torchvision" in ok.output and f"--weights image={tmp_path / 'w.safetensors'}" in ok.output
    torch.save({"encoder.blocks.0.weight": torch.zeros(3)}, tmp_path / "ecapa.pt")
    bad = run("ecapa.pt", "e.safetensors")
    lines = bad.output.strip().splitlines()
    assert bad.exit_code == 2 and len(lines) == 1, bad.output
    assert lines[0].startswith("automm: error: ")
    assert "missing conv1.weight, bn1.weight, bn1.bias (+213 more); unexpected encoder.blocks.0.weight" \
        in lines[0]
    wrong = run("resnet34.pt", "w.pt")
    assert wrong.exit_code == 2 and "must be a .safetensors file" in wrong.output


def test_the_backbone_names_mismatched_keys_and_points_to_convert(tmp_path):
    torch.save({"model": autospeech_resnet34().state_dict()}, tmp_path / "autospeech.pt")
    with pytest.raises(DataError, match=r"unexpected classifier\.weight.*automm weights convert"):
        AudioBackbone(weights=tmp_path / "autospeech.pt")
