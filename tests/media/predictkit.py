"""Generated bad inputs of ``automm predict``: model directories with missing, damaged or
non-finite files, exported detectors that are not, and videos that are special files,
truncated, empty, of the wrong container or of huge dimensions. Used by
tests/media/test_predict_fuzz.py and benchmarks/reliability.py."""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from pathlib import Path

import numpy as np
from safetensors.torch import load_file, save_file
from videokit import face_frames, write_video

Make = Callable[[Path], None]
"""Damages a copy of a model directory (or writes a bad video) at the given path."""


def _weights(change: Callable[[dict], dict]) -> Make:
    def make(model: Path) -> None:
        path = model / "model.safetensors"
        save_file(change(load_file(str(path))), str(path))
    return make


def _all_float(value: float) -> Callable[[dict], dict]:
    return lambda s: {k: v * 0 + value if v.is_floating_point() else v for k, v in s.items()}


def _one_inf(state: dict) -> dict:
    key = next(k for k, v in state.items() if v.is_floating_point() and v.numel() > 1)
    state[key] = state[key].clone()
    state[key].view(-1)[-1] = float("inf")
    return state


def _replace(name: str, make: Callable[[Path], None]) -> Make:
    def damage(model: Path) -> None:
        path = model / name
        if path.is_dir() and not path.is_symlink():
            path.rmdir()
        else:
            path.unlink(missing_ok=True)
        make(path)
    return damage


def _truncate(name: str, keep: float) -> Make:
    def damage(model: Path) -> None:
        data = (model / name).read_bytes()
        (model / name).write_bytes(data[: int(len(data) * keep)])
    return damage


def _fifo(path: Path) -> None:
    os.mkfifo(path)


def _socket(path: Path) -> None:
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(path))
    sock.close()


def _loop(path: Path) -> None:
    path.symlink_to(path)


def _random(size: int) -> Callable[[Path], None]:
    data = np.random.default_rng(size).integers(0, 256, size, np.uint8).tobytes()
    return lambda path: path.write_bytes(data)


FILES = {"missing": lambda p: None, "empty": lambda p: p.write_bytes(b""), "fifo": _fifo, "socket": _socket,
         "directory": lambda p: p.mkdir(), "symlink loop": _loop, "random bytes": _random(4096),
         "text": lambda p: p.write_text("hello\n")}
"""Ways a file can be unusable: name -> make(path)."""

MODEL_FAULTS: dict[str, Make] = {
    **{f"model.safetensors {k}": _replace("model.safetensors", f) for k, f in FILES.items()},
    **{f"arch.json {k}": _replace("arch.json", f) for k, f in FILES.items()},
    **{f"metrics.json {k}": _replace("metrics.json", f) for k, f in FILES.items() if k != "missing"},
    "model.safetensors truncated": _truncate("model.safetensors", 0.5),
    "model.safetensors header only": _truncate("model.safetensors", 0.01),
    "weights all NaN": _weights(_all_float(float("nan"))),
    "weights all +inf": _weights(_all_float(float("inf"))),
    "one weight -inf": _weights(_one_inf),
    "weights of another shape": _weights(lambda s: {k: v[..., :1].contiguous() if v.ndim else v
                                                    for k, v in s.items()}),
    "weights missing a tensor": _weights(lambda s: {k: v for k, v in s.items()
                                                    if not k.endswith(".weight")}),
    "arch.json truncated": _truncate("arch.json", 0.5),
    "metrics.json thresholds a string": _replace("metrics.json",
                                                 lambda p: p.write_text('{"thresholds": "x"}')),
}
"""Damaged model directories: each must be one error line (exit 2), no score printed."""

EXPORTED_FAULTS: dict[str, Callable[[Path], None]] = {
    f"{k} ({suffix})": (lambda p, f=f: f(p)) for k, f in FILES.items() if k != "missing"
    for suffix in (".onnx", ".pt")}
"""Files given as ``--model FILE`` that are no exported detector (the suffix is in the name)."""


def _huge(path: Path) -> None:
    write_video(path, np.zeros((1, 4112, 4112, 3), np.uint8), None, fps=1)


def video_faults(good: Path) -> dict[str, Callable[[Path], None]]:
    """Unusable videos, made from the usable video ``good``: name -> make(path)."""
    data = good.read_bytes()
    return {
        **{k: f for k, f in FILES.items() if k != "directory"},
        "directory": lambda p: p.mkdir(),
        "device": lambda p: p.symlink_to("/dev/zero"),
        "truncated to 10%": lambda p: p.write_bytes(data[: len(data) // 10]),
        "truncated to 90%": lambda p: p.write_bytes(data[: len(data) * 9 // 10]),
        "header only": lambda p: p.write_bytes(data[:64]),
        "png image": lambda p: p.write_bytes(b"\x89PNG\r\n\x1a\n" + data[:200]),
        "no video stream": lambda p: write_video(p, None, np.zeros(16000, np.float32)),
        "no audio": lambda p: write_video(p, face_frames(15), None, fps=10),
        "huge dimensions": _huge,
    }
