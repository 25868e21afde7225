"""Backbone weight files: read a state dict safely (nested checkpoints, wrapper prefixes), check
it against automm's ResNet-34 trunk naming the first mismatched keys, and convert the layouts of
common checkpoints into the safetensors file ``automm extract --weights`` reads.

Layouts (``automm weights convert --layout``):

- ``torchvision``: ``torchvision.models.resnet34`` state dicts (ImageNet weights for faces); the
  classifier ``fc.*`` is dropped, every other tensor is kept as it is.
- ``autospeech``: the VoxCeleb ResNet-34 of AutoSpeech (Ding et al. 2020, the speech backbone the
  STGS-BMNAS paper cites; github.com/VITA-Group/AutoSpeech ``models/resnet.py``): torchvision's
  key names and widths with a 1-channel ``conv1`` and a ``classifier.*`` head (dropped). It reads
  spectrograms as time x frequency where automm's are frequency x time, so every convolution
  kernel is transposed: automm then computes AutoSpeech's network on the transposed input, up to
  ``conv1``'s padding (AutoSpeech pads 2, torchvision 3: one zero frame and bin more each side).

Narrower speaker ResNet-34s (voxceleb_trainer's ResNetSE34L/V2, WeSpeaker's ResNet34: widths
32-64-128-256 or less) have other tensor shapes; no renaming of keys can load them.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Mapping
from pathlib import Path

import torch

from automm.errors import DataError
from automm.fileio import atomic_path, not_regular, quiet_loader

STAGE_WIDTHS = (64, 128, 256, 512)
NESTED = ("state_dict", "model", "model_state_dict", "net")
"""Keys under which checkpoints commonly hold their state dict."""
SHOWN = 3
"""Mismatched keys named in an error, per kind."""

State = dict[str, torch.Tensor]


def load_state_dict_file(path: str | os.PathLike[str]) -> State:
    """The tensors of a ``.safetensors`` file or a torch file loaded with ``weights_only=True``:
    a checkpoint's state dict (under ``state_dict``, ``model``, ...), the trunk of a wrapped
    model (keys below ``module.``, ``backbone.``, ...: :func:`_trunk`); other entries are left
    out."""
    p = Path(path)
    problem = not_regular(p)
    if problem:
        raise DataError(f"{p}: cannot read weights: {problem}")
    try:
        with quiet_loader():
            if p.suffix == ".safetensors":
                from safetensors.torch import load_file

                state = load_file(str(p))
            else:
                state = torch.load(p, map_location="cpu", weights_only=True)
    except Exception as exc:  # any parse failure of a user file is one clear error
        raise DataError(f"{p}: cannot read weights: {type(exc).__name__}: {exc}") from None
    while isinstance(state, Mapping):  # a state dict holds tensors only: a mapping in it is a checkpoint's
        inner = next((state[k] for k in NESTED if isinstance(state.get(k), Mapping)), None)
        if inner is None:
            break
        state = inner
    if not isinstance(state, Mapping) or not any(isinstance(v, torch.Tensor) for v in state.values()):
        raise DataError(f"{p}: not a state dict of tensors (nor a checkpoint holding one under "
                        f"{', '.join(NESTED)})")
    return _trunk({str(k): v for k, v in state.items() if isinstance(v, torch.Tensor)})


def _trunk(state: State) -> State:
    """The entries below the shortest prefix (``module.``, ``backbone.``, ``resnet.``, ...) that
    holds both ``conv1.weight`` and ``layer1.0.conv1.weight``; all of them when none does."""
    anchor = "layer1.0.conv1.weight"
    prefixes = [k[:-len(anchor)] for k in state if k.endswith(anchor)]
    prefix = min((p for p in prefixes if f"{p}conv1.weight" in state and (not p or p.endswith("."))),
                 key=len, default="")
    return {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}


@functools.lru_cache(maxsize=4)
def trunk_shapes(in_channels: int) -> dict[str, tuple[int, ...]]:
    """Key -> shape of automm's ResNet-34 trunk (torchvision's names, no ``fc``)."""
    import torchvision

    with torch.device("meta"):
        net = torchvision.models.resnet34(weights=None)
        net.conv1 = torch.nn.Conv2d(in_channels, 64, 7, 2, 3, bias=False)
    return {k: tuple(v.shape) for k, v in net.state_dict().items() if not k.startswith("fc.")}


def _names(keys: list[str]) -> str:
    more = f" (+{len(keys) - SHOWN} more)" if len(keys) > SHOWN else ""
    return ", ".join(keys[:SHOWN]) + more


def mismatch(state: Mapping[str, torch.Tensor], in_channels: int) -> str | None:
    """Why ``state`` does not load into the trunk (first missing, unexpected and misshapen keys,
    and whether its widths are ResNet-34's), or None when it does."""
    expected = trunk_shapes(in_channels)
    missing = [k for k in expected if k not in state]
    unexpected = [k for k in state if k not in expected]
    shapes = [f"{k} {tuple(state[k].shape)} (expected {expected[k]})"
              for k in expected if k in state and tuple(state[k].shape) != expected[k]]
    if not (missing or unexpected or shapes):
        return None
    parts = [f"{what} {_names(keys)}" for what, keys in
             (("missing", missing), ("unexpected", unexpected), ("shape of", shapes)) if keys]
    widths = tuple(int(state[f"layer{i}.0.conv1.weight"].shape[0]) for i in range(1, 5)
                   if f"layer{i}.0.conv1.weight" in state)
    if len(widths) == 4 and widths != STAGE_WIDTHS:
        parts.append(f"its stage widths {'-'.join(map(str, widths))} are not ResNet-34's "
                     f"{'-'.join(map(str, STAGE_WIDTHS))}, so no renaming of keys can load it")
    return "; ".join(parts)


def _torchvision(state: State) -> State:
    return {k: v for k, v in state.items() if not k.startswith("fc.")}


def _autospeech(state: State) -> State:
    return {k: v.transpose(-1, -2) if v.ndim == 4 else v for k, v in state.items()
            if not k.startswith(("classifier.", "fc."))}


LAYOUTS: dict[str, Callable[[State], State]] = {"torchvision": _torchvision, "autospeech": _autospeech}
"""Checkpoint layout -> its mapping onto automm's trunk (see the module docstring)."""


def detect_layout(state: Mapping[str, torch.Tensor]) -> str:
    """``autospeech`` for a 1-channel ``conv1`` with AutoSpeech's ``classifier`` head, else
    ``torchvision``."""
    conv = state.get("conv1.weight")
    speech = "classifier.weight" in state and conv is not None and conv.ndim == 4 and conv.shape[1] == 1
    return "autospeech" if speech else "torchvision"


def convert(source: str | os.PathLike[str], out: str | os.PathLike[str], layout: str = "auto"
            ) -> tuple[str, int]:
    """Write the ResNet-34 trunk of the checkpoint ``source`` (``layout``: a name of
    :data:`LAYOUTS` or ``auto``) to the safetensors file ``out``; return the layout used and
    the input channels of its ``conv1``. A state dict that does not fit is one error naming
    its first mismatched keys; nothing is written then."""
    from safetensors.torch import save_file

    target = Path(out)
    if target.suffix != ".safetensors":
        raise DataError(f"{target}: the output must be a .safetensors file")
    state = load_state_dict_file(source)
    used = detect_layout(state) if layout == "auto" else layout
    trunk = LAYOUTS[used](state)
    conv = trunk.get("conv1.weight")
    channels = int(conv.shape[1]) if conv is not None and conv.ndim == 4 and conv.shape[1] in (1, 3) else 3
    problem = mismatch(trunk, channels)
    if problem:
        raise DataError(f"{source}: not a ResNet-34 of layout {used}: {problem}")
    tensors = {k: v.detach().to("cpu").contiguous().clone() for k, v in trunk.items()}
    with atomic_path(target) as tmp:
        save_file(tensors, str(tmp), metadata={"automm.layout": used, "automm.source": Path(source).name})
    return used, channels
